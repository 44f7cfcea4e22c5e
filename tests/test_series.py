"""Truncated losses: coefficients, radius, measured and certified error, lowering.

References are independent of losscc.series: series coefficients written out
as rationals (known expansions), SymPy's own ``series``, and every loss
evaluated again here in NumPy on a grid of our own.
"""
import json
import math
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from losscc import LossccError
from losscc.ir.interpret import evaluate
from losscc.series import MAX_DEGREE, approximate, prepare, radius_of_convergence, taylor_polynomial

erf = np.vectorize(math.erf, otypes=[float])

# The loss, and the same function in NumPy (float64)
NUMPY = {
    "log(cosh(d))": lambda d: np.log(np.cosh(d)),
    "sqrt(1 + d^2) - 1": lambda d: np.sqrt(1 + d**2) - 1,
    "exp(-d^2)": lambda d: np.exp(-d**2),
    "log(1 + d^2)": lambda d: np.log1p(d**2),
    "tanh(d)^2": lambda d: np.tanh(d)**2,
    "atan(d)^2": lambda d: np.arctan(d)**2,
    "1/(1 + d^2)": lambda d: 1 / (1 + d**2),
    "erf(d) * d": lambda d: erf(d) * d,
    "log(1 + abs(d))": lambda d: np.log1p(np.abs(d)),
}


def worst_error(approximation, f, r, points=20001):
    """max |program(d) - f(d)| over float32 d in [-r, r]: the program as MindSpore runs it."""
    d = np.linspace(-r, r, points).astype(np.float32)
    d = d[np.abs(d.astype(np.float64)) <= r]
    got = evaluate(approximation.program.root, d=d, dtype=np.float32).astype(np.float64)
    return float(np.max(np.abs(got - f(d.astype(np.float64)))))


# Known series -------------------------------------------------------------

def coefficients(formula, order, about=0.0):
    return taylor_polynomial(prepare(formula), order, about)


def exactly(c):
    """An mpmath float (or 0) as the Fraction it is, bit for bit."""
    if c == 0:
        return Fraction(0)
    sign, mantissa, exponent, _ = c._mpf_
    return (-1) ** sign * Fraction(mantissa) * Fraction(2) ** exponent


def assert_series(formula, expected):
    got = coefficients(formula, len(expected) - 1)
    for k, (c, e) in enumerate(zip(got, expected)):
        assert abs(exactly(c) - e) <= Fraction(1, 10**30), (formula, k, c, e)


def test_log_cosh_series():
    F = Fraction
    assert_series("log(cosh(d))", [0, 0, F(1, 2), 0, F(-1, 12), 0, F(1, 45), 0, F(-17, 2520),
                                   0, F(31, 14175)])


def test_exp_series():
    assert_series("exp(d)", [Fraction(1, math.factorial(k)) for k in range(13)])
    assert_series("exp(-d^2)", [Fraction(1), 0, Fraction(-1), 0, Fraction(1, 2), 0,
                                Fraction(-1, 6), 0, Fraction(1, 24)])


def test_sqrt_series():
    F = Fraction
    assert_series("sqrt(1 + d^2)", [1, 0, F(1, 2), 0, F(-1, 8), 0, F(1, 16), 0, F(-5, 128),
                                    0, F(7, 256)])


def test_log_one_plus_square_series():
    F = Fraction
    assert_series("log(1 + d^2)", [0, 0, 1, 0, F(-1, 2), 0, F(1, 3), 0, F(-1, 4), 0, F(1, 5)])


@pytest.mark.parametrize("formula,about", [
    ("tanh(d)", 0), ("atan(d) * sin(d)", 0), ("erf(d) + cos(d)", 0), ("sinh(d)^3", 0),
    ("2^d / (2 + d)", 0), ("(1 + d)^(1/3)", 0), ("log(cosh(d))", 0.5), ("atan(d)^2", -0.3),
    ("exp(sin(d)) * erf(d)", 0),
])
def test_series_agree_with_sympy(formula, about):
    d = sp.Symbol("d", real=True)
    expr = prepare(formula).expr
    order = 7
    reference = sp.series(expr, d, sp.Rational(about), order + 1).removeO()
    reference = sp.Poly(sp.expand(reference), d).all_coeffs()[::-1]
    got = coefficients(formula, order, about)
    for k in range(order + 1):
        expected = float(reference[k]) if k < len(reference) else 0.0
        assert abs(float(got[k]) - expected) <= 1e-14 * (1 + abs(expected)), (formula, k)


