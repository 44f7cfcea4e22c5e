"""One test per rewrite rule: it fires where it should, and keeps the meaning."""
import numpy as np
import pytest

from losscc import ir
from losscc.evaluate import evaluate
from losscc.passes.powers import count_ops
from losscc.passes.rules import RULES, apply_rules

d, p, t = ir.var("d"), ir.var("pred"), ir.var("target")
x = ir.add(d, ir.const(1.0))  # a non-trivial operand
y = ir.square(p)
c = ir.const


# (op, rule index in RULES[op], input, expected output)
CASES = [
    ("abs", 0, ir.abs_(ir.abs_(x)), ir.abs_(x)),  # abs(abs x) -> abs x
    ("abs", 1, ir.abs_(ir.square(x)), ir.square(x)),  # abs(square x) -> square x
    ("abs", 2, ir.abs_(ir.pow_(x, 4)), ir.pow_(x, 4)),  # abs(x^2k) -> x^2k
    ("abs", 3, ir.abs_(ir.neg(x)), ir.abs_(x)),  # abs(-x) -> abs x
    ("square", 0, ir.square(ir.abs_(x)), ir.square(x)),  # square(abs x) -> square x
    ("square", 1, ir.square(ir.neg(x)), ir.square(x)),  # square(-x) -> square x
    ("pow", 0, ir.pow_(x, 0), c(1.0)),  # x^0 -> 1
    ("pow", 1, ir.pow_(x, 1), x),  # x^1 -> x
    ("pow", 2, ir.pow_(ir.abs_(x), 6), ir.pow_(x, 6)),  # abs(x)^2k -> x^2k
    ("pow", 3, ir.pow_(ir.pow_(x, 3), 5), ir.pow_(x, 15)),  # (x^m)^n -> x^(m*n)
    ("neg", 0, ir.neg(ir.neg(x)), x),  # -(-x) -> x
    ("neg", 1, ir.neg(ir.sub(x, y)), ir.sub(y, x)),  # -(a - b) -> b - a
    ("mul", 0, ir.mul(x, c(3.0)), ir.mul(c(3.0), x)),  # x*c -> c*x
    ("mul", 1, ir.mul(c(1.0), x), x),  # 1*x -> x
    ("mul", 2, ir.mul(c(0.0), x), c(0.0)),  # 0*x -> 0
    ("mul", 3, ir.mul(c(-1.0), x), ir.neg(x)),  # -1*x -> -x
    ("mul", 4, ir.mul(c(2.0), ir.mul(c(3.0), x)), ir.mul(c(6.0), x)),  # a*(b*x) -> (ab)*x
    ("mul", 5, ir.mul(x, x), ir.square(x)),  # x*x -> square x
    ("mul", 6, ir.mul(ir.neg(x), ir.neg(y)), ir.mul(x, y)),  # (-a)*(-b) -> a*b
    ("add", 0, ir.add(x, c(0.0)), x),  # x + 0 -> x
    ("add", 1, ir.add(c(0.0), x), x),  # 0 + x -> x
    ("add", 2, ir.add(x, ir.neg(y)), ir.sub(x, y)),  # x + (-y) -> x - y
    ("add", 3, ir.add(ir.neg(x), y), ir.sub(y, x)),  # (-x) + y -> y - x
    ("add", 4, ir.add(y, c(-2.0)), ir.sub(y, c(2.0))),  # x + (-c) -> x - c
    ("add", 5, ir.add(x, x), ir.mul(c(2.0), x)),  # x + x -> 2*x
    ("sub", 0, ir.sub(x, c(0.0)), x),  # x - 0 -> x
    ("sub", 1, ir.sub(c(0.0), x), ir.neg(x)),  # 0 - x -> -x
    ("sub", 2, ir.sub(x, x), c(0.0)),  # x - x -> 0
    ("sub", 3, ir.sub(x, ir.neg(y)), ir.add(x, y)),  # x - (-y) -> x + y
    ("sub", 4, ir.sub(p, t), d),  # pred - target -> d
    ("sub", 5, ir.sub(t, p), ir.neg(d)),  # target - pred -> -d
]


def first_rule(node):
    for i, rule in enumerate(RULES[node.op]):
        out = rule(node)
        if out is not None and out is not node:
            return i
    return None


def test_every_rule_has_a_case():
    covered = {(op, i) for op, i, _, _ in CASES}
    assert covered == {(op, i) for op, rules in RULES.items() for i in range(len(rules))}


@pytest.mark.parametrize("op,index,before,after", CASES, ids=[f"{o}[{i}]" for o, i, _, _ in CASES])
def test_rule(op, index, before, after):
    assert before.op == op and first_rule(before) == index
    assert apply_rules(before) is after
    assert count_ops(after) <= count_ops(before)
    rng = np.random.default_rng(0)
    pred, target = rng.normal(size=(2, 50))
    env = dict(pred=pred, target=target, d=pred - target)
    np.testing.assert_allclose(evaluate(after, **env) * np.ones(50), evaluate(before, **env) * np.ones(50),
                               rtol=1e-12, atol=1e-12)


def test_no_rule_fires_on_canonical_forms():
    for node in [ir.square(d), ir.abs_(d), ir.mul(c(0.5), ir.square(d)), ir.sub(ir.square(d), c(1.0))]:
        assert apply_rules(node) is None
