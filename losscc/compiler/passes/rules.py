"""Algebraic identities, as data: named patterns and what replaces them.

``RULES`` lists them, tried in order at every node (the first that matches
wins); ``identities`` applies them everywhere to a fixpoint through the one
rewrite driver. No rule makes the program longer, whatever nodes are shared:
a rule only drops operations or swaps one for another (the tests check each
rule, by name, for meaning and length). ``print(rule)`` shows it:

>>> print(RULES["abs-of-abs"])
abs-of-abs: abs(abs(x)) -> abs(x)
>>> from losscc import ir
>>> d = ir.var("d")
>>> identities(ir.abs_(ir.square(ir.neg(d)))) is ir.square(d)
True
"""
from __future__ import annotations

import math
from typing import Callable, Optional

from ... import ir
from ...floats import FLOAT32_MAX, FLOAT32_UNIT, float32_below, to_float32
from ...ir.patterns import Pat, Rule, RuleSet, rewrite
from ...limits import MAX_EXPONENT

x, y = Pat.any("x"), Pat.any("y")
a, b, c = Pat.const("a"), Pat.const("b"), Pat.const("c")
ONE, ZERO, MINUS_ONE = Pat.const(value=1.0), Pat.const(value=0.0), Pat.const(value=-1.0)


def P(op: str, *args: Pat, **kw) -> Pat:
    """The pattern op(args...)."""
    return Pat(op, args, **kw)


def _even(node: ir.Node) -> bool:
    return node.value % 2 == 0


def _odd(node: ir.Node) -> bool:
    return node.value % 2 == 1 and node.value > 1


def _product(a: ir.Node, b: ir.Node, x: ir.Node) -> Optional[ir.Node]:
    value = a.value * b.value
    return ir.mul(ir.const(value), x) if math.isfinite(value) else None


def _power_of_power(x: ir.Node, inner: ir.Node, outer: ir.Node) -> Optional[ir.Node]:
    n = inner.value * outer.value
    return ir.pow_(x, n) if n <= MAX_EXPONENT else None


PRED, TARGET = Pat("var", value="pred"), Pat("var", value="target")


def nonnegative(node: ir.Node, known: Optional[Callable[[ir.Node], bool]] = None) -> bool:
    """Provably >= 0 for every input (structurally: squares, abs, even powers...).

    ``known`` answers for the arguments instead of looking into them (a walk that
    has already decided them, bottom-up).
    """
    sub = known or nonnegative
    if node.is_const:
        return node.value >= 0
    if node.op in ("square", "abs", "eps_insensitive", "huber", "smooth_l1", "pinball", "tukey"):
        return True
    if node.op == "pow":
        return node.value % 2 == 0 or sub(node.args[0])
    if node.op in ("mul", "add", "min"):
        return all(sub(a) for a in node.args)
    if node.op == "max":
        return any(sub(a) for a in node.args)
    if node.op == "clip":
        return node.value[0] >= 0
    return False


NONNEGATIVE = Pat(name="x", where=nonnegative)
NONPOSITIVE_CONSTANT = Pat("const", name="c", where=lambda n: n.value <= 0)


def _clip_of_clip(x: ir.Node, inner: ir.Node, outer: ir.Node) -> ir.Node:
    (l1, h1), (l2, h2) = inner.value, outer.value
    lo, hi = max(l1, l2), min(h1, h2)
    if lo < hi:
        return ir.clip(x, lo, hi)
    return ir.const(l2 if h1 <= l2 else h2)  # the ranges do not meet: the outer clip decides


def _square_below(x: ir.Node, c: ir.Node) -> ir.Node:
    if c.value <= 0:
        return c
    # square(min(|x|, sqrt c)) never forms x^2, which overflows float32 from |x| > 1.8e19
    return ir.square(_min_below_power(x, math.sqrt(c.value), 2))


def _min_below_power(x: ir.Node, s: float, power: int) -> ir.Node:
    """min(|x|, s), s > 0, to be raised to ``power``, taken below every power x holds:
    |y^k| is |y|^k, increasing in |y|, so min(|y^k|, s) = min(|y|, s^(1/k))^k, and y^k
    never forms where it would overflow (the rewrite driver does not revisit what a
    rule builds: this goes down). The bound is the float32 whose power stays finite
    (3.40282347e38^(1/4) rounds up to 2^32, and 2^128 is inf)."""
    if x.op == "abs":
        x = x.args[0]
    if x.op == "square":
        return ir.square(_min_below_power(x.args[0], math.sqrt(s), 2 * power))
    if x.op == "pow" and x.value >= 2:
        return ir.pow_(_min_below_power(x.args[0], s ** (1.0 / x.value), x.value * power),
                       x.value)
    return ir.min_(x if nonnegative(x) else ir.abs_(x), ir.const(_finite_power_bound(s, power)))


