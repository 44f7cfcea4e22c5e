"""Robust losses and selections: exact in float32, minimal, and what MindSpore's own losses compute.

The references are written here, from the literature's definitions, in
float64 (mpmath where float64 is not enough); the compiled programs are
replayed op by op in float32 (and float16) by NumPy, which rounds each
operation as IEEE arithmetic does, and run as MindSpore cells: against the
same bounds on normal-range inputs (MindSpore's CPU kernels may flush
subnormal results to zero, some calls and not others), and against
nn.HuberLoss and nn.SmoothL1Loss.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import losscc
from losscc.ir.interpret import evaluate

F32 = np.finfo(np.float32)
U32, U16 = 2.0**-24, 2.0**-11
# Below these, halving a number (relu's x/2) makes it subnormal: an absolute error of
# one subnormal ulp, so errors are measured relative to at least this size.
TINY32, TINY16 = 2.0**-125, 2.0**-13

# Inputs from the smallest normal to the largest float32, both signs, and the kinks' neighbours.
MAGNITUDES = np.concatenate([
    [0.0, 1e-38, 1e-30, 1e-20, 1e-12, 1e-6, 1e-3, 0.1, 0.5, 1.0, 2.0, 10.0, 1e4, 1e8, 1e12,
     1e20, 1e30, 1e37, 3e38, float(F32.max)],
    np.logspace(-37, 38, 400),
])
X = np.concatenate([MAGNITUDES, -MAGNITUDES]).astype(np.float32)


def near(*points):
    """float32 points at and one, two, 100 ulps around each point, both signs."""
    out = []
    for p in points:
        for sign in (1.0, -1.0):
            v = np.float32(sign * p)
            out += [v, np.nextafter(v, np.float32(np.inf)), np.nextafter(v, np.float32(-np.inf))]
            out += [v + np.float32(k) * np.spacing(v) for k in (-100, -2, 2, 100)]
    return np.array(out, np.float32)


# The definitions, in float64, on the float32 inputs. Parameters are as written (0.9 is
# nine tenths), except eps, whose float32 value makes the kink (|x| = eps exactly).
def huber(x, delta):
    a = np.abs(x)
    return np.where(a <= delta, 0.5 * x * x, delta * (a - 0.5 * delta))


def smooth_l1(x, beta):
    a = np.abs(x)
    return np.where(a < beta, 0.5 * x * x / beta, a - 0.5 * beta)


def pinball(x, tau):
    return np.maximum(-tau * x, (1 - tau) * x)


def eps_insensitive(x, eps):
    return np.maximum(np.abs(x) - eps, 0.0)


def tukey(x, c):
    t = np.minimum(np.abs(x) / c, 1.0) ** 2
    # 1 - (1 - t)^3 without cancellation: t (3 - 3t + t^2)
    return c * c / 6 * t * (3 - 3 * t + t * t)


def f32(v):
    return float(np.float32(v))


def power_bound(k, c):
    """min(x^k, c) as min(|x|, r)^k, r = c^(1/k) in float32: the power's k - 1 roundings,
    and k times the min's error: r's own rounding (1), and the 6 roundings of the
    short min when r's last significand bit is 1 (docs/grammar.md)."""
    r = np.float32(c ** (1.0 / k))
    exact_root = float(r) ** k == c
    odd = int(np.array(r).view(np.uint32)) & 1
    return (k - 1) + k * ((0 if exact_root else 1) + 6 * odd)


