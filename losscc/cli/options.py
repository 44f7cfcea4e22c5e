"""Options several subcommands share, defined once so they read the same everywhere."""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Optional

from ..compiler.emit import SHAPE_MODES
from ..compiler.runtime import MODES, OPTIMIZERS, SCHEDULES
from ..limits import MAX_FORMULA_BYTES

if TYPE_CHECKING:  # annotations only: the training options are read when a command runs
    from ..training.options import TrainOptions


def add_formula(p: argparse.ArgumentParser) -> None:
    p.add_argument("formula", help="the loss, in d = pred - target; '-' reads standard input")


def add_reduction(p: argparse.ArgumentParser, help: Optional[str] = None) -> None:
    p.add_argument("-r", "--reduction", default="mean", metavar="R", help=help or (
        "mean (default), sum, none, prod; optionally negated or scaled: -mean, 0.5*sum"))


def add_class_output(p: argparse.ArgumentParser) -> None:
    """--name, --output and --force: where a generated class goes."""
    p.add_argument("-n", "--name", default=None, metavar="NAME",
                   help="the class name (a Python identifier; default CompiledLoss)")
    p.add_argument("-o", "--output", default=None, metavar="FILE",
                   help="write the module to FILE (atomically); '-' or no -o: standard output")
    p.add_argument("-f", "--force", action="store_true",
                   help="overwrite FILE even if losscc did not generate it")


def read_formula(text: str) -> str:
    """The formula argument, or standard input when it is '-' (at most MAX_FORMULA_BYTES)."""
    if text == "-":
        text = _read_stdin(MAX_FORMULA_BYTES)
    return text.removeprefix("\ufeff")  # a byte-order mark some editors write first


def _read_stdin(limit: int) -> str:
    """Standard input as UTF-8 text, refused once it is longer than ``limit`` bytes."""
    from ..errors import LossccError

    stream = getattr(sys.stdin, "buffer", None)
    data = stream.read(limit + 1) if stream is not None else sys.stdin.read(limit + 1)
    if len(data) > limit:
        raise LossccError(f"standard input holds more than {limit} bytes, the most a "
                          "formula may have", source="stdin",
                          hint="a formula is one expression; is this the right input?")
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise LossccError(f"standard input is not UTF-8 text: byte {e.start} is "
                          f"{data[e.start]:#04x}", source="stdin") from None


