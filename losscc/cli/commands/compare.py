"""losscc compare: train several losses on identical data, rank them on one metric."""
from __future__ import annotations

import argparse
import sys

from ..options import (
    add_reduction,
    add_training_options,
    data_spec,
    progress_printer,
    training_options,
)

HELP = "train several losses on identical data and rank them on one held-out metric"

EPILOG = """\
Each loss trains on the same rows, in the same order, from the same initial
parameters and seed (the options are train's). The table shows each final
loss in its own units (not comparable across losses: a 4th-power loss is not
"worse" for being larger) and the held-out MAE, RMSE and max error, on which
the models are ranked (--metric). Below the ranked runs, reference rows:
predicting the training mean, the training median, and least squares (NumPy,
same rows). A run that does not beat the median is marked NOT CONVERGED, one
that diverges DIVERGED (ranked last), one that fails FAILED (with its error);
the comparison still succeeds.

examples:
  losscc compare "abs(d)" "square(d)" "square(square(d))"
  losscc compare "abs(d)" "square(d)" "d^4" --metric rmse --plot cmp.png
  losscc compare --json -- "square(d)" "-square(d)"     the negated MSE diverges
(a formula that starts with '-' goes after '--', or with a space: "- square(d)")
  losscc compare "square(d)" "abs(d)" "huber(d, 30)" --data example:grunfeld --target invest
  losscc compare "abs(d)" "0.5*square(d)" --data example:grunfeld --target invest --csv
  losscc compare "square(d)" "taylor:log(cosh(d))" --order 4 --range 5
                                          a truncated series trains like any loss
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help=HELP, description=HELP + ".", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("formulas", nargs="+", metavar="FORMULA",
                   help="the losses, in d = pred - target")
    add_reduction(p, help="the reduction of every loss (default mean)")
    p.add_argument("--metric", choices=("mae", "rmse", "max"), default="mae",
                   help="the held-out metric that ranks the models (default mae)")
    add_training_options(p)
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the comparison as JSON")
    out.add_argument("--csv", action="store_true", help="print the table as CSV")
    p.add_argument("--plot", metavar="FILE.png", help="draw the loss curves and metric bars")
    p.add_argument("-f", "--force", action="store_true",
                   help="let --plot replace a file that losscc did not draw")
    t = p.add_argument_group("taylor:EXPR entries (truncated series, as losscc taylor)")
    t.add_argument("--order", type=int, default=None, metavar="N",
                   help="highest power kept (default: losscc taylor's, 8)")
    t.add_argument("--range", type=float, default=None, metavar="R",
                   help="the range [-R, R] the approximation is made for")
    t.add_argument("--method", choices=("taylor", "chebyshev"), default="taylor")
    p.set_defaults(run=run)


# An entry "taylor:log(cosh(d))" trains the truncated series of an analytic loss.
TAYLOR_PREFIX = "taylor:"


def _program(entry: str, args: argparse.Namespace):
    """The compiled Program of one entry: a formula, or a taylor:EXPR truncated series."""
    from ...compiler.program import build

    if not entry.startswith(TAYLOR_PREFIX):
        return build(entry, args.reduction)
    from ...series import approximate

    return approximate(entry[len(TAYLOR_PREFIX):], order=args.order, range=args.range,
                       method=args.method, reduction=args.reduction).program


def _numbered(number: int, entry: str, args: argparse.Namespace):
    """The entry's Program; its errors say which of the formulas they are about."""
    from ...errors import LossccError

    try:
        return _program(entry, args)
    except LossccError as e:
        if e.source == "formula":
            e.source = f"formula {number}"
        raise


def run(args: argparse.Namespace) -> int:
    from ...analysis.analyze import analyze
    from ...errors import LossccError
    from ...floats import json_text
    from ...training.compare import check_plot_target, compare, plot_comparison
    from ...training.data import from_spec

    if len(set(args.formulas)) != len(args.formulas):
        raise LossccError("a formula is listed twice", source="options",
                          hint="each loss trains once; list it once")
    # Compile them all first: a typo in the third formula fails before any training.
    programs = [_numbered(i, entry, args) for i, entry in enumerate(args.formulas, start=1)]
    options = training_options(args)
    data = from_spec(data_spec(args))
    if args.plot:
        check_plot_target(args.plot, args.force)  # fail now, not after the training
    table = compare(programs, data, options, metric=args.metric,
                    progress=progress_printer(args), labels=args.formulas)
    for program, result in zip(programs, table.results):
        result.analysis = analyze(program).to_json()
    if args.plot:
        plot_comparison(table, args.plot, args.force)
        print(f"wrote {args.plot}", file=sys.stderr)
    if args.json:
        sys.stdout.write(json_text(table.to_json()) + "\n")
    elif args.csv:
        sys.stdout.write(table.to_csv())
    else:
        print(table.render())
    return 0