CASES = [  # formula, reference (float64, on float64 inputs), bound in roundings u
    ("relu(d)", lambda x: np.maximum(x, 0.0), 1),
    ("max(d, 0)", lambda x: np.maximum(x, 0.0), 1),
    ("min(d, 0)", lambda x: np.minimum(x, 0.0), 1),
    ("max(d, 2.5)", lambda x: np.maximum(x, 2.5), 2),
    ("min(d, -3)", lambda x: np.minimum(x, -3.0), 2),
    # constants so large that x - c overflows: the difference is formed at half scale
    ("max(d, 3e38)", lambda x: np.maximum(x, 3e38), 2),
    ("min(d, -3e38)", lambda x: np.minimum(x, -3e38), 2),
    ("max(d, 1e35)", lambda x: np.maximum(x, 1e35), 2),
    ("min(d, 5)", lambda x: np.minimum(x, 5.0), 0),
    ("max(d, -5)", lambda x: np.maximum(x, -5.0), 0),
    ("min(abs(d), 5)", lambda x: np.minimum(np.abs(x), 5.0), 0),
    ("min(abs(d), 0.2)", lambda x: np.minimum(np.abs(x), f32(0.2)), 6),
    ("clip(d, -1, 1)", lambda x: np.clip(x, -1.0, 1.0), 0),
    ("clip(d, -2.5, 2.5)", lambda x: np.clip(x, -2.5, 2.5), 6),
    ("clip(d, 0, 5)", lambda x: np.clip(x, 0.0, 5.0), 0),
    ("clip(d, -4, -1)", lambda x: np.clip(x, -4.0, -1.0), 2),
    ("clip(d, 0.5, 3)", lambda x: np.clip(x, 0.5, 3.0), 8),
    ("clip(d, -3, -0.5)", lambda x: np.clip(x, -3.0, -0.5), 8),
    ("clip(d, -1, 4)", lambda x: np.clip(x, -1.0, 4.0), 6),
    ("clip(d, -4, 1)", lambda x: np.clip(x, -4.0, 1.0), 6),
    ("huber(d)", lambda x: huber(x, 1.0), 3),
    ("huber(d, 0.5)", lambda x: huber(x, 0.5), 3),
    ("huber(d, delta=3)", lambda x: huber(x, 3.0), 3),
    ("huber(d, 100)", lambda x: huber(x, 100.0), 3),
    ("smooth_l1(d)", lambda x: smooth_l1(x, 1.0), 3),
    ("smooth_l1(d, beta=0.5)", lambda x: smooth_l1(x, 0.5), 3),
    ("smooth_l1(d, 3)", lambda x: smooth_l1(x, 3.0), 3),
    ("pinball(d, 0.5)", lambda x: pinball(x, 0.5), 1),
    ("pinball(d, 0.75)", lambda x: pinball(x, 0.75), 2),
    ("pinball(d, 0.9)", lambda x: pinball(x, 0.9), 5),
    ("quantile(d, tau=0.1)", lambda x: pinball(x, 0.1), 5),
    ("pinball(d, 0.99)", lambda x: pinball(x, 0.99), 2),
    ("pinball(d, 0.01)", lambda x: pinball(x, 0.01), 2),
    ("eps_insensitive(d, 0.2)", lambda x: eps_insensitive(x, f32(0.2)), 1),
    ("eps_insensitive(d, 3)", lambda x: eps_insensitive(x, 3.0), 1),
    ("tukey(d)", lambda x: tukey(x, 4.685), 12),
    ("tukey(d, c=1)", lambda x: tukey(x, 1.0), 12),
    ("tukey(d, c=0.01)", lambda x: tukey(x, 0.01), 12),
    ("min(square(d), 1)", lambda x: np.minimum(x * x, 1.0), 1),
    ("min(square(d), 3)", lambda x: np.minimum(x * x, 3.0), 8),
    # powers under a min: taken below the power, so x^k never overflows (was NaN)
    ("min(d^4, 1)", lambda x: np.minimum(x**4, 1.0), power_bound(4, 1.0)),
    ("min(abs(d)^3, 2)", lambda x: np.minimum(np.abs(x)**3, 2.0), power_bound(3, 2.0)),
    ("min(d^6, 2)", lambda x: np.minimum(x**6, 2.0), power_bound(6, 2.0)),
    ("min(d^3, 2)", lambda x: np.minimum(x**3, 2.0), power_bound(3, 2.0)),
    ("max(d^3, -2)", lambda x: np.maximum(x**3, -2.0), power_bound(3, 2.0)),
    ("max(-d^4, -1)", lambda x: np.maximum(-x**4, -1.0), power_bound(4, 1.0)),
    # the truncated quadratic: 0.5 min(d^2, 2), halving exact
    ("min(0.5*square(d), 1)", lambda x: np.minimum(0.5 * x * x, 1.0), power_bound(2, 2.0)),
    # 3 min(d^2, 2/3): 2/3 rounded and the product, one rounding each more
    ("min(3*square(d), 2)", lambda x: np.minimum(3 * x * x, 2.0), power_bound(2, 2 / 3) + 2),
]


