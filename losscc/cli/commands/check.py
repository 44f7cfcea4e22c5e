"""losscc check: does the compiled cell compute its formula, in every mode and dtype?"""
from __future__ import annotations

import argparse
import os
import sys

from ..options import add_formula, add_reduction, read_formula

MISMATCH = 3  # distinct from 1, the CLI's internal error (train uses 3 for a diverged run)

HELP = "check a compiled loss against NumPy values and SymPy gradients in MindSpore"

EPILOG = """\
The cell runs in GRAPH_MODE and PYNATIVE_MODE, in float32, float16 and
float64, on random inputs of several shapes. Its values are compared with
losscc's NumPy evaluator and its gradients (mindspore.value_and_grad, with
respect to the prediction) with SymPy's derivative of the formula, both for
the element-wise loss and for the loss with its reduction. The loss analysis
(see `losscc analyze`) follows.

exit status: 0 everything matches, 3 a mismatch, 2 a bad formula, 1 an internal error.

examples:
  losscc check "square(square(d))"
  losscc check "abs(d)^3 + d^2" --reduction -mean --mode graph --dtype float32
"""


def register(sub: argparse._SubParsersAction) -> None:
    from ...compiler.runtime import DTYPES, MODES  # not tools.check: registering stays cheap

    p = sub.add_parser("check", help=HELP, description=HELP + ".", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_formula(p)
    add_reduction(p)
    p.add_argument("--mode", choices=MODES, action="append", default=None,
                   help="a MindSpore execution mode to check (repeatable; default: both)")
    p.add_argument("--dtype", choices=DTYPES, action="append", default=None,
                   help="an input dtype to check (repeatable; default: all three)")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the random inputs (default 0)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(run=run)


def _seed(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"a seed is a whole number >= 0, not {text.strip()}")
    return value


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("GLOG_v", "3")  # MindSpore's C++ log: errors only
    from ...analysis.analyze import analyze
    from ...compiler.program import build
    from ...floats import json_text
    from ...tools.check import DTYPES, MODES, check

    program = build(read_formula(args.formula), args.reduction)
    report = check(program, modes=tuple(dict.fromkeys(args.mode or MODES)),
                   dtypes=tuple(dict.fromkeys(args.dtype or DTYPES)),
                   seed=args.seed)
    analysis = analyze(program)
    if args.json:
        sys.stdout.write(json_text({**report.to_json(), "analysis": analysis.to_json()}) + "\n")
    else:
        print(report.render())
        print()
        print(analysis.render())
    if not report.ok:
        what = (f"{len(report.failures)} comparisons out of tolerance" if report.compared
                else "nothing could be compared")
        print(f"losscc: check failed: {what}", file=sys.stderr)
        return MISMATCH
    return 0