# Radius of convergence ------------------------------------------------------

@pytest.mark.parametrize("formula,radius", [
    ("log(cosh(d))", math.pi / 2), ("tanh(d)^2", math.pi / 2), ("log(1 + d^2)", 1.0),
    ("sqrt(1 + d^2) - 1", 1.0), ("1/(1 + d^2)", 1.0), ("atan(d)^2", 1.0),
    ("log(1 + abs(d))", 1.0), ("1/(1 + d + d^2)", 1.0), ("log(2 + d)", 2.0),
])
def test_radius_within_two_percent(formula, radius):
    assert radius_of_convergence(prepare(formula)) == pytest.approx(radius, rel=0.02)


@pytest.mark.parametrize("formula", ["exp(-d^2)", "erf(d) * d", "cosh(d) - 1", "d^4 + d^2"])
def test_entire_functions_have_infinite_radius(formula):
    assert radius_of_convergence(prepare(formula)) == math.inf


def test_radius_about_another_point():
    # log(cosh) about 1: the singularities +-i pi/2 are sqrt(1 + (pi/2)^2) away
    got = radius_of_convergence(prepare("log(cosh(d))"), about=1.0)
    assert got == pytest.approx(math.hypot(1, math.pi / 2), rel=0.02)


def test_taylor_beyond_the_radius_is_refused():
    with pytest.raises(LossccError) as info:
        approximate("log(cosh(d))", order=8, range=3)
    e = info.value
    assert "radius of convergence 1.5708" in e.message and "[-3, 3]" in e.message
    assert "--method chebyshev" in e.hint and e.line == 1


# Measured and certified error ------------------------------------------------

CASES = [(f, "taylor", n, None) for f in NUMPY for n in (4, 12)] + [
    (f, "chebyshev", 10, 2.0) for f in NUMPY if f != "log(1 + d^2)"] + [
    ("log(1 + d^2)", "chebyshev", 10, 0.9)]  # log(1 + d^2) on a range inside its radius


@pytest.mark.parametrize("formula,method,order,r", CASES)
def test_certified_bound_is_never_below_the_error(formula, method, order, r):
    a = approximate(formula, order=order, range=r, method=method)
    report = a.report
    ours = worst_error(a, NUMPY[formula], report.range)
    assert report.max_abs_error <= report.certified_bound
    assert ours <= report.certified_bound
    # ... and it is a useful bound, not a wild one
    assert report.certified_bound <= 4 * max(ours, 1e-6)
    assert report.max_abs_error == pytest.approx(ours, rel=0.05, abs=1e-7)


@settings(max_examples=8, deadline=None)
@given(scale=st.floats(0.3, 3.0), k=st.integers(1, 7))
def test_certified_bound_property(scale, k):
    a = approximate(f"log(cosh({scale!r} * d))", order=2 * k)
    ours = worst_error(a, lambda d: np.log(np.cosh(scale * d)), a.report.range, 4001)
    assert ours <= a.report.certified_bound


@pytest.mark.parametrize("method,r", [("taylor", 1.0), ("chebyshev", 3.0)])
def test_tolerance_is_honoured_by_the_smallest_degree(method, r):
    tol = 1e-4
    a = approximate("log(cosh(d))", tol=tol, range=r, method=method)
    assert a.report.certified_bound <= tol and a.report.tolerance == tol
    assert worst_error(a, NUMPY["log(cosh(d))"], r) <= tol
    smaller = approximate("log(cosh(d))", order=a.report.degree - 2, range=r, method=method)
    assert worst_error(smaller, NUMPY["log(cosh(d))"], r) > tol


def test_unreachable_tolerance_says_why():
    with pytest.raises(LossccError) as info:
        approximate("log(cosh(d))", tol=1e-9, range=1)
    e = info.value
    assert e.message.startswith(f"found no polynomial (degree <= {MAX_DEGREE}) with an "
                                "error <= 1e-09 on [-1, 1]")
    assert "float32" in e.hint and "--tol" in e.hint


def test_chebyshev_beats_taylor_at_equal_degree():
    # Taylor of log(cosh(d)) to d^8, written out, evaluated on [-2, 2] (beyond its radius)
    d = np.linspace(-2, 2, 20001)
    taylor = d**2 / 2 - d**4 / 12 + d**6 / 45 - 17 * d**8 / 2520
    taylor_error = np.max(np.abs(taylor - np.log(np.cosh(d))))
    chebyshev = approximate("log(cosh(d))", order=8, method="chebyshev", range=2)
    assert chebyshev.report.degree == 8
    chebyshev_error = worst_error(chebyshev, NUMPY["log(cosh(d))"], 2.0)
    assert chebyshev_error < taylor_error / 10


