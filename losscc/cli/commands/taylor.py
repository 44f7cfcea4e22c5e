"""losscc taylor: any analytic loss → a certified polynomial → a LossBase cell.

Imports nothing heavy at module level: ``losscc --help`` stays fast.
"""
from __future__ import annotations

import argparse
import sys

from ..options import add_class_output, add_reduction, read_formula

HELP = "truncate an analytic loss (exp, log, tanh, ...) to a polynomial, with its error"

EPILOG = """\
The formula may use exp, log, sqrt, cosh, sinh, tanh, sin, cos, atan, erf,
abs, square, mul, the constants pi and E, division by any expression and real
exponents. A loss of abs(d) only (e.g. log(1 + abs(d))) is expanded in |d|.

The report gives the polynomial, its degree and operations, the Taylor
series' radius of convergence, the float32 program's error measured on a
dense grid, and a bound on that error proven by interval arithmetic.

With --tol the method is auto: the cheapest (fewest operations) of Taylor,
Chebyshev and structured or piecewise cells whose certified error meets
EPS. Its error measure is mixed, |cell - f| / max(1, |f|): EPS is absolute
where |f| <= 1 and relative beyond. --range inf asks for all of R: a loss
with a linear or constant asymptote (log(cosh(d)), log(1 + exp(d)),
1 - exp(-d^2/2)) becomes its asymptote plus a polynomial of a clipped |d|,
certified for every float32 d up to 3.4e38. See docs/approximation.md.

examples:
  losscc taylor "log(cosh(d))" --order 8
  losscc taylor "log(cosh(d))" --tol 1e-5 --range inf
  losscc taylor "log(cosh(d))" --tol 1e-4 --range 1
  losscc taylor "log(cosh(d))" --method chebyshev --range 3 --order 12 -o logcosh.py
  losscc taylor "sqrt(1 + d^2) - 1" --order 6 --json
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("taylor", help=HELP, description=HELP + ".", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("formula", help="the loss, in d = pred - target; '-' reads standard input")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--order", type=int, default=None, metavar="N",
                      help="the highest power kept (default 8)")
    size.add_argument("--tol", type=float, default=None, metavar="EPS",
                      help="the cheapest cell whose certified error on the range is <= EPS "
                      "(mixed with --method auto, the default with --tol)")
    p.add_argument("--range", type=float, default=None, metavar="R",
                   help="the report (and Chebyshev) covers d in [-R, R]; inf: all of R "
                   "(--tol only); default for Taylor: 1, or half the radius of convergence "
                   "if that is smaller")
    p.add_argument("--about", type=float, default=0.0, metavar="C",
                   help="the Taylor expansion point (default 0); the report and --range "
                   "still cover d in [-R, R]")
    p.add_argument("--method", choices=("auto", "taylor", "chebyshev"), default="auto",
                   help="auto (the default: with --tol, the cheapest certified of Taylor, "
                   "Chebyshev and structured cells; with --order, Taylor), taylor, or "
                   "chebyshev (near-minimax on [-R, R]; needs --range)")
    add_reduction(p)
    add_class_output(p)
    p.add_argument("--json", action="store_true",
                   help="print the report (and the source, unless -o) as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ...compiler.emit import check_name
    from ...files import write_output
    from ...floats import json_text
    from ...series import approximate

    name = check_name(args.name)
    result = approximate(read_formula(args.formula), order=args.order, tol=args.tol,
                         range=args.range, about=args.about, method=args.method,
                         reduction=args.reduction)
    source = result.source(name)
    if args.output == "-":
        args.output = None  # standard output, as without -o
    if args.output is not None:
        write_output(args.output, source, force=args.force)
    if args.json:
        out = result.report.to_json()
        out["output" if args.output else "source"] = args.output or source
        sys.stdout.write(json_text(out) + "\n")
    elif args.output:
        sys.stdout.write(result.report.text() + "\n")
        print(f"wrote {args.output}: class {name}, {result.program.op_count} element-wise "
              "operations", file=sys.stderr)
    else:
        # The report as comments: the whole output is still a Python module.
        report = "\n".join(f"# {line}" for line in result.report.text().splitlines())
        sys.stdout.write(report + "\n\n" + source)
    return 0
