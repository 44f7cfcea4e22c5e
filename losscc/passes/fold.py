"""Constant folding: an operation on constants becomes a constant.

>>> from losscc import ir
>>> fold_constants(ir.mul(ir.const(2.0), ir.const(3.0))).value
6.0
"""
from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Optional

from .. import ir
from ..ops import LEAVES, OPS

# The OPS table's NumPy meanings, applied to Python floats: abs is the only
# library function they call.
_SCALARS = SimpleNamespace(abs=abs)


def fold_constants(root: ir.Node) -> ir.Node:
    return ir.rewrite(root, _fold)


def _fold(node: ir.Node) -> Optional[ir.Node]:
    if node.op in LEAVES or not all(a.is_const for a in node.args):
        return None
    try:
        value = OPS[node.op].numpy(_SCALARS, *(a.value for a in node.args), node.value)
    except OverflowError:
        return None
    # An overflowing constant is left for the runtime to compute (it yields inf
    # there too); the IR only holds finite numbers.
    return ir.const(value) if math.isfinite(value) else None