def relative_error(got, want, tiny):
    """|got - want| / |want|, where |want| is at least ``tiny`` (below it: absolute / tiny)."""
    got = got.astype(np.float64)
    scale = np.maximum(np.abs(want), tiny)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.abs(got - want) / scale


@pytest.mark.parametrize("formula,reference,bound", CASES, ids=[c[0] for c in CASES])
def test_float32_within_its_stated_roundings_from_1e_38_to_3e38(formula, reference, bound):
    program = losscc.program(formula)
    kinks = [1.0, 5.0, 0.2, 2.5, 3.0, 0.5, 4.0, 100.0, 4.685, 0.01]
    x = np.concatenate([X, near(*kinks)])
    want = reference(x.astype(np.float64))
    finite = np.isfinite(want) & (np.abs(want) <= F32.max)
    got = evaluate(program.root, d=x, dtype=np.float32)
    assert np.all(np.isfinite(got[finite])), (formula, x[finite][~np.isfinite(got[finite])][:5])
    # relative, above float32's normal range (below it every result carries absolute
    # errors of a subnormal ulp, 1.4e-45)
    errors = relative_error(got[finite], want[finite], tiny=TINY32)
    worst = int(np.argmax(errors))
    assert errors[worst] <= (bound + 0.01) * U32, (formula, x[finite][worst], got[finite][worst],
                                                    want[finite][worst], errors[worst] / U32)


# float16 cells: parameters that are float16 numbers (0.2, 0.9, 0.1, 0.99 and 4.685 are
# not: the definitions would differ), constants float16 holds (0.01 it holds only coarsely).
FLOAT16_CASES = [c for c in CASES
                 if not any(p in c[0] for p in ("0.01", "0.2", "0.9", "0.1", "0.99", "e3"))
                 and not c[0].startswith("tukey(d)")]


@pytest.mark.parametrize("formula,reference,bound", FLOAT16_CASES, ids=[c[0] for c in FLOAT16_CASES])
def test_float16_where_the_definition_is_finite(formula, reference, bound):
    program = losscc.program(formula)
    x = np.concatenate([np.logspace(-4, 4.8, 300), np.linspace(-7, 7, 281)]).astype(np.float16)
    x = np.concatenate([x, -x])
    want = reference(x.astype(np.float64))
    finite = np.abs(want) <= float(np.finfo(np.float16).max)
    got = evaluate(program.root, d=x, dtype=np.float16)
    errors = relative_error(got[finite], want[finite], tiny=TINY16)
    assert np.all(np.isfinite(got[finite])), formula
    # float16 rounds the forms' constants and halvings coarser: at least one rounding there
    assert errors.max() <= (max(bound, 1) + 0.01) * U16, (formula, errors.max() / U16)


def test_mindspore_cells_within_the_same_bounds_on_normal_inputs():
    """What actually runs: every case as a PyNative cell, where no intermediate is
    subnormal (|x| >= 2^-60, so squares stay normal; results 0 or >= 2^-100)."""
    import mindspore as ms

    previous = ms.get_context("mode")
    ms.set_context(mode=ms.PYNATIVE_MODE)
    try:
        kinks = [1.0, 5.0, 0.2, 2.5, 3.0, 0.5, 4.0, 100.0, 4.685, 0.01]
        x = np.concatenate([X, near(*kinks)])
        x = x[(x == 0) | (np.abs(x) >= 2.0**-60)]
        for formula, reference, bound in CASES:
            want = reference(x.astype(np.float64))
            keep = (np.abs(want) <= F32.max) & ((want == 0) | (np.abs(want) >= 2.0**-100))
            cell = losscc.compile(formula, reduction="none")
            xs = x[keep]
            got = cell(ms.Tensor(xs), ms.Tensor(np.zeros_like(xs))).asnumpy()
            errors = relative_error(got, want[keep], tiny=TINY32)
            worst = int(np.argmax(errors))
            assert errors[worst] <= (bound + 0.01) * U32, (formula, xs[worst], got[worst],
                                                            want[keep][worst], errors[worst] / U32)
    finally:
        ms.set_context(mode=previous)


