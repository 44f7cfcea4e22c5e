"""Algebraic identities, as data: one small function per identity.

Each rule looks at one node (its arguments already rewritten) and returns an
equal, cheaper or more canonical node, or None. ``RULES`` groups them by the
operation they match; ``identities`` applies them everywhere to a fixpoint.
No rule makes the program longer, whatever nodes are shared: a rule only
drops operations or swaps one for another.

>>> from losscc import ir
>>> d = ir.var("d")
>>> identities(ir.abs_(ir.square(ir.neg(d)))) is ir.square(d)
True
"""
from __future__ import annotations

import math
from typing import Callable, Optional

from .. import ir
from ..lower import MAX_EXPONENT

Rule = Callable[[ir.Node], Optional[ir.Node]]


def _is(node: ir.Node, value: float) -> bool:
    return node.is_const and node.value == value


def _even_pow(node: ir.Node) -> bool:
    return node.op == "pow" and node.value % 2 == 0


RULES: dict[str, list[Rule]] = {
    "abs": [
        # abs(abs x) -> abs x
        lambda n: n.args[0] if n.args[0].op == "abs" else None,
        # abs(square x) -> square x
        lambda n: n.args[0] if n.args[0].op == "square" else None,
        # abs(x^2k) -> x^2k
        lambda n: n.args[0] if _even_pow(n.args[0]) else None,
        # abs(-x) -> abs x
        lambda n: ir.abs_(n.args[0].args[0]) if n.args[0].op == "neg" else None,
    ],
    "square": [
        # square(abs x) -> square x
        lambda n: ir.square(n.args[0].args[0]) if n.args[0].op == "abs" else None,
        # square(-x) -> square x
        lambda n: ir.square(n.args[0].args[0]) if n.args[0].op == "neg" else None,
    ],
    "pow": [
        # x^0 -> 1
        lambda n: ir.const(1.0) if n.value == 0 else None,
        # x^1 -> x
        lambda n: n.args[0] if n.value == 1 else None,
        # abs(x)^2k -> x^2k, (-x)^2k -> x^2k
        lambda n: ir.pow_(n.args[0].args[0], n.value)
        if n.value % 2 == 0 and n.args[0].op in ("abs", "neg") else None,
        # (x^m)^n -> x^(m*n), while m*n stays a power the language allows
        lambda n: ir.pow_(n.args[0].args[0], n.args[0].value * n.value)
        if n.args[0].op == "pow" and n.args[0].value * n.value <= MAX_EXPONENT else None,
    ],
    "neg": [
        # -(-x) -> x
        lambda n: n.args[0].args[0] if n.args[0].op == "neg" else None,
        # -(a - b) -> b - a
        lambda n: ir.sub(n.args[0].args[1], n.args[0].args[0]) if n.args[0].op == "sub" else None,
    ],
    "mul": [
        # x*c -> c*x (constants first, so the rules below see them)
        lambda n: ir.mul(n.args[1], n.args[0])
        if n.args[1].is_const and not n.args[0].is_const else None,
        # 1*x -> x
        lambda n: n.args[1] if _is(n.args[0], 1.0) else None,
        # 0*x -> 0
        lambda n: ir.const(0.0) if _is(n.args[0], 0.0) else None,
        # -1*x -> -x
        lambda n: ir.neg(n.args[1]) if _is(n.args[0], -1.0) else None,
        # a*(b*x) -> (a*b)*x, for constants a and b whose product is finite
        lambda n: ir.mul(ir.const(n.args[0].value * n.args[1].args[0].value), n.args[1].args[1])
        if n.args[0].is_const and n.args[1].op == "mul" and n.args[1].args[0].is_const
        and math.isfinite(n.args[0].value * n.args[1].args[0].value) else None,
        # x*x -> square x
        lambda n: ir.square(n.args[0]) if n.args[0] is n.args[1] else None,
        # (-a)*(-b) -> a*b
        lambda n: ir.mul(n.args[0].args[0], n.args[1].args[0])
        if n.args[0].op == "neg" and n.args[1].op == "neg" else None,
    ],
    "add": [
        # x + 0 -> x, 0 + x -> x
        lambda n: n.args[0] if _is(n.args[1], 0.0) else None,
        lambda n: n.args[1] if _is(n.args[0], 0.0) else None,
        # x + (-y) -> x - y
        lambda n: ir.sub(n.args[0], n.args[1].args[0]) if n.args[1].op == "neg" else None,
        # (-x) + y -> y - x
        lambda n: ir.sub(n.args[1], n.args[0].args[0]) if n.args[0].op == "neg" else None,
        # x + (-c) -> x - c, for a constant c < 0 (reads better, costs the same)
        lambda n: ir.sub(n.args[0], ir.const(-n.args[1].value))
        if n.args[1].is_const and n.args[1].value < 0 else None,
        # x + x -> 2*x
        lambda n: ir.mul(ir.const(2.0), n.args[0]) if n.args[0] is n.args[1] else None,
    ],
    "sub": [
        # x - 0 -> x
        lambda n: n.args[0] if _is(n.args[1], 0.0) else None,
        # 0 - x -> -x
        lambda n: ir.neg(n.args[1]) if _is(n.args[0], 0.0) else None,
        # x - x -> 0
        lambda n: ir.const(0.0) if n.args[0] is n.args[1] else None,
        # x - (-y) -> x + y
        lambda n: ir.add(n.args[0], n.args[1].args[0]) if n.args[1].op == "neg" else None,
        # pred - target -> d
        lambda n: ir.var("d")
        if n.args[0] is ir.var("pred") and n.args[1] is ir.var("target") else None,
        # target - pred -> -d
        lambda n: ir.neg(ir.var("d"))
        if n.args[0] is ir.var("target") and n.args[1] is ir.var("pred") else None,
    ],
}


def apply_rules(node: ir.Node) -> Optional[ir.Node]:
    """The first rule for ``node``'s op that fires, or None."""
    for rule in RULES.get(node.op, ()):
        new = rule(node)
        if new is not None and new is not node:
            return new
    return None


def identities(root: ir.Node) -> ir.Node:
    return ir.rewrite(root, apply_rules)
