"""Options several subcommands share, defined once so they read the same everywhere."""
from __future__ import annotations

import argparse
from typing import Optional


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