# Every float32 in [1, 2), both signs. Each form's relative error is the same at x and at
# 2x while every intermediate stays normal (x/2 and products are exact scalings), so
# the worst case over this binade is the worst case over every normal input.
BINADE = (np.arange(2**23, dtype=np.uint32) | np.uint32(0x3F800000)).view(np.float32)


@pytest.mark.parametrize("tau", [0.01, 0.1, 0.105, 0.11, 0.115, 0.17, 0.25, 0.35, 0.41, 0.47,
                                 0.5, 0.63, 0.75, 0.83, 0.89, 0.9, 0.99])
def test_pinball_over_every_float32_within_its_stated_bound_and_five_roundings(tau):
    """The 4-operation form where its bound (the constant 1 - 2 tau's own rounding
    included) is at most 5u, the exact split (at most 2u) elsewhere."""
    from losscc.compiler.passes.robust import pinball_short_form_bound

    program = losscc.program(f"pinball(d, {tau})")
    worst = 0.0
    for sign in (1.0, -1.0):
        x = np.float32(sign) * BINADE
        got = evaluate(program.root, d=x, dtype=np.float32).astype(np.float64)
        want = pinball(x.astype(np.float64), tau)
        worst = max(worst, float((np.abs(got - want) / np.abs(want)).max()) / U32)
    short = program.op_count == 4
    bound = pinball_short_form_bound(tau) if short else 2.0
    assert worst <= min(bound, 5.0), (tau, program.op_count, worst, bound)


# The operation budgets, and where exactness needs more (docs/grammar.md says why).
OPS = {
    "relu(d)": 3, "huber(d, 1)": 9, "smooth_l1(d, 1)": 9, "pinball(d, 0.9)": 4,
    "eps_insensitive(d, 0.2)": 5,
    # beyond the 10, 7 and 7: no shorter program is exact in float32
    "clip(d, -1, 1)": 16, "min(square(d), 1)": 10, "min(abs(d), 1)": 9, "min(abs(d), 0.2)": 10,
    "tukey(d)": 16, "pinball(d, 0.99)": 5, "min(d, pred)": 15,
}


@pytest.mark.parametrize("formula,count", sorted(OPS.items()))
def test_operation_counts(formula, count):
    assert losscc.program(formula).op_count == count


def test_abs_d_is_computed_once_and_shared():
    program = losscc.program("huber(d, 1) + eps_insensitive(d, 0.5) + abs(d)")
    assert program.op_counts["Abs"] == 3  # |d|, and the two relus' |h|: |d| once


def test_the_lowered_forms_are_the_final_program():
    """No pass after the lowering turns a stable form into a shorter unstable one, and
    a formula written with relu is as accurate compiled as it is as written."""
    x = np.array([1e-30, 2.4e-7, 3.0, 1e8, 1e30, -1e30], np.float32)
    for formula in ["min(d, 5) + 0", "clip(d, 0, 5)", "huber(d, 2) * 1", "2*min(0.5*d, 2.5)"]:
        program = losscc.program(formula)
        got = evaluate(program.root, d=x, dtype=np.float32)
        want = evaluate(program.raw, d=x.astype(np.float64))
        assert np.all(relative_error(got, want, F32.tiny) <= 8 * U32), (formula, got, want)
    for formula in ["5 - relu(5 - d)", "d - relu(d - 5)", "relu(d) + relu(-d)"]:
        program = losscc.program(formula)
        want = evaluate(program.raw, d=x.astype(np.float64))
        as_written = relative_error(evaluate(program.raw, d=x, dtype=np.float32), want, F32.tiny)
        compiled = relative_error(evaluate(program.root, d=x, dtype=np.float32), want, F32.tiny)
        assert np.all(compiled <= as_written + 8 * U32), (formula, compiled, as_written)