def _finite_power_bound(s: float, power: int) -> float:
    """s > 0, or, where the float32 the cell holds for s (the nearest) has a power that
    rounds to inf, the float32 below it whose power stays finite."""
    bound, held = s, to_float32(s)
    while held ** power * (1 + 2 * power * FLOAT32_UNIT) > FLOAT32_MAX:
        bound = held = float32_below(held)  # only here does the rule move the bound
    return bound


def _odd_power_below(select: str, x: ir.Node, p: ir.Node, c: ir.Node) -> ir.Node:
    """min or max of x^k (k odd) and c: the same selection of x and c^(1/k), raised to k
    (t^k increases with t), so x^k never forms where it would overflow to +-inf."""
    k = p.value
    root = ir.const(math.copysign(_finite_power_bound(abs(c.value) ** (1.0 / k), k), c.value))
    return ir.pow_(ir.min_(x, root) if select == "min" else ir.max_(x, root), k)


def _max_of_negated(x: ir.Node, c: ir.Node) -> ir.Node:
    """max(-x, c) = -min(x, -c), exactly; the min then meets the rules for mins (of a
    power: taken below it), which the driver would not offer a node a rule built."""
    return ir.neg(rewrite(ir.min_(x, ir.const(-c.value)), RULES))


def _min_of_scaled(k: ir.Node, x: ir.Node, c: ir.Node) -> ir.Node:
    """min(k x, c) = k min(x, c/k) for k > 0, exactly; the min then meets the rules for
    mins: min(0.5 d^2, 1), the truncated quadratic, never forms the d^2 that overflows."""
    return ir.mul(k, rewrite(ir.min_(x, ir.const(c.value / k.value)), RULES))


def _power_below(x: ir.Node, p: ir.Node, c: ir.Node) -> ir.Node:
    return c if c.value <= 0 else _min_below_power(p, c.value, 1)