def add_training_options(p: argparse.ArgumentParser) -> None:
    """The data, model, optimizer and output options of train and compare.

    Training options default to None here: ``training_options`` fills them in
    from the article's settings (its data) or the table defaults (``--data``).
    """
    d = p.add_argument_group("data")
    d.add_argument("--article", action="store_true",
                   help="the article's shapes: output (10,1,1) vs label (10,1), broadcast")
    d.add_argument("--samples", type=int, default=None, metavar="N",
                   help="training samples of the article's data (default 160)")
    d.add_argument("--data", metavar="FILE.csv",
                   help="train on a CSV table with a header row; example:grunfeld is one "
                        "shipped with losscc (docs/training.md)")
    d.add_argument("--target", metavar="COLUMN", help="the CSV column to predict")
    d.add_argument("--features", metavar="A,B,...",
                   help="the CSV columns to predict it from (default: all others)")
    d.add_argument("--holdout", type=float, default=None, metavar="F",
                   help="fraction of the CSV rows held out for the metrics (default 0.2)")
    d.add_argument("--no-standardise", dest="standardise", action="store_false", default=None,
                   help="use the CSV's features and target as they are (default: standardised "
                        "for the network; predictions stay in the target's units)")
    m = p.add_argument_group(
        "model and training", "defaults: the article's settings on its data; with --data,\n"
        "Adam (lr 0.01 cosine to 0, eps 1e-16), batch 32, 10 passes but at least 1000 steps")
    m.add_argument("--hidden", type=int, default=0, metavar="N",
                   help="one hidden ReLU layer of N units "
                        "(default 0: linear, Dense(k, 1, 0.02, 0.02))")
    m.add_argument("--optimizer", choices=OPTIMIZERS, default=None,
                   help="default momentum (article), adam (--data)")
    m.add_argument("--lr", type=float, default=None, help="learning rate (default 0.01)")
    m.add_argument("--schedule", choices=SCHEDULES, default=None,
                   help="the learning rate over the run: constant (article) or cosine down to "
                        "0 (--data)")
    m.add_argument("--momentum", type=float, default=None,
                   help="Momentum's momentum (default 0.6)")
    m.add_argument("--epochs", type=int, default=None, help="epochs (default 1)")
    m.add_argument("--repeat", type=int, default=None, metavar="N",
                   help="passes over the training rows per epoch (default 10, as the article)")
    m.add_argument("--min-steps", type=int, default=None, metavar="N",
                   help="more passes if needed to take N steps (default 0 article, 1000 --data)")
    m.add_argument("--batch-size", type=int, default=None, metavar="N",
                   help="default 10 (article), 32 (--data)")
    m.add_argument("--seed", type=int, default=0, help="ms.set_seed and data seed (default 0)")
    m.add_argument("--mode", choices=MODES, default="graph",
                   help="MindSpore execution mode (default graph)")
    m.add_argument("--no-sink", dest="sink", action="store_false", default=None,
                   help="dataset_sink_mode=False (MindSpore never sinks on CPU anyway)")
    m.add_argument("--shapes", choices=SHAPE_MODES, default=None,
                   help="what the loss cell does when prediction and label shapes differ "
                        "(default: warn; allow with --article, whose numbers need broadcasting)")
    o = p.add_argument_group("output")
    o.add_argument("--log-every", type=int, default=None, metavar="N",
                   help="a progress line every N steps (default: ten per run; 0: none)")
    o.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    o.add_argument("-v", "--verbose", action="store_true",
                   help="let MindSpore's own warnings through (GLOG_v=2; losscc sets GLOG_v=3, "
                        "errors only, unless GLOG_v is set)")


def data_spec(args: argparse.Namespace) -> dict:
    """The data the options name, as a JSON-ready spec (losscc.training.data.from_spec)."""
    import os

    from ..errors import LossccError
    from ..training.data import EXAMPLE_PREFIX

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
                          source="options", hint="e.g. --data example:grunfeld --target invest")
    features = None if args.features is None else [f.strip() for f in args.features.split(",")]
    table = {"target": args.target, "features": features,
             "holdout": 0.2 if args.holdout is None else args.holdout, "seed": args.seed,
             "standardise": args.standardise is None}
    if args.data.startswith(EXAMPLE_PREFIX):
        return {"kind": "example", "name": args.data[len(EXAMPLE_PREFIX):], **table}
    return {"kind": "csv", "path": os.path.abspath(args.data), **table}


# Option name -> TrainOptions field, for the options that default to the data's preset.
PRESET_OPTIONS = {"optimizer": "optimizer", "lr": "lr", "schedule": "schedule",
                  "momentum": "momentum", "epochs": "epochs", "repeat": "repeat",
                  "min_steps": "min_steps", "batch_size": "batch_size", "sink": "sink"}


def training_options(args: argparse.Namespace) -> "TrainOptions":
    """The options given; the rest the article's settings, or with ``--data`` the table's."""
    from ..training.options import TrainOptions

    given = {field: getattr(args, name) for name, field in PRESET_OPTIONS.items()
             if getattr(args, name) is not None}
    given.update(seed=args.seed, mode=args.mode, hidden=args.hidden,
                 shapes=args.shapes or ("allow" if args.article else None),
                 log_every=0 if args.quiet else args.log_every)
    options = (TrainOptions(**given) if args.data is None else TrainOptions.for_table(**given))
    options.check()
    return options


def progress_printer(args: argparse.Namespace):
    """Where progress lines go: standard error, unless --quiet."""
    if args.quiet:
        return None
    return lambda line: print(line, file=sys.stderr, flush=True)
