"""Loss analysis verdicts against expectations worked out by hand, and against sampling.

Every expected verdict in TABLE comes from the math of its formula (written
next to it), not from running the analysis.
"""
import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import losscc
from losscc.analysis.analyze import analyze
from losscc.analysis.screen import quick_warnings

Y, N, U = True, False, None  # yes, no, undecided

# formula, reduction: bounded below, minimum 0 at d = 0 only, symmetric, convex,
# differentiable at 0, growth degree at infinity.   Why, by hand:
TABLE = [
    ("square(d)", "mean", Y, Y, Y, Y, Y, 2),            # d^2 >= 0, = 0 only at 0; f'' = 2
    ("square(d)", "-mean", N, N, Y, N, Y, 2),           # -d^2 -> -oo; f'' = -2
    ("abs(d)", "mean", Y, Y, Y, Y, N, 1),               # slopes -1 | 1 at 0
    ("square(square(d))", "mean", Y, Y, Y, Y, Y, 4),    # d^4; f'' = 12 d^2 >= 0
    ("d^3", "mean", N, N, N, N, Y, 3),                  # -> -oo as d -> -oo; odd
    ("square(d - 1)", "mean", Y, N, N, Y, Y, 2),        # minimum 0 at d = 1
    ("abs(d + 1) + abs(d - 1) - 2", "mean", Y, N, Y, Y, Y, 1),  # 0 on all of [-1, 1]
    ("d^4 - 2*d^2", "mean", Y, N, Y, N, Y, 4),          # minimum -1 at d = +-1; f''(0) = -4
    ("square(d) + d", "mean", Y, N, N, Y, Y, 2),        # minimum -1/4 at d = -1/2
    ("abs(d)^3", "mean", Y, Y, Y, Y, Y, 3),             # |d|^3: f' = 3 d |d|, continuous
    ("abs(d) - square(d)", "mean", N, N, Y, N, N, 2),   # -> -oo both ways; kink at 0
    ("mul(abs(d), d)", "mean", N, N, N, N, Y, 2),       # d|d|: odd, f' = 2|d|
    ("abs(abs(d) - 1)", "mean", Y, N, Y, N, N, 1),      # zeros at +-1; near 0: 1 - |d|
    ("square(pred) - 2*pred*target + square(target)", "mean", Y, Y, Y, Y, Y, 2),  # = d^2
    ("0.5*square(d) + abs(d)", "0.5*sum", Y, Y, Y, Y, N, 2),  # positive scale keeps all
]
KEYS = ("bounded_below", "minimum", "symmetric", "convex", "differentiable", "growth")


def message(report, key):
    return next(f.message for f in report.findings if f.key == key)


@pytest.mark.parametrize("row", TABLE, ids=[f"{r[0]} [{r[1]}]" for r in TABLE])
def test_verdicts(row):
    formula, reduction, *expected = row
    report = analyze(losscc.program(formula, reduction))
    got = [report.verdict(key) for key in KEYS]
    assert got == expected, report.render()
    assert "target" not in [f.key for f in report.findings]  # all are functions of d alone


def test_messages_say_what_to_do():
    negmean = analyze(losscc.program("square(d)", "-mean"))
    assert any("minimising it diverges" in w for w in negmean.warnings)
    assert "did you mean mean?" in message(negmean, "bounded_below")
    quartic = analyze(losscc.program("square(square(d))"))
    (growth,) = [w for w in quartic.warnings if w.startswith("growth")]
    assert "|d|^3" in growth and "1000 times" in growth and "learning rate must shrink" in growth
    l1 = message(analyze(losscc.program("abs(d)")), "differentiable")
    assert "kink at d = 0, slope -1 on the left and 1 on the right" in l1
    assert analyze(losscc.program("square(d)")).warnings == []


def test_render_wraps_and_marks_warnings():
    text = analyze(losscc.program("square(d)", "-mean")).render(width=80)
    lines = text.splitlines()
    assert lines[0] == "analysis of -mean(d**2), d = pred - target"
    assert all(len(line) <= 80 for line in lines)
    assert lines[1].startswith("! bounded below        no: the loss falls")


def test_a_loss_constant_in_d_is_flagged():
    # d^2 * target at target = 0 is 0 for every d: nothing to train there
    zero = analyze(losscc.program("square(d)*target"))
    assert "the loss is constant (0 for every d)" in message(zero, "minimum")


