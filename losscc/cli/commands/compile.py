"""losscc compile: a formula → the Python source of a LossBase cell.

This path imports neither MindSpore, NumPy nor SymPy: it stays fast.
"""
from __future__ import annotations

import argparse
import sys

from ...compiler.emit import SHAPE_MODES
from ..options import add_class_output, add_formula, add_reduction, read_formula

HELP = "compile a formula into a MindSpore LossBase class"

EPILOG = """\
The generated module defines one nn.LossBase subclass; use it like any loss:
    from l4 import QuarticLoss
    model = mindspore.train.Model(net, QuarticLoss(), optimizer)

reductions: mean, sum, none (LossBase's own), prod, and any of them negated or
scaled by a constant: -mean (the seed article's section 6), 0.5*sum, -prod.

examples:
  losscc compile "square(square(d))"
  losscc compile "0.5*square(d) + abs(d)" --reduction sum --name Mixed -o mixed.py
  echo "d^4 - 2*d^2" | losscc compile - --ir
  losscc compile "square(d)" --shapes strict
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compile", help=HELP, description=HELP + ".", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_formula(p)
    add_reduction(p)
    add_class_output(p)
    p.add_argument("--ir", action="store_true",
                   help="print the optimised operations and their count instead of source")
    p.add_argument("--shapes", choices=SHAPE_MODES, default="warn",
                   help="when logits and labels differ in shape, the cell warns (default), "
                   "raises ValueError (strict) or broadcasts silently like MindSpore (allow)")
    p.add_argument("--fuse", action="store_true",
                   help="the class turns on MindSpore graph-kernel fusion when created "
                   "(process-wide; the module then imports losscc.compiler.fuse; pip install losscc[fuse])")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ...analysis.screen import quick_warnings
    from ...compiler.emit import check_name
    from ...compiler.program import build
    from ...files import GENERATED_MARK, VERSION, write_output

    name = check_name(args.name)
    program = build(read_formula(args.formula), args.reduction)
    for warning in quick_warnings(program):  # stderr: standard output stays pure source
        print(f"losscc: warning: {warning}", file=sys.stderr)
    operations = f"{program.op_count} element-wise operation{'s' * (program.op_count != 1)}"
    if args.ir:
        text, what = program.listing() + "\n", "the operation listing"
    else:
        text, what = program.source(name, fuse=args.fuse, shapes=args.shapes), f"class {name}"
    if args.output in (None, "-"):
        sys.stdout.write(text)
        return 0
    if args.ir:  # marked like generated source, so that the next run may replace it
        text = f"{GENERATED_MARK} {VERSION}: an operation listing.\n" + text
    write_output(args.output, text, force=args.force)
    print(f"wrote {args.output}: {what}, {operations}", file=sys.stderr)
    return 0
