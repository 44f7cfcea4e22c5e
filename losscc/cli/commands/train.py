"""losscc train: train a model with a compiled loss and report what it learned.

The data, model and training options are shared with ``losscc compare``
(``losscc.cli.options``).
"""
from __future__ import annotations

import argparse
import json
import sys

from ..options import (
    add_formula,
    add_reduction,
    add_training_options,
    data_spec,
    progress_printer,
    read_formula,
    training_options,
)

HELP = "train a model with a compiled loss (MindSpore Model.train) and measure it"

EPILOG = """\
data: the seed article's regression by default (z = 2x^2 + 3y^3 + 5 + noise from
features [x^2, y^3], 160 training samples and 40 fresh held-out ones), with
prediction and label both (batch, 1). --article uses the article's own layout
(output (10, 1, 1) against labels (10, 1), silently broadcast to (10, 10, 1)),
which reproduces its published numbers. --data FILE.csv --target COLUMN trains on
your table (header row, numeric cells; features standardised), holding out
--holdout of the rows.

Progress lines (like MindSpore's LossMonitor) go to standard error; the result
(or --json) to standard output. A loss that becomes NaN/inf or grows 10^4-fold
is reported as diverged.

exit status: 0 trained, 3 diverged, 2 bad input, 1 internal error.

examples:
  losscc train "square(square(d))" --article      the article's 4th-power run
  losscc train "abs(d)" --data houses.csv --target price --hidden 16 --epochs 5
  losscc train "square(d)" --workers 2            data parallel over 2 msrun workers
"""

# The exit status of a run that diverged (a result, not an error).
DIVERGED = 3


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help=HELP, description=HELP + ".", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_formula(p)
    add_reduction(p)
    add_training_options(p)
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="train data-parallel on N local msrun workers, each with --batch-size "
                        "rows per step (default 1: this process)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ...analysis.analyze import analyze
    from ...compiler.program import build
    from ...errors import LossccError
    from ...training.data import from_spec

    if args.workers < 1:
        raise LossccError("--workers must be at least 1", source="options")
    program = build(read_formula(args.formula), args.reduction)
    spec = data_spec(args)
    options = training_options(args)
    data = from_spec(spec)  # a bad table fails here, before any training (or msrun)
    analysis = analyze(program)
    if not args.json:
        print(analysis.render(), flush=True)  # before training: it may predict divergence
        print(flush=True)
    if args.workers > 1:
        from ...training.parallel import train_parallel

        result = train_parallel(program, spec, options, args.workers,
                                progress=progress_printer(args))
    else:
        from ...training.train import train

        result = train(program, data, options, progress=progress_printer(args))
    result.analysis = analysis.to_json()
    if args.json:
        json.dump(result.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(result.render())
    return DIVERGED if result.diverged else 0