def test_compositions_stay_accurate_at_huge_and_tiny_residuals():
    x = np.array([1e-20, 1e-6, 0.3, 1.7, 40.0, 1e6, 1e15, 1e19], np.float32)
    xd = x.astype(np.float64)
    cases = {
        "huber(0.5*d, 2) + 0.1*square(d)": huber(0.5 * xd, 2.0) + f32(0.1) * xd * xd,
        "2*pinball(d, 0.25) + tukey(d, 2)": 2 * pinball(xd, 0.25) + tukey(xd, 2.0),
        "clip(huber(d), 0, 10)": np.clip(huber(xd, 1.0), 0, 10),
    }
    for formula, want in cases.items():
        got = evaluate(losscc.program(formula).root, d=x, dtype=np.float32)
        assert np.all(relative_error(got, want, F32.tiny) <= 12 * U32), (formula, got, want)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(-float(F32.max), float(F32.max), width=32), min_size=1, max_size=20),
       st.floats(-1e6, 1e6, width=32), st.floats(0.0009765625, 1048576.0, width=32))
def test_selections_equal_numpy_on_random_inputs(xs, a, width):
    x = np.array(xs, np.float32)
    lo, hi = np.float32(a), np.float32(a + width)
    if not lo < hi:
        return
    selections = {  # exact on one side of the constant, within 2 roundings on the other
        f"min(d, {float(lo)!r})": np.minimum(x, lo), f"max(d, {float(lo)!r})": np.maximum(x, lo),
    }
    for formula, want in selections.items():
        got = evaluate(losscc.program(formula).root, d=x, dtype=np.float32)
        np.testing.assert_allclose(got, want, rtol=2 * U32, atol=1e-44, err_msg=formula)
    got = evaluate(losscc.program(f"clip(d, {float(lo)!r}, {float(hi)!r})").root, d=x,
                   dtype=np.float32)
    np.testing.assert_allclose(got, np.clip(x, lo, hi), rtol=8 * U32, atol=1e-44)
    got = evaluate(losscc.program("relu(d)").root, d=x, dtype=np.float32)
    np.testing.assert_array_equal(got[np.abs(x) > 1e-37], np.maximum(x, 0)[np.abs(x) > 1e-37])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-2.0**100, 2.0**100, width=32), min_size=1, max_size=10),
       st.lists(st.floats(-2.0**100, 2.0**100, width=32), min_size=1, max_size=10))
def test_min_and_max_of_two_inputs_equal_numpy(ps, ts):
    n = min(len(ps), len(ts))
    pred, target = np.array(ps[:n], np.float32), np.array(ts[:n], np.float32)
    normal = (np.abs(pred) >= 2.0**-125) & (np.abs(target) >= 2.0**-125)  # halving is exact
    for formula, want in (("min(pred, target)", np.minimum(pred, target)),
                          ("max(pred, target)", np.maximum(pred, target))):
        got = evaluate(losscc.program(formula).root, pred=pred, target=target, dtype=np.float32)
        np.testing.assert_array_equal(got[normal], want[normal], err_msg=formula)
        np.testing.assert_allclose(got, want, rtol=U32, atol=1e-44)  # halved subnormals