def test_chebyshev_keeps_parity_exactly():
    even = approximate("log(cosh(d))", order=10, method="chebyshev", range=2).report
    assert all(c == 0 for c in even.coefficients[1::2])
    odd = approximate("tanh(d)", order=9, method="chebyshev", range=2).report
    assert all(c == 0 for c in odd.coefficients[0::2])
    # so the gradient of an even loss at d = 0 is exactly 0
    assert even.coefficients[1] == 0


# Lowering ------------------------------------------------------------------------

@pytest.mark.parametrize("k", [2, 4, 8, 12])
def test_even_polynomial_takes_k_plus_one_products_and_k_additions(k):
    counts = approximate("log(cosh(d))", order=2 * k).program.op_counts
    assert counts.get("Mul", 0) + counts.get("Square", 0) <= k + 1
    assert counts.get("Add", 0) + counts.get("Sub", 0) <= k
    assert set(counts) <= {"Mul", "Square", "Add", "Sub"}  # no Pow, no Abs


def test_abs_route_expands_in_abs_d_with_one_abs():
    a = approximate("log(1 + abs(d))", order=6)
    report = a.report
    assert report.variable == "abs(d)" and a.program.op_counts["Abs"] == 1
    expected = [0, 1, -1 / 2, 1 / 3, -1 / 4, 1 / 5, -1 / 6]  # log(1 + a)
    assert report.coefficients == pytest.approx(expected, rel=1e-7)
    assert worst_error(a, NUMPY["log(1 + abs(d))"], report.range) <= report.certified_bound


def test_abs_route_accepts_even_mixtures():
    report = approximate("abs(d)^3 + d^2", order=4).report  # d^2 = abs(d)^2
    assert report.variable == "abs(d)" and report.coefficients == (0, 0, 1, 1)


def test_pred_and_target_through_their_difference():
    by_d = approximate("log(cosh(d))", order=6).report.coefficients
    assert approximate("log(cosh(pred - target))", order=6).report.coefficients == by_d
    # and a SymPy expression in a plain symbol d
    x = sp.Symbol("d")
    assert approximate(sp.log(sp.cosh(x)), order=6).report.coefficients == by_d


@pytest.mark.parametrize("kwargs,message", [
    (dict(expr="pred^2 - target^2"), "depends on pred and target separately"),
    (dict(expr="abs(d - 1)"), "abs(d - 1) cannot be expanded"),
    (dict(expr="abs(d) + d"), "uses abs(d) and also d on its own"),
    (dict(expr="log(d)"), "not analytic at d = 0: the logarithm of a value <= 0"),
    (dict(expr="log(1 + d)", method="chebyshev", range=2), "not a finite real number at d = -2"),
    (dict(expr="exp(-d^2)", order=4, tol=1e-3), "--order or --tol, not both"),
    (dict(expr="exp(-d^2)", method="chebyshev"), "needs --range"),
    (dict(expr="exp(-d^2)", method="chebyshev", range=1, about=0.5), "--about applies"),
    (dict(expr="exp(-d^2)", order=0), "--order 0"),
    (dict(expr="exp(-d^2)", range=-1.0), "--range -1.0"),
    (dict(expr="exp(-d^2)", tol=0.0), "--tol 0.0"),
    (dict(expr=42), "expected a formula"),
    (dict(expr=sp.exp(sp.Symbol("x"))), "unknown variable 'x'"),
    (dict(expr=sp.asinh(sp.Symbol("d"))), "cannot expand asinh(...)"),
    (dict(expr="d^2", order=1), "every coefficient up to degree 1 is 0"),
])
def test_bad_requests(kwargs, message):
    with pytest.raises(LossccError) as info:
        approximate(**kwargs)
    assert message in str(info.value)


# The report ----------------------------------------------------------------------

def test_report_text_and_json():
    report = approximate("exp(-d^2)", order=6, range=1).report
    data = json.loads(json.dumps(report.to_json(), allow_nan=False))
    assert data["degree"] == 6 and data["radius"] is None  # entire: infinite, null in JSON
    assert data["coefficients"] == pytest.approx([1, 0, -1, 0, 1 / 2, 0, -1 / 6], rel=1e-7)
    assert data["polynomial"] == "1.0 - d^2 + 0.5*d^4 - 0.16666667*d^6"
    assert data["max_abs_error"] <= data["certified_bound"]
    assert data["op_count"] == sum(data["op_counts"].values())
    text = report.text()
    assert "Taylor polynomial about 0 of degree 6 in d, for d in [-1, 1]" in text
    assert "radius of convergence about 0: infinite" in text
    assert f"{report.certified_bound:.3g}" in text


