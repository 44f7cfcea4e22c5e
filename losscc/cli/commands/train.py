"""losscc train: train a model with a compiled loss and report what it learned.

The data, model and training options are shared with ``losscc compare``
(``losscc.cli.options``).
"""
from __future__ import annotations

import argparse
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
prediction and label both (batch, 1), trained with the article's settings.
--article uses the article's own layout (output (10, 1, 1) against labels
(10, 1), silently broadcast to (10, 10, 1)), which reproduces its published
numbers. --data FILE.csv --target COLUMN trains on your table (header row,
numeric cells), holding out --holdout of the rows: features and target are
standardised for the network, predictions and metrics stay in the target's
units, and the defaults (Adam, cosine learning rate, at least 1000 steps) do
not depend on the table's scale. --data example:grunfeld is a table shipped
with losscc (public domain; docs/training.md).

Progress lines (like MindSpore's LossMonitor) go to standard error; the result
(or --json) to standard output. The result compares the model with predicting
the training mean, the training median, and least squares: a run that does
not beat the median is reported as not converged, with a hint. A loss that
becomes NaN/inf or grows 10^4-fold is reported as diverged. MindSpore's own
log lines are off (GLOG_v=3) unless GLOG_v is set or -v given.

exit status: 0 trained (status ok or not converged), 3 diverged, 2 bad input,
1 internal error.

examples:
  losscc train "square(square(d))" --article      the article's 4th-power run
  losscc train "abs(d)" --data example:grunfeld --target invest --hidden 16
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
    from ...floats import json_text
    from ...limits import MAX_WORKERS
    from ...training.data import from_spec

    if not 1 <= args.workers <= MAX_WORKERS:
        raise LossccError(f"--workers must be between 1 and {MAX_WORKERS}, not {args.workers}",
                          source="options", hint="local msrun workers, one process each")
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

        result = train_parallel(program, spec, options, args.workers, len(data.train_y),
                                progress=progress_printer(args))
    else:
        from ...training.train import train

        result = train(program, data, options, progress=progress_printer(args))
    result.analysis = analysis.to_json()
    if args.json:
        sys.stdout.write(json_text(result.to_json()) + "\n")
    else:
        print(result.render())
    return DIVERGED if result.diverged else 0