@pytest.mark.parametrize("formula,message,column", [
    ("huber(d, delt=1)", "huber has no parameter 'delt'", 10),
    ("huber(d, -1)", "huber's delta must be > 0, got -1", 10),
    ("smooth_l1(d, beta=0)", "smooth_l1's beta must be > 0, got 0", 19),
    ("pinball(d, 1.5)", "pinball's tau must be strictly between 0 and 1, got 1.5", 12),
    ("quantile(d, tau=0)", "quantile's tau must be strictly between 0 and 1, got 0", 17),
    ("eps_insensitive(d, -0.1)", "eps_insensitive's eps must be >= 0, got -0.1", 20),
    ("tukey(d, c=-4)", "tukey's c must be > 0, got -4", 12),
    ("tukey(d, c=1e13)", "tukey's c must be between 1e-12 and 1e+12, got 10000000000000", 12),
    ("huber(d, delta=1e-40)", "huber's delta must be between 1e-12 and 1e+12, got 1e-40", 16),
    ("huber(d, d)", "huber's delta must be a constant", 10),
    ("clip(d, 1, -1)", "clip needs lo < hi (got lo = 1, hi = -1)", 1),
    ("clip(d, pred, 1)", "clip's lo must be a constant", 9),
    ("pinball(d)", "pinball takes 2 arguments, got 1", 1),
    ("huber(d, 1, 2)", "huber takes at most 2 arguments, got 3", 13),
    ("huber(d, 1, delta=2)", "huber's delta is given twice", 13),
    ("huber(delta=1, d)", "an argument by position after one by name", 16),
    ("huber(delta=1)", "huber needs x", 1),
    ("huber(d, 2*(1+0.5))", None, None),  # folded constant expressions are constants
])
def test_parameters_are_checked_where_they_are_written(formula, message, column):
    if message is None:
        assert losscc.program(formula).root is losscc.program("huber(d, 3)").root
        return
    with pytest.raises(losscc.LossccError) as info:
        losscc.program(formula)
    assert info.value.message == message and info.value.column == column and info.value.hint


def test_analysis_understands_robust_losses():
    from losscc.analysis.analyze import analyze

    huber_1 = analyze(losscc.program("huber(d, 1)"))
    assert huber_1.verdict("convex") is True and huber_1.verdict("growth") == 1
    assert huber_1.verdict("differentiable") is True  # C1: no kink
    tukey_c = analyze(losscc.program("tukey(d)"))
    assert tukey_c.verdict("convex") is False and tukey_c.verdict("growth") == 0
    assert tukey_c.numbers["supremum"] == pytest.approx(4.685**2 / 6)
    pin = analyze(losscc.program("pinball(d, 0.9)"))
    assert pin.verdict("symmetric") is False and pin.verdict("differentiable") is False
    assert pin.numbers["kinks"] == [{"at": 0.0, "left_slope": -0.9, "right_slope": 0.1}]
    eps = analyze(losscc.program("eps_insensitive(d, 0.5)"))
    assert [k["at"] for k in eps.numbers["kinks"]] == [-0.5, 0.5]
    assert eps.numbers["minimum_on"] == [[-0.5, 0.5]]
    clip = analyze(losscc.program("clip(d, -1, 2)"))
    assert [k["at"] for k in clip.numbers["kinks"]] == [-1.0, 2.0]


def test_taylor_takes_them_where_the_result_is_analytic():
    from losscc.series import approximate

    # max(square(d), 0) is square(d): SymPy sees it, and the series is exact
    a = approximate("max(square(d), 0) + log(cosh(d))", order=4, range=1)
    assert a.report.coefficients[2] == pytest.approx(1.5)
    # on [-1, 1] huber(d, 1) is d^2/2: with log(cosh(d)) = d^2/2 - d^4/12 + ..., d^2 - d^4/12
    a = approximate("huber(d, 1) + log(cosh(d))", order=4, range=1)
    assert a.report.coefficients[:5] == pytest.approx([0, 0, 1.0, 0, -1 / 12])
    # tukey(d, c) inside |d| <= c: c^2/6 (3t - 3t^2 + t^3), t = d^2/c^2; min(d, 1) is d
    a = approximate("min(d, 1) + tukey(d, c=2)", order=4, range=0.9)
    assert a.report.coefficients[:5] == pytest.approx([0, 1.0, 0.5, 0, -1 / 8])
    # a piece that only touches the range's ends: min(d^2, 1) is d^2 on [-1, 1];
    # cosh(d) = 1 + d^2/2 + d^4/24
    a = approximate("min(square(d), 1) + cosh(d)", order=4, range=1)
    assert a.report.coefficients[:5] == pytest.approx([1.0, 0, 1.5, 0, 1 / 24])
    # in pred and target; and abs of something other than d: |d + 5| = d + 5 on [-1, 1]
    a = approximate("huber(pred - target, 1)", order=4, range=1)
    assert a.report.coefficients[:3] == pytest.approx([0, 0, 0.5])
    a = approximate("huber(d + 5, 1)", order=4, range=1)  # 1 * (|d + 5| - 1/2)
    assert a.report.coefficients[:2] == pytest.approx([4.5, 1.0])
    # across a kink no series holds: refused, saying so
    for formula, reach in (("huber(d, 1) + log(cosh(d))", 2.0), ("clip(d, -1, 1)", 1.5),
                           ("huber(d, 1)", None)):
        with pytest.raises(losscc.LossccError, match="changes piece .* inside the range"):
            approximate(formula, order=4, range=reach)


