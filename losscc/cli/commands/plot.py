"""losscc plot: losses and their gradients over d, in one PNG."""
from __future__ import annotations

import argparse
import sys

HELP = "plot losses and their gradients over d = pred - target (needs matplotlib)"

EPILOG = """\
The left panel shows each element-wise loss, the right its derivative with
respect to the prediction: a kink (abs) is a jump there, a steep power a
gradient that explodes at the edges. A formula in pred and target is drawn
along pred with target = 0. Needs matplotlib: pip install 'losscc[plot]'.

examples:
  losscc plot "abs(d)" "square(d)" "square(square(d))" -o losses.png
  losscc plot "d^2/2 - d^4/12" --range 4 -o taylor.png
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plot", help=HELP, description=HELP + ".", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("formulas", nargs="+", metavar="FORMULA",
                   help="losses, in d = pred - target; '-' reads one from standard input")
    p.add_argument("-o", "--output", required=True, metavar="FILE.png",
                   help="the PNG to write (an existing file is replaced only if losscc drew it)")
    p.add_argument("-f", "--force", action="store_true",
                   help="replace FILE.png even if losscc did not draw it")
    p.add_argument("--range", type=float, default=3.0, metavar="R", dest="span",
                   help="plot d from -R to R (default 3)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ...compiler.program import build
    from ...tools.plot import plot_losses, require_matplotlib
    from ..options import read_formula

    require_matplotlib()  # before any work: the user learns what to install at once
    programs = [build(read_formula(text)) for text in args.formulas]
    plot_losses(programs, args.output, span=args.span, force=args.force)
    print(f"wrote {args.output}: {len(programs)} loss{'es' if len(programs) > 1 else ''} "
          f"and gradients over d in [-{args.span:g}, {args.span:g}]", file=sys.stderr)
    return 0
