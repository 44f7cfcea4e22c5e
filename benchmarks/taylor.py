#!/usr/bin/env python
"""How long `losscc taylor` takes, against SymPy's `series` alone.

    python benchmarks/taylor.py            # 15 rounds
    python benchmarks/taylor.py --rounds 5 # a quicker look

The issue's targets: losscc (parse + expand + radius + grid error + certified
bound + code generation) within 3x of the bare ``sympy.series`` call, for
log(cosh(d)), sqrt(1 + d^2) - 1 and exp(-d^2) at degrees 8, 16, 24; and the
certified bound under a second at degree 16.

Method: in one process, after one warm-up of each, the two runs of a row
alternate (A B, B A, ...) for ``--rounds`` rounds; SymPy's cache is cleared
before every run of either, so neither reuses the other's work (losscc
builds its expression with SymPy too). Reported: the median and the minimum,
and the ratio of medians. The expansion alone (losscc's recurrences against
``series``) and the certified bound are timed the same way, alone
(``losscc.series.certify`` on the compiled degree-16 program). Last, whole
processes: ``losscc taylor`` on the command line against ``python -c`` that
imports SymPy and calls ``series`` (both pay their imports).
"""
from __future__ import annotations

import argparse
import functools
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

os.environ.setdefault("GLOG_v", "4")

import sympy as sp  # noqa: E402
from sympy.core.cache import clear_cache  # noqa: E402

from losscc import series  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
D = sp.Symbol("d", real=True)
# formula for losscc, the same function built with SymPy's constructors
FUNCTIONS = {
    "log(cosh(d))": sp.log(sp.cosh(D)),
    "sqrt(1 + d^2) - 1": sp.sqrt(1 + D**2) - 1,
    "exp(-d^2)": sp.exp(-D**2),
}
DEGREES = (8, 16, 24)


def timed(run: Callable[[], object]) -> float:
    clear_cache()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def interleaved(a: Callable, b: Callable, rounds: int) -> tuple[list[float], list[float]]:
    timed(a), timed(b)  # warm-up
    ta, tb = [], []
    for i in range(rounds):
        if i % 2:
            tb.append(timed(b)), ta.append(timed(a))
        else:
            ta.append(timed(a)), tb.append(timed(b))
    return ta, tb


def losscc_run(formula: str, degree: int) -> Callable[[], str]:
    return lambda: series.approximate(formula, order=degree).source()


def sympy_run(expr, degree: int) -> Callable[[], object]:
    return lambda: sp.series(expr, D, 0, degree + 1)


def ms(ts: list[float]) -> str:
    return f"{1000 * statistics.median(ts):8.1f} ms (min {1000 * min(ts):7.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, sympy {sp.__version__}, "
          f"{os.cpu_count()} CPUs, {args.rounds} interleaved rounds, median (min)\n")

    print("1. losscc taylor (in process: parse, expand, radius, grid, bound, source)"
          " vs sympy.series")
    print(f"{'function':20} {'deg':>3}  {'losscc':>28}  {'sympy.series':>28}  ratio")
    worst = 0.0
    for formula, expr in FUNCTIONS.items():
        for degree in DEGREES:
            ta, tb = interleaved(losscc_run(formula, degree), sympy_run(expr, degree),
                                 args.rounds)
            ratio = statistics.median(ta) / statistics.median(tb)
            worst = max(worst, ratio)
            print(f"{formula:20} {degree:3d}  {ms(ta)}  {ms(tb)}  {ratio:5.2f}x")
    print(f"worst ratio: {worst:.2f}x (target: within 3x)\n")

    print("2. the expansion alone: losscc's power-series recurrences vs sympy.series")
    for formula, expr in FUNCTIONS.items():
        target = series.prepare(formula)
        for degree in (8, 24):
            ta, tb = interleaved(functools.partial(series.taylor_polynomial, target, degree),
                                 sympy_run(expr, degree), args.rounds)
            print(f"{formula:20} {degree:3d}  {ms(ta)}  {ms(tb)}  "
                  f"sympy/losscc {statistics.median(tb) / statistics.median(ta):5.0f}x")
    print()

    print("3. the certified bound alone, degree 16")
    cases = [(f, dict(order=16)) for f in FUNCTIONS]
    cases.append(("log(cosh(d))", dict(order=16, method="chebyshev", range=2.0)))
    for formula, options in cases:
        a = series.approximate(formula, **options)
        target = series.prepare(formula)
        r = a.report.range
        lo, hi = (0.0, r) if target.through_abs else (-r, r)
        measured = a.report.max_abs_error
        how = options.get("method", "taylor")
        # as losscc.series.approximate calls it
        bound = functools.partial(series.certify, target, a.program, lo, hi, r, measured,
                                  first_pieces=4 if how == "taylor" else 8)
        timed(bound)
        ts = [timed(bound) for _ in range(args.rounds)]
        print(f"{formula:20} {how:9} [-{r:g}, {r:g}]  {ms(ts)}  "
              f"bound {a.report.certified_bound:.3g} >= measured {measured:.3g}, "
              f"{a.report.pieces} pieces")
    print("(target: under a second)\n")

    print("4. whole processes (imports included), log(cosh(d)) at degree 16")
    cli = [sys.executable, "-m", "losscc", "taylor", "log(cosh(d))", "--order", "16"]
    bare = [sys.executable, "-c", ("import sympy as sp; d = sp.Symbol('d', real=True); "
                                   "sp.series(sp.log(sp.cosh(d)), d, 0, 17)")]
    tc, tb = [], []
    rounds = max(3, args.rounds // 3)
    for i in range(rounds):
        for command, ts in ((cli, tc), (bare, tb)) if i % 2 == 0 else ((bare, tb), (cli, tc)):
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, cwd=REPO)
            ts.append(time.perf_counter() - start)
    print(f"losscc taylor        {ms(tc)}")
    ratio = statistics.median(tc) / statistics.median(tb)
    print(f"python + sympy.series {ms(tb)}   ratio {ratio:.2f}x ({rounds} rounds)")


if __name__ == "__main__":
    main()
