"""The optimisation pipeline: small pure passes, IR in, IR out, in order.

Each pass keeps the meaning of the program (tests check every pass against
the NumPy evaluator) and never makes it longer (``count_ops`` before and
after). ``optimise`` runs them all and records what each one did.

>>> from losscc import ir
>>> d = ir.var("d")
>>> root, trace = optimise(ir.mul(ir.mul(ir.mul(d, d), d), d))   # d*d*d*d
>>> ir.describe(root)
'square(square(d))'
>>> trace
[('input', 3), ('fold_constants', 3), ('identities', 3), ('polynomials', 2), ('lower_robust', 2), ('lower_powers', 2), ('tidy', 2)]
"""
from __future__ import annotations

from typing import Callable

from ... import ir
from .fold import fold_constants
from .poly import polynomials
from .powers import count_ops, lower_powers
from .robust import lower_robust
from .rules import identities


def tidy(root: ir.Node) -> ir.Node:
    """Identities and folding once more, for what lowering left behind."""
    return fold_constants(identities(root))


PIPELINE: list[tuple[str, Callable[[ir.Node], ir.Node]]] = [
    ("fold_constants", fold_constants),
    ("identities", identities),
    ("polynomials", polynomials),
    ("lower_robust", lower_robust),
    ("lower_powers", lower_powers),
    ("tidy", tidy),
]


def optimise(root: ir.Node) -> tuple[ir.Node, list[tuple[str, int]]]:
    """Run the pipeline; return the result and the op count after each pass."""
    trace = [("input", count_ops(root))]
    for name, run in PIPELINE:
        root = run(root)
        trace.append((name, count_ops(root)))
    return root, trace