RULES = RuleSet([
    # abs
    Rule("abs-of-abs", P("abs", P("abs", x)), lambda x: ir.abs_(x), "abs(x)"),
    Rule("abs-of-square", P("abs", P("square", x, name="s")), lambda x, s: s, "square(x)"),
    Rule("abs-of-even-power", P("abs", P("pow", x, name="p", where=_even)),
         lambda x, p: p, "x^n, n even"),
    Rule("abs-of-neg", P("abs", P("neg", x)), lambda x: ir.abs_(x), "abs(x)"),
    # square
    Rule("square-of-abs", P("square", P("abs", x)), lambda x: ir.square(x), "square(x)"),
    Rule("square-of-neg", P("square", P("neg", x)), lambda x: ir.square(x), "square(x)"),
    # integer powers
    Rule("power-zero", P("pow", x, value=0), lambda x: ir.const(1.0), "1.0"),
    Rule("power-one", P("pow", x, value=1), lambda x: x, "x"),
    Rule("even-power-of-abs", P("pow", P("abs", x), name="p", where=_even),
         lambda x, p: ir.pow_(x, p.value), "x^n, n even"),
    Rule("even-power-of-neg", P("pow", P("neg", x), name="p", where=_even),
         lambda x, p: ir.pow_(x, p.value), "x^n, n even"),
    Rule("power-of-power", P("pow", P("pow", x, name="inner"), name="outer", shown="(x^m)^n"),
         _power_of_power, f"x^(m*n), while m*n <= {MAX_EXPONENT}"),
    # neg
    Rule("neg-of-neg", P("neg", P("neg", x)), lambda x: x, "x"),
    Rule("neg-of-sub", P("neg", P("sub", x, y)), lambda x, y: ir.sub(y, x), "(y - x)"),
    # mul: constants first, so that the rules after this one see them there
    Rule("constant-first", P("mul", Pat(name="x", where=lambda n: not n.is_const), c),
         lambda x, c: ir.mul(c, x), "c*x"),
    Rule("times-one", P("mul", ONE, x), lambda x: x, "x"),
    Rule("times-zero", P("mul", ZERO, x), lambda x: ir.const(0.0), "0.0"),
    Rule("times-minus-one", P("mul", MINUS_ONE, x), lambda x: ir.neg(x), "-x"),
    Rule("constant-product", P("mul", a, P("mul", b, x)), _product,
         "(a*b)*x, where a*b is finite"),
    Rule("times-itself", P("mul", x, x), lambda x: ir.square(x), "square(x)"),
    Rule("neg-times-neg", P("mul", P("neg", x), P("neg", y)), lambda x, y: ir.mul(x, y), "x*y"),
    # add
    Rule("plus-zero", P("add", x, ZERO), lambda x: x, "x"),
    Rule("zero-plus", P("add", ZERO, x), lambda x: x, "x"),
    Rule("plus-neg", P("add", x, P("neg", y)), lambda x, y: ir.sub(x, y), "(x - y)"),
    Rule("neg-plus", P("add", P("neg", x), y), lambda x, y: ir.sub(y, x), "(y - x)"),
    # x + (-c) reads better as x - c, and costs the same
    Rule("plus-negative-constant", P("add", x, Pat("const", name="c", where=lambda n: n.value < 0)),
         lambda x, c: ir.sub(x, ir.const(-c.value)), "(x - |c|), c < 0"),
    Rule("plus-itself", P("add", x, x), lambda x: ir.mul(ir.const(2.0), x), "2.0*x"),
    # sub
    Rule("minus-zero", P("sub", x, ZERO), lambda x: x, "x"),
    Rule("zero-minus", P("sub", ZERO, x), lambda x: ir.neg(x), "-x"),
    Rule("minus-itself", P("sub", x, x), lambda x: ir.const(0.0), "0.0"),
    Rule("minus-neg", P("sub", x, P("neg", y)), lambda x, y: ir.add(x, y), "(x + y)"),
    Rule("pred-minus-target", P("sub", PRED, TARGET), lambda: ir.var("d"), "d"),
    Rule("target-minus-pred", P("sub", TARGET, PRED), lambda: ir.neg(ir.var("d")), "-d"),
    # min and max: constants second, so that the rules after these see them there
    Rule("min-constant-second", P("min", c, Pat(name="x", where=lambda n: not n.is_const)),
         lambda c, x: ir.min_(x, c), "min(x, c)"),
    Rule("max-constant-second", P("max", c, Pat(name="x", where=lambda n: not n.is_const)),
         lambda c, x: ir.max_(x, c), "max(x, c)"),
    Rule("min-of-itself", P("min", x, x), lambda x: x, "x"),
    Rule("max-of-itself", P("max", x, x), lambda x: x, "x"),
    Rule("max-of-nonnegative", P("max", NONNEGATIVE, NONPOSITIVE_CONSTANT), lambda x, c: x,
         "x, where x >= 0 >= c"),
    Rule("min-of-nonnegative", P("min", NONNEGATIVE, NONPOSITIVE_CONSTANT), lambda x, c: c,
         "c, where x >= 0 >= c"),
    Rule("min-of-min", P("min", P("min", x, a), b),
         lambda x, a, b: ir.min_(x, ir.const(min(a.value, b.value))), "min(x, min(a, b))"),
    Rule("max-of-max", P("max", P("max", x, a), b),
         lambda x, a, b: ir.max_(x, ir.const(max(a.value, b.value))), "max(x, max(a, b))"),
    Rule("clip-as-max-of-min", P("max", P("min", x, b), a),
         lambda x, a, b: ir.clip(x, a.value, b.value) if a.value < b.value else None,
         "clip(x, a, b), a < b"),
    Rule("clip-as-min-of-max", P("min", P("max", x, a), b),
         lambda x, a, b: ir.clip(x, a.value, b.value) if a.value < b.value else None,
         "clip(x, a, b), a < b"),
    Rule("clip-of-clip", P("clip", P("clip", x, name="inner"), name="outer",
                           shown="clip(clip(x, l1, h1), l2, h2)"),
         _clip_of_clip, "clip(x, max(l1, l2), min(h1, h2)), or the constant it is"),
    Rule("min-of-square", P("min", P("square", x), c), _square_below,
         "square(min(abs(x), sqrt(c))), or c where c <= 0"),
    Rule("min-of-power", P("min", P("pow", x, name="p", where=nonnegative), c), _power_below,
         "min(abs(x), c^(1/n))^n for x^n >= 0, or c where c <= 0"),
    Rule("min-of-odd-power", P("min", P("pow", x, name="p", where=_odd), c),
         lambda x, p, c: _odd_power_below("min", x, p, c), "min(x, c^(1/n))^n, n odd"),
    Rule("max-of-odd-power", P("max", P("pow", x, name="p", where=_odd), c),
         lambda x, p, c: _odd_power_below("max", x, p, c), "max(x, c^(1/n))^n, n odd"),
    Rule("max-of-negated-power", P("max", P("neg", P("pow", x, name="p")), c),
         lambda x, p, c: _max_of_negated(p, c), "-min(x^n, -c), the min rewritten"),
    Rule("max-of-negated-square", P("max", P("neg", P("square", x, name="s")), c),
         lambda x, s, c: _max_of_negated(s, c), "-min(square(x), -c), the min rewritten"),
    Rule("min-of-scaled-power",
         P("min", P("mul", Pat("const", name="k", where=lambda n: n.value > 0),
                    Pat(frozenset({"square", "pow"}), (x,), name="p")), c),
         lambda k, x, p, c: _min_of_scaled(k, p, c),
         "k*min(x^n, c/k) for k > 0, the min rewritten"),
])


def identities(root: ir.Node) -> ir.Node:
    return rewrite(root, RULES)
