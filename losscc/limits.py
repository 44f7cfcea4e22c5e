"""The limits losscc puts on what it is given, in one table.

Every entry point (the CLI, the Python API with strings or SymPy objects,
CSV files) checks its input against these before any expensive work, and
refuses with a message naming the limit. docs/architecture.md lists them.
"""
from __future__ import annotations

# Reading: standard input and files.
MAX_FORMULA_BYTES = 1 << 20  # a formula read from standard input (1 MiB), comments included
MAX_DATA_BYTES = 1 << 28  # a --data CSV file (256 MiB: 5 to 16 times that in memory while read)

# The formula language (both front ends).
MAX_FORMULA_LENGTH = 1 << 20  # characters of a formula string, comments included
MAX_FORMULA_CODE = 20000  # characters of a formula that are neither comment nor blank
MAX_EXPONENT = 1024  # the largest whole power a formula may write, d^1024
MAX_DEGREE = 1024  # the degree of a compiled loss in its inputs: square(square(d)) has 4
MAX_SYMBOLIC_DEPTH = 64  # nesting of calls and powers in a formula for SymPy (the Taylor route)
MAX_SYMBOLIC_NODES = 1000  # parse-tree nodes in a formula for SymPy
MAX_SYMBOLIC_BITS = 1024  # bits of an integer, numerator or denominator in a SymPy expression

# The compiler's polynomial pass: beyond these a region stays as written.
MAX_POLY_DEGREE = 1024  # per atom
MAX_POLY_TERMS = 512
MAX_POLY_CANDIDATES = 256  # polynomials lowered per region while trying forms of abs(...)

# The analysis (losscc analyze, train, compare): SymPy's exact root finding.
MAX_ANALYSIS_DEGREE = 32  # the degree of the loss in d
MAX_ANALYSIS_KINKS = 16  # kinks the loss may have: the degrees of its abs(...) arguments, added

# The Taylor route.
MAX_SERIES_DEGREE = 64  # the highest degree --order takes and --tol tries

# Training (losscc train and compare): options beyond these are refused before any work.
MAX_SEED = 4294967295  # 2^32 - 1: what ms.set_seed and NumPy's RandomState take
MAX_HIDDEN = 10000  # units of the hidden layer (--hidden)
MAX_EPOCHS = 10000
MAX_REPEAT = 10000  # passes over the rows per epoch
MAX_BATCH_SIZE = 65536  # rows per step and worker
MAX_STEPS = 1000000  # optimiser steps in one run, after --min-steps
# Rows fed to training over a run (passes x rows): the row order is drawn up front.
MAX_ROWS_SEEN = 100000000
MAX_WORKERS = 64  # local msrun workers (--workers)