def test_numbers_behind_the_verdicts():
    def numbers(formula):
        return analyze(losscc.program(formula)).to_json()["numbers"]

    assert numbers("square(d - 1)")["minimum_at"] == [1.0]
    quartic = numbers("d^4 - 2*d^2")
    assert quartic["infimum"] == -1.0 and quartic["minimum_at"] == [-1.0, 1.0]
    shifted = numbers("square(d) + d")
    assert shifted["infimum"] == -0.25 and shifted["minimum_at"] == [-0.5]
    assert numbers("abs(d + 1) + abs(d - 1) - 2")["minimum_on"] == [[-1.0, 1.0]]
    assert numbers("abs(d)")["kinks"] == [{"at": 0.0, "left_slope": -1.0, "right_slope": 1.0}]
    assert numbers("d^3")["infimum"] is None  # -oo: JSON has no infinity
    assert numbers("d^5 + d^2")["degree"] == {"minus_infinity": 5, "plus_infinity": 5}


def test_sum_and_prod_reductions():
    sum_report = analyze(losscc.program("square(d)", "sum"))
    assert sum_report.verdict("reduction") == "sum"
    assert "scale with its size" in message(sum_report, "reduction")
    prod = analyze(losscc.program("square(d)", "prod"))
    assert prod.verdict("bounded_below") is True  # a product of squares is >= 0
    assert prod.verdict("convex") is None  # not decided for a product over a batch
    (warning,) = [w for w in prod.warnings if w.startswith("reduction")]
    # 0.01^n < 1.4e-45 (float32's smallest subnormal) from n = 23: 44.85 / 2 = 22.4;
    # 100^n > 3.4e38 from n = 20: 38.53 / 2 = 19.3
    assert "underflows to 0 in float32 from a batch of 23" in warning
    assert "overflows to inf in float32 from a batch of 20" in warning
    assert "one exact prediction makes the product" in warning
    # -prod of squares: two large factors make the product -> +oo, the loss -> -oo
    assert analyze(losscc.program("square(d)", "-prod")).verdict("bounded_below") is False


def test_losses_that_depend_on_the_target():
    weighted = analyze(losscc.program("square(d)*target"))
    # for target < 0 the loss is -|t| d^2, unbounded; for target > 0 it is fine
    assert weighted.verdict("bounded_below") is None
    assert weighted.verdict("symmetric") is True  # t d^2 is even in d for every t
    assert message(weighted, "bounded_below").startswith(
        "depends on the target: no at target = -10, -1; yes at target = 0, 1, 10")
    assert weighted.to_json()["sampled_targets"] == [-10, -1, 0, 1, 10]
    always = analyze(losscc.program("square(d)*(1 + square(target))"))
    assert always.verdict("bounded_below") is True and always.verdict("minimum") is True
    blind = analyze(losscc.program("square(pred)"))
    assert blind.verdict("target") is False and blind.variable == "pred"
    assert any("not the target" in w for w in blind.warnings)


