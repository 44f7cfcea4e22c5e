"""The ``losscc`` command line.

Each subcommand is a module in ``losscc.cli.commands`` with ``register(subparsers)``
(cheap: argparse only) and ``run(args) -> int``. Only this module prints
errors and chooses exit codes: 0 success, 2 bad input, 1 internal error.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from typing import Optional, Sequence

from ..compiler.runtime import quiet_mindspore
from ..errors import LossccError
from ..files import VERSION

# Subcommands, in the order --help lists them.
COMMANDS = ("compile", "analyze", "check", "plot", "train", "compare", "taylor", "cache")

DESCRIPTION = """\
losscc compiles loss formulas into MindSpore LossBase cells.

A formula is arithmetic on d = prediction - target (or on pred and target):
+ - * / (by a constant), whole powers d^4, abs(x), square(x), mul(x, y).
losscc lowers it to the fewest ops.Abs / ops.Square / ops.Mul operations.
"""

EPILOG = """\
examples:
  losscc compile "square(square(d))"             the 4th-power loss, as Python source
  losscc compile "abs(d)" --name L1 -o l1.py     write it to a file
  losscc compile "square(d)" --reduction -mean   the seed article's negated mean
  losscc compile "d^15" --ir                     show the optimised operations
  losscc analyze "square(d)" -r -mean            why minimising it diverges
  losscc check "square(square(d))"               the cell against NumPy and SymPy
  losscc plot "abs(d)" "square(d)" -o l.png      losses and gradients over d
  losscc train "square(square(d))" --article     the article's 4th-power run, trained
  losscc compare "abs(d)" "square(d)" "d^4"      one table, judged on held-out MAE
  losscc taylor "log(cosh(d))" --order 8         any analytic loss, truncated, error certified
  losscc cache                                   where compiled modules are kept, and clearing them

Run `losscc COMMAND --help` for a command's options. The formula language is
described in docs/grammar.md.
"""


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="losscc", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"losscc {VERSION}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"losscc.cli.commands.{name}").register(sub)
    return top


# Options whose values may start with '-' (a reduction such as -mean):
# argparse would take "-r -mean" for two options, so they are joined first.
DASH_VALUED = ("-r", "--reduction")


def _option_strings(top: argparse.ArgumentParser) -> set[str]:
    """Every option string of the command line, subcommands' included."""
    found = set(top._option_string_actions)
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= set(sub._option_string_actions)
    return found


def _join_dash_values(argv: Sequence[str], options: set[str]) -> list[str]:
    """argv with reductions joined to their option and formulas shielded.

    A formula may start with '-' too ("-d^3 + d", "-d"): a single-dash
    argument that is no option (nor a short option with its value attached,
    as in -r0.5*sum) gets a leading space for argparse's sake, removed again
    after parsing.
    """
    out: list[str] = []
    it = iter(argv)
    for arg in it:
        if arg in DASH_VALUED:
            value = next(it, None)
            out.append(arg if value is None else f"{arg}={value}")
        elif (arg.startswith("-") and not arg.startswith("--") and arg != "-"
              and arg not in options and arg[:2] not in options):
            out.append(" " + arg)
        else:
            out.append(arg)
    return out


def _unshield_formulas(args: argparse.Namespace) -> None:
    for key, value in vars(args).items():
        if isinstance(value, str) and value.startswith(" -"):
            setattr(args, key, value[1:])
        elif isinstance(value, list):
            setattr(args, key, [v[1:] if isinstance(v, str) and v.startswith(" -") else v
                                for v in value])


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    top = parser()
    args = top.parse_args(_join_dash_values(argv, _option_strings(top)))
    _unshield_formulas(args)
    quiet_mindspore(verbose=getattr(args, "verbose", False))  # before any command imports it
    try:
        return int(args.run(args) or 0)
    except LossccError as e:
        print(e.render(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("losscc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # noqa: BLE001 - the last line of defence
        if os.environ.get("LOSSCC_DEBUG"):
            traceback.print_exc()
        print(f"losscc: internal error: {type(e).__name__}: {e}\n"
              "This is a bug in losscc; set LOSSCC_DEBUG=1 to see the traceback.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
