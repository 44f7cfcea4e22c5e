"""losscc train: train a model with a compiled loss and report what it learned.

The data, model and training options are shared with ``losscc compare``
(``add_training_options``, ``data_spec``, ``training_options``).
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from ..emit import SHAPE_MODES
from ..modes import MODES
from .options import add_formula, add_reduction

if TYPE_CHECKING:  # annotations only: importing losscc.train here would load NumPy
    from ..train import TrainOptions

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


def add_training_options(p: argparse.ArgumentParser) -> None:
    """The data, model, optimizer and output options of train and compare."""
    d = p.add_argument_group("data")
    d.add_argument("--article", action="store_true",
                   help="the article's shapes: output (10,1,1) vs label (10,1), broadcast")
    d.add_argument("--samples", type=int, default=None, metavar="N",
                   help="training samples of the article's data (default 160)")
    d.add_argument("--data", metavar="FILE.csv", help="train on a CSV table with a header row")
    d.add_argument("--target", metavar="COLUMN", help="the CSV column to predict")
    d.add_argument("--features", metavar="A,B,...",
                   help="the CSV columns to predict it from (default: all others)")
    d.add_argument("--holdout", type=float, default=None, metavar="F",
                   help="fraction of the CSV rows held out for the metrics (default 0.2)")
    d.add_argument("--no-standardise", dest="standardise", action="store_false", default=None,
                   help="use the CSV features as they are")
    m = p.add_argument_group("model and training")
    m.add_argument("--hidden", type=int, default=0, metavar="N",
                   help="one hidden ReLU layer of N units "
                        "(default 0: linear, Dense(k, 1, 0.02, 0.02))")
    m.add_argument("--optimizer", choices=("momentum", "sgd", "adam"), default="momentum")
    m.add_argument("--lr", type=float, default=0.01, help="learning rate (default 0.01)")
    m.add_argument("--momentum", type=float, default=0.6, help="Momentum's momentum (default 0.6)")
    m.add_argument("--epochs", type=int, default=1, help="epochs (default 1)")
    m.add_argument("--repeat", type=int, default=10, metavar="N",
                   help="passes over the training rows per epoch (default 10, as the article)")
    m.add_argument("--batch-size", type=int, default=10, metavar="N", help="default 10")
    m.add_argument("--seed", type=int, default=0, help="ms.set_seed and data seed (default 0)")
    m.add_argument("--mode", choices=MODES, default="graph",
                   help="MindSpore execution mode (default graph)")
    m.add_argument("--no-sink", dest="sink", action="store_false",
                   help="dataset_sink_mode=False (MindSpore never sinks on CPU anyway)")
    m.add_argument("--shapes", choices=SHAPE_MODES, default=None,
                   help="what the loss cell does when prediction and label shapes differ "
                        "(default: warn; allow with --article, whose numbers need broadcasting)")
    o = p.add_argument_group("output")
    o.add_argument("--log-every", type=int, default=None, metavar="N",
                   help="a progress line every N steps (default: ten per run; 0: none)")
    o.add_argument("-q", "--quiet", action="store_true", help="no progress lines")


def data_spec(args: argparse.Namespace) -> dict:
    """The data the options name, as a JSON-ready spec (losscc.data.from_spec)."""
    import os

    from ..errors import LossccError

    if args.data is None:
        for flag, given in (("--target", args.target), ("--features", args.features),
                            ("--holdout", args.holdout), ("--no-standardise", args.standardise)):
            if given is not None:
                raise LossccError(f"{flag} needs --data FILE.csv", source="options",
                                  hint="without --data, losscc trains on the article's data "
                                  "(160 samples, 40 more held out)")
        samples = 160 if args.samples is None else args.samples
        return {"kind": "article", "samples": samples, "seed": args.seed,
                "article_layout": args.article}
    for flag, given in (("--article", args.article or None), ("--samples", args.samples)):
        if given is not None:
            raise LossccError(f"{flag} is about the article's own data; it cannot go with --data",
                              source="options")
    if args.target is None:
        raise LossccError("--data needs --target COLUMN: which column to predict",
                          source="options")
    features = None if args.features is None else [f.strip() for f in args.features.split(",")]
    return {"kind": "csv", "path": os.path.abspath(args.data), "target": args.target,
            "features": features, "holdout": 0.2 if args.holdout is None else args.holdout,
            "seed": args.seed, "standardise": args.standardise is None}


def training_options(args: argparse.Namespace) -> "TrainOptions":
    from ..train import TrainOptions

    shapes = args.shapes or ("allow" if args.article else None)
    options = TrainOptions(
        optimizer=args.optimizer, lr=args.lr, momentum=args.momentum, epochs=args.epochs,
        repeat=args.repeat, batch_size=args.batch_size, seed=args.seed, mode=args.mode,
        sink=args.sink, hidden=args.hidden, shapes=shapes,
        log_every=0 if args.quiet else args.log_every,
    )
    options.check()
    return options


def progress_printer(args: argparse.Namespace):
    """Where progress lines go: standard error, unless --quiet."""
    if args.quiet:
        return None
    return lambda line: print(line, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from ..analyze import analyze
    from ..cli import read_formula
    from ..compiler import build
    from ..data import from_spec
    from ..errors import LossccError

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
        from ..parallel import train_parallel

        result = train_parallel(program, spec, options, args.workers,
                                progress=progress_printer(args))
    else:
        from ..train import train

        result = train(program, data, options, progress=progress_printer(args))
    result.analysis = analysis.to_json()
    if args.json:
        json.dump(result.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(result.render())
    return DIVERGED if result.diverged else 0