def test_polynomial_text_is_a_formula_compile_takes():
    import losscc

    report = approximate("log(1 + abs(d))", order=4).report
    program = losscc.program(report.polynomial)
    d = np.linspace(-0.5, 0.5, 101)
    ours = sum(c * np.abs(d)**k for k, c in enumerate(report.coefficients))
    assert np.max(np.abs(program.evaluate(d=d) - ours)) < 1e-7


# Training ------------------------------------------------------------------------

@pytest.fixture
def graph_mode():
    """The article's mode (it trains with dataset sink), restored afterwards."""
    import mindspore as ms

    previous = ms.get_context("mode")
    ms.set_context(mode=ms.GRAPH_MODE)
    yield
    ms.set_context(mode=previous)


@pytest.mark.slow
def test_truncated_loss_trains_the_article_regression(graph_mode, tmp_path, monkeypatch):
    """The seed article's regression (its script), shapes made to match,
    trained with a Chebyshev-truncated 16 log(cosh(d / 4)) (Huber-like) loss."""
    monkeypatch.chdir(tmp_path)  # whatever MindSpore writes lands there
    import mindspore as ms
    from mindspore import dataset as ds
    from mindspore import nn
    from mindspore.train import Model

    import losscc

    r = 12.0  # the labels are 2..10 and the first predictions about 0: |d| < 12
    loss = losscc.taylor("16*log(cosh(d/4))", order=16, method="chebyshev", range=r)
    bound = loss.report.certified_bound
    assert bound < 2e-3
    assert "class CompiledLoss(nn.LossBase)" in loss.source_code

    ms.set_seed(0)  # also seeds NumPy, which draws the data

    def get_data(num, a=2.0, b=3.0, c=5.0):
        for _ in range(num):
            x = np.random.uniform(-1.0, 1.0)
            y = np.random.uniform(-1.0, 1.0)
            z = a * x**2 + b * y**3 + c + np.random.normal(0, 0.03)
            yield np.array([x**2, y**3], dtype=np.float32), np.array([z], dtype=np.float32)

    samples = list(get_data(160))
    features = np.stack([s[0] for s in samples])
    labels = np.stack([s[1] for s in samples])

    net = nn.Dense(2, 1, 0.02, 0.02)  # the article's one-layer network

    def batch_losses():
        """Per batch of 10: (compiled loss, NumPy's 16 log cosh(d / 4), max |d|)."""
        out = []
        for i in range(0, 160, 10):
            pred = net(ms.Tensor(features[i:i + 10])).asnumpy()
            d = pred.astype(np.float64) - labels[i:i + 10]
            got = float(loss(ms.Tensor(pred), ms.Tensor(labels[i:i + 10])).asnumpy())
            out.append((got, float(np.mean(16 * np.log(np.cosh(d / 4)))), np.max(np.abs(d))))
        return out

    before = batch_losses()
    data = ds.GeneratorDataset(samples, column_names=["xy", "z"], shuffle=False)
    model = Model(net, loss, nn.Momentum(net.trainable_params(), 0.01, 0.6))
    model.train(10, data.batch(10), dataset_sink_mode=True)  # the article's 160 steps
    after = batch_losses()
    for got, exact, reach in before + after:
        assert reach <= r  # inside the range the report is about
        # the element-wise bound, plus float32 rounding of the mean of 10 values
        assert abs(got - exact) <= bound + 1e-6 * abs(exact)
    mean_before = np.mean([b[1] for b in before])
    mean_after = np.mean([a[1] for a in after])
    assert mean_after < mean_before / 10
    weight = net.weight.asnumpy().ravel()
    assert weight[0] > 0.5 and weight[1] > 0.5  # towards z = 2 x^2 + 3 y^3 + 5


def test_terms_lost_to_float32_are_reported():
    from losscc.series import approximate

    report = approximate("square(d)*1e-30 + 1e-50*d^4", order=4, range=1).report
    assert report.lost_terms == 1 and report.degree == 2 and report.asked_degree == 4
    assert "note: 1 term of the degree-4 polynomial is 0 in float32" in report.text()