# --- MindSpore's own losses -------------------------------------------------

def _grad_points(delta):
    return np.array([0.0, delta, -delta, np.nextafter(np.float32(delta), 0),
                     np.nextafter(np.float32(delta), 10), 0.5 * delta, 3 * delta, -3 * delta,
                     1e4, -1e30, 1e-6], np.float32)


@pytest.mark.slow
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("delta", [0.5, 1.0, 2.0, 3.0])
def test_huber_and_smooth_l1_equal_mindspores_losses(ms_mode, reduction, delta):
    import mindspore as ms
    from mindspore import nn

    pred = _grad_points(delta)
    target = np.zeros_like(pred)
    target[-2:] = [0.25, -1.0]  # a nonzero target too
    p, t = ms.Tensor(pred), ms.Tensor(target)
    pairs = [(losscc.compile(f"huber(d, {delta})", reduction=reduction),
              nn.HuberLoss(reduction=reduction, delta=delta)),
             (losscc.compile(f"smooth_l1(d, beta={delta})", reduction=reduction),
              nn.SmoothL1Loss(beta=delta, reduction=reduction))]
    for ours, theirs in pairs:
        v1, g1 = ms.value_and_grad(ours)(p, t)
        v2, g2 = ms.value_and_grad(theirs)(p, t)
        np.testing.assert_allclose(v1.asnumpy(), v2.asnumpy(), rtol=2 * U32, atol=1e-30)
        np.testing.assert_allclose(g1.asnumpy(), g2.asnumpy(), rtol=2 * U32, atol=1e-30)


@pytest.mark.slow
def test_pinball_trains_a_constant_to_the_tau_quantile():
    """Minimising the pinball loss over a constant predictor gives the tau-quantile."""
    import mindspore as ms
    from mindspore import nn

    rng = np.random.default_rng(3)
    y = rng.standard_t(3, size=2000).astype(np.float32) * 2 + 7
    target = ms.Tensor(y)
    for tau in (0.1, 0.5, 0.9):
        loss = losscc.compile(f"pinball(d, {tau})", shapes="strict")
        b = ms.Parameter(ms.Tensor(np.float32(0.0)), name="b")
        steps = 1000
        schedule = [0.2 * 0.5 * (1 + math.cos(math.pi * i / steps)) for i in range(steps)]
        optimizer = nn.Adam([b], learning_rate=schedule)

        def forward():
            return loss(b * ms.ops.ones_like(target), target)

        grad = ms.value_and_grad(forward, None, optimizer.parameters)

        @ms.jit
        def step():
            value, grads = grad()
            optimizer(grads)
            return value

        for _ in range(steps):
            step()
        assert float(b.asnumpy()) == pytest.approx(np.quantile(y, tau), abs=0.05), tau


@pytest.mark.parametrize("formula,k,c", [("min(d^4, 3.40282347e38)", 4, 3.40282347e38),
                                         ("min(square(d), 3.40282347e38)", 2, 3.40282347e38),
                                         ("min(square(square(d)), 3.4e38)", 4, 3.4e38)])
def test_a_min_near_float32s_largest_never_overflows(formula, k, c):
    """The bound under the power is rounded down where rounding up would make its power
    inf (3.40282347e38^(1/4) rounds up to 2^32; (2^32)^4 = 2^128)."""
    x = np.array([0.5, 4e9, 5e9, 1e20, 3e38, -3e38], np.float32)
    got = evaluate(losscc.program(formula).root, d=x, dtype=np.float32)
    want = np.minimum(x.astype(np.float64) ** k, min(c, float(F32.max)))
    assert np.all(np.isfinite(got))
    assert np.all(np.abs(got - want) <= 8 * k * U32 * want), (got, want)
