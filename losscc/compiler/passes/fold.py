"""Constant folding: an operation on constants becomes a constant.

>>> from losscc import ir
>>> fold_constants(ir.mul(ir.const(2.0), ir.const(3.0))).value
6.0
"""
from __future__ import annotations

import math
from typing import Optional

from ... import ir
from ...ir.interpret import fold_scalar
from ...ir.patterns import Pat, Rule, RuleSet, rewrite


def _folded(node: ir.Node) -> Optional[ir.Node]:
    # An overflowing constant is left for the runtime to compute (it yields inf
    # there too); the IR only holds finite numbers.
    value = fold_scalar(node)
    return ir.const(value) if value is not None and math.isfinite(value) else None


FOLD = RuleSet([Rule("fold", Pat(name="node", where=lambda n: bool(n.args) and all(
    a.is_const for a in n.args), shown="op(a, ...) of constants"), _folded,
                      "its value, where that is finite")])


def fold_constants(root: ir.Node) -> ir.Node:
    return rewrite(root, FOLD)
