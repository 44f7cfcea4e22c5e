"""Every rewrite rule, by name: it fires where it should, keeps the meaning, never lengthens
(an accuracy rule: by at most the operations it declares below).

Each rule has a hand-written example (it must be the first rule to fire on
it, and give the expected node), and is also tried on random instances of
its own pattern, compared with the NumPy evaluator.
"""
import random

import numpy as np
import pytest

from losscc import ir
from losscc.compiler.passes.powers import count_ops
from losscc.compiler.passes.rules import RULES
from losscc.ir.interpret import evaluate
from losscc.ir.nodes import Node

d, p, t = ir.var("d"), ir.var("pred"), ir.var("target")
x = ir.add(d, ir.const(1.0))  # a non-trivial operand
y = ir.square(p)
c = ir.const

# rule name -> (input, expected output)
EXAMPLES = {
    "abs-of-abs": (ir.abs_(ir.abs_(x)), ir.abs_(x)),
    "abs-of-square": (ir.abs_(ir.square(x)), ir.square(x)),
    "abs-of-even-power": (ir.abs_(ir.pow_(x, 4)), ir.pow_(x, 4)),
    "abs-of-neg": (ir.abs_(ir.neg(x)), ir.abs_(x)),
    "square-of-abs": (ir.square(ir.abs_(x)), ir.square(x)),
    "square-of-neg": (ir.square(ir.neg(x)), ir.square(x)),
    "power-zero": (ir.pow_(x, 0), c(1.0)),
    "power-one": (ir.pow_(x, 1), x),
    "even-power-of-abs": (ir.pow_(ir.abs_(x), 6), ir.pow_(x, 6)),
    "even-power-of-neg": (ir.pow_(ir.neg(x), 4), ir.pow_(x, 4)),
    "power-of-power": (ir.pow_(ir.pow_(x, 3), 5), ir.pow_(x, 15)),
    "neg-of-neg": (ir.neg(ir.neg(x)), x),
    "neg-of-sub": (ir.neg(ir.sub(x, y)), ir.sub(y, x)),
    "constant-first": (ir.mul(x, c(3.0)), ir.mul(c(3.0), x)),
    "times-one": (ir.mul(c(1.0), x), x),
    "times-zero": (ir.mul(c(0.0), x), c(0.0)),
    "times-minus-one": (ir.mul(c(-1.0), x), ir.neg(x)),
    "constant-product": (ir.mul(c(2.0), ir.mul(c(3.0), x)), ir.mul(c(6.0), x)),
    "times-itself": (ir.mul(x, x), ir.square(x)),
    "neg-times-neg": (ir.mul(ir.neg(x), ir.neg(y)), ir.mul(x, y)),
    "plus-zero": (ir.add(x, c(0.0)), x),
    "zero-plus": (ir.add(c(0.0), x), x),
    "plus-neg": (ir.add(x, ir.neg(y)), ir.sub(x, y)),
    "neg-plus": (ir.add(ir.neg(x), y), ir.sub(y, x)),
    "plus-negative-constant": (ir.add(y, c(-2.0)), ir.sub(y, c(2.0))),
    "plus-itself": (ir.add(x, x), ir.mul(c(2.0), x)),
    "minus-zero": (ir.sub(x, c(0.0)), x),
    "zero-minus": (ir.sub(c(0.0), x), ir.neg(x)),
    "minus-itself": (ir.sub(x, x), c(0.0)),
    "minus-neg": (ir.sub(x, ir.neg(y)), ir.add(x, y)),
    "pred-minus-target": (ir.sub(p, t), d),
    "target-minus-pred": (ir.sub(t, p), ir.neg(d)),
    "min-constant-second": (ir.min_(c(2.0), x), ir.min_(x, c(2.0))),
    "max-constant-second": (ir.max_(c(2.0), x), ir.max_(x, c(2.0))),
    "min-of-itself": (ir.min_(x, x), x),
    "max-of-itself": (ir.max_(x, x), x),
    "max-of-nonnegative": (ir.max_(ir.square(x), c(-1.0)), ir.square(x)),
    "min-of-nonnegative": (ir.min_(ir.abs_(x), c(-2.0)), c(-2.0)),
    "min-of-min": (ir.min_(ir.min_(x, c(3.0)), c(2.0)), ir.min_(x, c(2.0))),
    "max-of-max": (ir.max_(ir.max_(x, c(3.0)), c(2.0)), ir.max_(x, c(3.0))),
    "clip-as-max-of-min": (ir.max_(ir.min_(x, c(2.0)), c(-1.0)), ir.clip(x, -1.0, 2.0)),
    "clip-as-min-of-max": (ir.min_(ir.max_(x, c(-1.0)), c(2.0)), ir.clip(x, -1.0, 2.0)),
    "clip-of-clip": (ir.clip(ir.clip(x, -1.0, 2.0), 0.0, 5.0), ir.clip(x, 0.0, 2.0)),
    "min-of-square": (ir.min_(ir.square(x), c(4.0)), ir.square(ir.min_(ir.abs_(x), c(2.0)))),
    "min-of-power": (ir.min_(ir.pow_(x, 4), c(16.0)), ir.pow_(ir.min_(ir.abs_(x), c(2.0)), 4)),
    "min-of-odd-power": (ir.min_(ir.pow_(x, 3), c(-8.0)), ir.pow_(ir.min_(x, c(-2.0)), 3)),
    "max-of-odd-power": (ir.max_(ir.pow_(x, 3), c(8.0)), ir.pow_(ir.max_(x, c(2.0)), 3)),
    "max-of-negated-power": (ir.max_(ir.neg(ir.pow_(x, 4)), c(-16.0)),
                             ir.neg(ir.pow_(ir.min_(ir.abs_(x), c(2.0)), 4))),
    "max-of-negated-square": (ir.max_(ir.neg(ir.square(x)), c(-4.0)),
                              ir.neg(ir.square(ir.min_(ir.abs_(x), c(2.0))))),
    "min-of-scaled-power": (ir.min_(ir.mul(c(0.25), ir.square(x)), c(1.0)),
                            ir.mul(c(0.25), ir.square(ir.min_(ir.abs_(x), c(2.0))))),
}


