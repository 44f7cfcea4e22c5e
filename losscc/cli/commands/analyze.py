"""losscc analyze: what a loss's shape means for training, before any training."""
from __future__ import annotations

import argparse
import sys

from ..options import add_formula, add_reduction, read_formula

HELP = "analyse a loss: bounded below? minimum at d = 0? convex? how fast it grows?"

EPILOG = """\
Each verdict is computed from the compiled loss (SymPy limits, extrema,
derivatives and degrees), not looked up. Lines marked '!' are warnings:
e.g. a loss that is not bounded below diverges when minimised. Losses of
degree above 32, or with more than 16 kinks, are not analysed (exit 2):
exact root finding would take too long; compile's warnings are shown.

examples:
  losscc analyze "square(d)" --reduction -mean    the seed article's diverging run
  losscc analyze "square(square(d))"              gradients grow like |d|^3
  losscc analyze "abs(d)" --json
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help=HELP, description=HELP, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_formula(p)
    add_reduction(p)
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ...analysis.analyze import analyze
    from ...compiler.program import build
    from ...floats import json_text

    report = analyze(build(read_formula(args.formula), args.reduction))
    if args.json:
        sys.stdout.write(json_text(report.to_json()) + "\n")
    else:
        print(report.render())
    if report.refused:  # the limits keep the analysis from taking unbounded time
        print(f"losscc: {report.refused}", file=sys.stderr)
        return 2
    return 0