@pytest.mark.parametrize("row", TABLE, ids=[r[0] for r in TABLE])
def test_infimum_agrees_with_dense_sampling(row):
    """The exact infimum against the NumPy evaluator on a fine grid (independent code)."""
    formula = row[0]
    program = losscc.program(formula)
    grid = np.linspace(-4, 4, 80001)
    values = program.evaluate(d=grid, pred=grid, target=np.zeros_like(grid))
    infimum = analyze(program).to_json()["numbers"]["infimum"]
    if infimum is None:
        assert values.min() < -10  # unbounded: already far down on [-4, 4]
    else:
        assert values.min() >= infimum - 1e-12
        assert values.min() == pytest.approx(infimum, abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(a=st.integers(-4, 4).filter(bool), b=st.integers(-6, 6), c=st.integers(-3, 3))
def test_quadratics(a, b, c):
    """a d^2 + b d + c: bounded iff a > 0; minimum c - b^2/(4a) at -b/(2a)."""
    report = analyze(losscc.program(f"{a}*square(d) + {b}*d + {c}"))
    assert report.verdict("bounded_below") is (a > 0)
    assert report.verdict("convex") is (a > 0)
    assert report.verdict("symmetric") is (b == 0)
    assert report.verdict("minimum") is (a > 0 and b == 0 and c == 0)
    if a > 0:
        numbers = report.to_json()["numbers"]
        assert numbers["minimum_at"] == [pytest.approx(-b / (2 * a))]
        assert numbers["infimum"] == pytest.approx(c - b * b / (4 * a))


@pytest.mark.parametrize("row", TABLE, ids=[r[0] for r in TABLE])
def test_compile_screen_agrees_with_the_analysis(row):
    """losscc compile's SymPy-free screen warns exactly for the unbounded losses."""
    formula, reduction, bounded = row[:3]
    warned = any(w.startswith("bounded below: no") for w in
                 quick_warnings(losscc.program(formula, reduction)))
    assert warned is (not bounded)


def test_cli_analyze_and_compile_warning():
    def run(*argv):
        return subprocess.run([sys.executable, "-m", "losscc", *argv],
                              capture_output=True, text=True)

    result = run("analyze", "square(d)", "-r", "-mean", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["verdicts"]["bounded_below"] is False
    text = run("analyze", "abs(d)")
    assert text.returncode == 0 and "differentiable at 0  no" in text.stdout
    compiled = run("compile", "square(d)", "-r", "-mean")
    assert compiled.returncode == 0
    assert compiled.stdout == losscc.source("square(d)", "-mean")  # stdout stays pure source
    assert "warning: bounded below: no" in compiled.stderr and "diverges" in compiled.stderr
    assert run("compile", "square(square(d))").stderr == ""  # nothing to warn about
    bad = run("analyze", "square(d", "-r", "mean")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


@pytest.mark.parametrize("module", ["losscc.analysis.analyze", "losscc.analysis.piecewise"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


# Products: bounded below for a positive scale and factors >= 0; not when a negative
# scale meets factors that grow, or a factor falls without bound (by hand, batch >= 2).
PRODUCTS = [
    ("square(d)", "prod", True),
    ("square(d)", "-prod", False),
    ("abs(d) + 1", "-2*prod", False),
    ("d^3", "prod", False),
]


@pytest.mark.parametrize("formula,reduction,bounded", PRODUCTS)
def test_products_screen_and_analysis_agree(formula, reduction, bounded):
    program = losscc.program(formula, reduction)
    assert analyze(program).verdict("bounded_below") is bounded
    warned = any(w.startswith("bounded below: no") for w in quick_warnings(program))
    assert warned is (not bounded)


def test_a_bound_that_moves_with_the_target_is_not_called_the_same():
    report = analyze(losscc.program("square(pred) - square(target)"))
    bounded = message(report, "bounded_below")
    assert "[the same at every sampled target]" not in bounded
    assert "depend on it" in bounded


def test_huge_coefficients_do_not_crash_the_screen_or_the_analysis():
    # (3e38 d + 1)^15 has coefficients far beyond float64: exact arithmetic, no overflow
    program = losscc.program("(3e38*d + 1)^15")
    assert any(w.startswith("bounded below: no") for w in quick_warnings(program))
    assert analyze(program).verdict("bounded_below") is False


@pytest.mark.parametrize("formula, reduction", [("square(d)", "-mean"), ("-abs(d)", "mean")])
def test_a_loss_without_a_minimum_is_not_said_to_stall_before_it(formula, reduction):
    findings = {f.key: f.message for f in analyze(losscc.program(formula, reduction)).findings}
    assert findings["minimum"].startswith("none")
    convex = findings["convex"]
    assert "before the minimum" not in convex and "no minimum" in convex


@pytest.mark.parametrize("formula,slope", [
    ("min(d, 5)", "1"),              # slope 1 for d < 5, 0 beyond: the constant 5 is a value
    ("max(d, -20)", "1"),
    ("huber(d, 2)", "2"),            # +-delta far out
    ("pinball(d, 0.9)", "0.9"),      # slopes -0.1 and 0.9
    ("3*abs(d) - 0.5*d", "3.5"),     # slopes -3.5 and 2.5
])
def test_the_far_out_gradient_bound_is_the_outer_slopes(formula, slope):
    report = analyze(losscc.program(formula))
    assert f"at most {slope} far out" in " ".join(message(report, "growth").split())


def test_the_minimum_of_a_square_is_exactly_zero_at_irrational_roots():
    """d^4 - 5 d^2 + 3 d = d (d^3 - 5 d + 3) has three irrational real roots besides 0: its
    square is 0 there exactly, not a rounding residue (once -2.2e-162)."""
    report = analyze(losscc.program("square(d^4 - 5*d^2 + 3*d)"))
    assert " ".join(message(report, "bounded_below").split()) == (
        "yes: every element contributes at least 0")
    assert " ".join(message(report, "minimum").split()).startswith(
        "0 at d = -2.49086, d = 0, d = 0.65662 and d = 1.83424")
    roots = np.sort(np.roots([1, 0, -5, 3]).real)  # independent: NumPy's roots of the cubic
    np.testing.assert_allclose(roots, [-2.49086, 0.65662, 1.83424], atol=5e-6)