# Rules that may cost an operation to save accuracy (the principle:
# float32 accuracy is a cost like operation count), with the operations they may add.
ACCURACY_RULES = {"min-of-square": 2, "min-of-power": 2, "min-of-odd-power": 2,
                  "max-of-odd-power": 2, "max-of-negated-power": 2, "min-of-scaled-power": 3,
                  "max-of-negated-square": 2}  # never form x^2 = inf, x^k = inf


def first_rule(node):
    for rule in RULES:
        out = rule.apply(node)
        if out is not None and out is not node:
            return rule.name, out
    return None, None


def same_meaning(a, b):
    rng = np.random.default_rng(0)
    pred, target = rng.normal(size=(2, 50))
    env = dict(pred=pred, target=target, d=pred - target)
    np.testing.assert_allclose(evaluate(a, **env) * np.ones(50), evaluate(b, **env) * np.ones(50),
                               rtol=1e-12, atol=1e-12)


def test_every_rule_has_an_example():
    assert set(EXAMPLES) == {rule.name for rule in RULES}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_rule(name):
    before, after = EXAMPLES[name]
    fired, out = first_rule(before)
    assert fired == name and out is after
    assert count_ops(after) <= count_ops(before) + ACCURACY_RULES.get(name, 0)
    same_meaning(before, after)


def _subtree(rng, depth=0):
    """A small random expression in d, pred and target."""
    if depth > 2 or rng.random() < 0.4:
        return rng.choice([d, p, t, c(rng.choice([-2.0, -0.5, 0.5, 1.5, 3.0]))])
    op = rng.choice(["add", "sub", "mul", "neg", "square", "abs", "min", "max"])
    arity = 2 if op in BINARY else 1
    return Node(op, tuple(_subtree(rng, depth + 1) for _ in range(arity)))


BINARY = ("add", "sub", "mul", "min", "max")


def _value(op, rng):
    """A random value for an op that has one."""
    if op == "pow":
        return rng.randrange(0, 7)
    if op == "clip":
        lo = rng.choice([-3.0, -1.0, 0.0, 0.5])
        return (lo, lo + rng.choice([0.5, 1.0, 4.0]))
    return None


def _instance(pattern, rng, bound):
    """A random node the pattern may match (its `where` tests are checked afterwards)."""
    if pattern.name is not None and pattern.name in bound:
        return bound[pattern.name]
    op = pattern.op if isinstance(pattern.op, str) or pattern.op is None else rng.choice(
        sorted(pattern.op))
    if op == "const":
        node = c(pattern.value if pattern.value is not None else rng.choice([-3.0, -1.0, 2.5]))
    elif op == "var":
        node = ir.var(pattern.value)
    elif op is None:
        node = _subtree(rng)
    else:
        arity = 2 if op in BINARY else 1
        args = (tuple(_instance(a, rng, bound) for a in pattern.args) if pattern.args is not None
                else tuple(_subtree(rng) for _ in range(arity)))
        value = pattern.value if pattern.value is not None else _value(op, rng)
        node = Node(op, args, value)
    if pattern.name is not None:
        bound[pattern.name] = node
    return node


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_rule_on_random_instances_of_its_pattern(name):
    rule = RULES[name]
    rng = random.Random(name)
    applied = 0
    for _ in range(400):
        node = _instance(rule.pattern, rng, {})
        if not rule.pattern.match(node, {}):
            continue
        out = rule.apply(node)
        if out is None:
            continue
        applied += 1
        assert count_ops(out) <= count_ops(node) + ACCURACY_RULES.get(name, 0), (
            str(rule), ir.describe(node))
        same_meaning(node, out)
    assert applied >= 20, f"{name}: only {applied} random instances"


def test_rules_print_as_patterns():
    printed = {rule.name: str(rule) for rule in RULES}
    assert printed["abs-of-abs"] == "abs-of-abs: abs(abs(x)) -> abs(x)"
    assert printed["constant-product"] == "constant-product: a*(b*x) -> (a*b)*x, where a*b is finite"
    assert printed["neg-of-neg"] == "neg-of-neg: -(-x) -> x"
    assert printed["neg-of-sub"] == "neg-of-sub: -(x - y) -> (y - x)"


def test_no_rule_fires_on_canonical_forms():
    for node in [ir.square(d), ir.abs_(d), ir.mul(c(0.5), ir.square(d)), ir.sub(ir.square(d), c(1.0))]:
        assert first_rule(node) == (None, None)
