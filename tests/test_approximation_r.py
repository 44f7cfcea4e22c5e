"""Certified cells on all of R (and on ranges): method auto, the issue's goal table.

Every check measures the cell as it runs, in float32, against references
written here (float64 formulas chosen to be accurate everywhere, mpmath at
the worst point), and compares with the certificate. Nothing is compared
with values losscc.series computes itself.
"""
import json
import math
import subprocess
import sys

import mpmath
import numpy as np
import pytest
import sympy as sp

from losscc import LossccError, ir
from losscc.cli.main import main
from losscc.series import approximate
from losscc.series.cell_certificate import Truth, certify
from losscc.series.straight_line import Line

FLT_MAX = float(np.finfo(np.float32).max)


# Independent references (float64, stable everywhere) ----------------------------------

def logcosh(d):
    u = np.abs(d)
    return u - math.log(2) + np.log1p(np.exp(-2 * u)), np.tanh(d)


def softplus(d):
    return np.maximum(d, 0) + np.log1p(np.exp(-np.abs(d))), 0.5 * (1 + np.tanh(d / 2))


def gauss(d):
    with np.errstate(over="ignore"):
        return -np.expm1(-np.square(d) / 2), d * np.exp(-np.square(d) / 2)


def pseudo_huber(d):
    u = np.abs(d)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        near = np.square(d) / (np.sqrt(1 + np.square(d)) + 1)
        far = u - 1 + 0.5 / u  # sqrt(1 + u^2) - 1 - (u - 1) < 1/(8 u^3) beyond 1e8
        value = np.where(u < 1e8, near, far)
        slope = np.where(u < 1e8, d / np.sqrt(1 + np.square(d)), np.sign(d))
    return value, slope


MPMATH = {
    "log(cosh(d))": lambda x: mpmath.log(mpmath.cosh(x)),
    "log(1+exp(d))": lambda x: mpmath.log(1 + mpmath.exp(x)),
    "1-exp(-d^2/2)": lambda x: 1 - mpmath.exp(-x**2 / 2),
    "sqrt(1+d^2)-1": lambda x: mpmath.sqrt(1 + x**2) - 1,
}
REFERENCE = {"log(cosh(d))": logcosh, "log(1+exp(d))": softplus, "1-exp(-d^2/2)": gauss,
             "sqrt(1+d^2)-1": pseudo_huber}

# The goal table: loss, domain, tol (mixed), ops at most
GOALS = [
    ("log(cosh(d))", math.inf, 1e-5, 64),
    ("log(1+exp(d))", math.inf, 1e-5, 72),
    ("1-exp(-d^2/2)", math.inf, 1e-5, 64),
    ("log(cosh(d))", 3.0, 1e-5, None),
    ("sqrt(1+d^2)-1", 10.0, 1e-4, None),
    ("log(1+exp(d))", 10.0, 1e-4, None),
]


# The cell as it runs: op by op in float32 (and its derivative), written here -------------

def run32(root, d):
    """The IR op by op in NumPy float32: bit for bit MindSpore's CPU kernels for these ops."""
    values = {}
    d = np.asarray(d, dtype=np.float32)
    with np.errstate(all="ignore"):
        for node in ir.topological(root):
            if node.op == "const":
                values[id(node)] = np.float32(node.value)
                continue
            if node.op == "var":
                values[id(node)] = d
                continue
            a = [values[id(x)] for x in node.args]
            values[id(node)] = {
                "abs": lambda: np.abs(a[0]), "neg": lambda: np.negative(a[0]),
                "square": lambda: np.square(a[0]), "add": lambda: np.add(a[0], a[1]),
                "sub": lambda: np.subtract(a[0], a[1]), "mul": lambda: np.multiply(a[0], a[1]),
            }[node.op]()
            assert np.asarray(values[id(node)]).dtype == np.float32
    return np.broadcast_to(values[id(root)], d.shape).astype(np.float64)


def slope64(root, d):
    """d cell / d d by forward differentiation in float64; Abs'(0) = 0 as in MindSpore."""
    values = {}
    d = np.asarray(d, dtype=np.float64)
    for node in ir.topological(root):
        if node.op == "const":
            values[id(node)] = (node.value, 0.0)
            continue
        if node.op == "var":
            values[id(node)] = (d, np.ones_like(d))
            continue
        (a, da), *rest = [values[id(x)] for x in node.args]
        if node.op == "abs":
            values[id(node)] = (np.abs(a), np.sign(a) * da)
        elif node.op == "neg":
            values[id(node)] = (-a, -da)
        elif node.op == "square":
            values[id(node)] = (a * a, 2 * a * da)
        else:
            (b, db), = rest
            values[id(node)] = {"add": (a + b, da + db), "sub": (a - b, da - db),
                                "mul": (a * b, da * b + a * db)}[node.op]
    return values[id(root)][1]


def mixed(got, exact):
    error = np.abs(got - exact) / np.maximum(1.0, np.abs(exact))
    error[~np.isfinite(got)] = np.inf
    return error


def float32_points(reach, seed=1):
    """A dense grid of float32 d: the range (or [0, 40] on R), its ends' neighbours, and on R
    a geometric sweep to 1e30, then 1e35, 3e38, the largest float32 and random bit patterns."""
    rng = np.random.default_rng(seed)
    if math.isinf(reach):
        parts = [np.linspace(0, 40, 800_001), np.geomspace(40, 1e30, 50_000),
                 np.array([1e35, 3e38, FLT_MAX]),
                 rng.integers(0, 0x7F7FFFFF, 300_000).astype(np.uint32).view(np.float32)]
    else:
        parts = [np.linspace(0, reach, 800_001), rng.uniform(0, reach, 200_000)]
    d = np.concatenate([p.astype(np.float64) for p in parts]).astype(np.float32)
    d = d[np.isfinite(d) & (np.abs(d.astype(np.float64)) <= reach)]
    return np.concatenate([d, -d])


@pytest.fixture(scope="module")
def goals():
    """The six goal rows, approximated once for the module."""
    return {(f, r, tol): approximate(f, tol=tol, range=r) for f, r, tol, _ in GOALS}


@pytest.mark.parametrize("formula,reach,tol,limit", GOALS)
def test_goal_rows(goals, formula, reach, tol, limit):
    a = goals[(formula, reach, tol)]
    report = a.report
    assert report.certified_bound <= tol
    if limit is not None:
        assert a.program.op_count <= limit
    d = float32_points(reach)
    exact, _ = REFERENCE[formula](d.astype(np.float64))
    error = mixed(run32(a.program.root, d), exact)
    worst = int(np.argmax(error))
    # the certificate holds for the cell as it runs, everywhere we look
    assert error[worst] <= report.certified_bound
    # ... and is not wild
    assert report.certified_bound <= 2 * max(error[worst], tol / 100)
    # an mpmath check at the worst point (50 digits)
    with mpmath.workdps(50):
        x = mpmath.mpf(float(d[worst]))
        f = MPMATH[formula](x)
        got = run32(a.program.root, np.array([d[worst]]))[0]
        assert abs(got - f) / max(1, abs(f)) <= report.certified_bound
    # gradient within 1e-3 (mixed) on [-12, 12] (or the range)
    g = np.linspace(-min(12, reach), min(12, reach), 96_001)
    _, slope = REFERENCE[formula](g)
    gradient = float(np.max(mixed(slope64(a.program.root, g), slope)))
    assert gradient <= 1e-3
    # the report says what it measured, and it agrees with ours
    data = json.loads(json.dumps(report.to_json(), allow_nan=False))
    assert data["certified_bound"] == report.certified_bound
    if math.isinf(reach):
        assert data["range"] is None and data["domain"] == "R"
        assert data["measured"]["max_abs_d"] >= 3e38
        assert data["structure"]["clip"] is not None
        assert set(data["components"]) == {"approximation", "rounding", "tail"}
        assert data["gradient_error"] == pytest.approx(gradient, rel=0.2, abs=2e-5)
        assert data["measured"]["max_mixed_error"] <= data["certified_bound"]


def test_far_out_the_cell_is_the_asymptote(goals):
    a = goals[("log(cosh(d))", math.inf, 1e-5)]
    d = np.array([1e30, -1e30, 3e38, -FLT_MAX, FLT_MAX], dtype=np.float32)
    got = run32(a.program.root, d)
    assert np.all(np.isfinite(got))
    exact, _ = logcosh(d.astype(np.float64))
    assert np.all(mixed(got, exact) <= a.report.certified_bound)
    # the naive ops.log(ops.cosh(d)) overflows from |d| = 89 on, in float32
    with np.errstate(over="ignore"):
        assert np.isinf(np.log(np.cosh(np.float32(90))))
    assert run32(a.program.root, np.array([90.0]))[0] == pytest.approx(90 - math.log(2))


def test_structure_is_reported(goals):
    s = goals[("log(1+exp(d))", math.inf, 1e-5)].report.structure
    assert s["route"] == "u" and s["asymptote"] == "d/2 + |d|/2"
    assert "log1p(exp(-u))" in s["remainder"]
    text = goals[("log(cosh(d))", math.inf, 1e-5)].report.text()
    assert "on all of R" in text and "log1p(exp(-2*u))" in text and "certified" in text


def test_even_losses_have_zero_gradient_at_zero(goals):
    for key in [("log(cosh(d))", math.inf, 1e-5), ("1-exp(-d^2/2)", math.inf, 1e-5)]:
        assert slope64(goals[key].program.root, np.array([0.0]))[0] == 0.0
    softplus_cell = goals[("log(1+exp(d))", math.inf, 1e-5)].program.root
    assert slope64(softplus_cell, np.array([0.0]))[0] == 0.5


@pytest.mark.slow
def test_mindspore_cells_agree_bit_for_bit(goals):
    """Real MindSpore cells: the NumPy replay above is exactly what they compute, and
    their gradients (ms.grad) are within 1e-3 of f'."""
    import mindspore as ms

    ms.set_context(mode=ms.PYNATIVE_MODE)
    d = np.concatenate([np.linspace(-20, 20, 40_001), np.geomspace(20, FLT_MAX, 2000),
                        -np.geomspace(20, FLT_MAX, 2000)]).astype(np.float32)
    zeros = np.zeros_like(d)
    for key in [("log(cosh(d))", math.inf, 1e-5), ("log(1+exp(d))", math.inf, 1e-5),
                ("1-exp(-d^2/2)", math.inf, 1e-5)]:
        a = goals[key]
        cell = approximate(key[0], tol=key[2], range=key[1], reduction="none").load()
        got = cell(ms.Tensor(d), ms.Tensor(zeros)).asnumpy()
        ours = run32(a.program.root, d).astype(np.float32)
        assert np.array_equal(got.view(np.uint32), ours.view(np.uint32))
        exact, _ = REFERENCE[key[0]](d.astype(np.float64))
        assert np.max(mixed(got.astype(np.float64), exact)) <= a.report.certified_bound
        g = np.linspace(-12, 12, 4801).astype(np.float32)
        slope = ms.grad(cell)(ms.Tensor(g), ms.Tensor(np.zeros_like(g))).asnumpy()
        _, exact_slope = REFERENCE[key[0]](g.astype(np.float64))
        assert np.max(mixed(slope.astype(np.float64), exact_slope)) <= 1e-3


# Piecewise: algebraic decay -------------------------------------------------------------

def test_pseudo_huber_on_r_takes_pieces():
    a = approximate("sqrt(1 + d^2) - 1", tol=1e-4, range=math.inf)
    report = a.report
    assert report.method == "piecewise" and len(report.polynomials) >= 2
    assert report.certified_bound <= 1e-4
    d = float32_points(math.inf)
    exact, _ = pseudo_huber(d.astype(np.float64))
    assert np.max(mixed(run32(a.program.root, d), exact)) <= report.certified_bound
    g = np.linspace(-12, 12, 48_001)
    _, slope = pseudo_huber(g)
    assert np.max(mixed(slope64(a.program.root, g), slope)) <= 1e-3


def test_pieces_on_a_range_for_a_loss_of_abs_d():
    a = approximate("log(1 + abs(d))", tol=1e-5, range=50)
    assert a.report.method == "piecewise"
    d = float32_points(50.0)
    exact = np.log1p(np.abs(d.astype(np.float64)))
    assert np.max(mixed(run32(a.program.root, d), exact)) <= a.report.certified_bound <= 1e-5
    g = np.linspace(-12, 12, 24_001)
    g = g[g != 0]  # the kink: MindSpore's Abs'(0) = 0 there, f has no derivative
    slope = np.sign(g) / (1 + np.abs(g))
    assert np.max(mixed(slope64(a.program.root, g), slope)) <= 1e-3


# The certificate against deliberately bad or alternative schemes -----------------------

def _clipped_logcosh(scheme, n=16, U=6.5):
    """log(cosh(d)) = |d| - log 2 + g(min(|d|, U)), g a degree-n Chebyshev interpolant (fitted
    here), written in powers of w = 2 min(|d|, U) - U (centred) or of x = min(|d|, U)."""
    k = np.arange(n + 1)
    t = np.cos(np.pi * (k + 0.5) / (n + 1))
    u = U * (t + 1) / 2
    cheb = np.polynomial.chebyshev.chebfit(t, np.log1p(np.exp(-2 * u)) - math.log(2), n)
    power_t = np.polynomial.chebyshev.cheb2poly(cheb)  # in t = w / U = 2x/U - 1
    d = ir.var("d")
    a = ir.abs_(d)
    s = ir.sub(ir.const(U), a)
    m = ir.add(s, ir.abs_(s))  # 2 (U - min(|d|, U)), exact
    if scheme == "centred":
        var, coefficients = ir.sub(ir.const(U), m), [c / U**j for j, c in enumerate(power_t)]
    else:  # the uncentred power basis in x = min(|d|, U): the 1.4e-2 case
        var = ir.sub(ir.const(U), ir.mul(ir.const(0.5), m))
        shifted = np.polynomial.polynomial.Polynomial(power_t)(
            np.polynomial.polynomial.Polynomial([-1.0, 2 / U]))
        coefficients = list(shifted.coef)
    acc = ir.mul(ir.const(float(np.float32(coefficients[-1]))), var)
    for k in range(len(coefficients) - 2, -1, -1):
        acc = ir.add(acc, ir.const(float(np.float32(coefficients[k]))))
        if k > 0:
            acc = ir.mul(acc, var)
    return ir.add(a, acc)


def _logcosh_truth():
    x = sp.Symbol("x", real=True)
    u = sp.Symbol("u", positive=True)
    from losscc.series.stable import Log1p

    tail = u - sp.log(2) + Log1p(sp.exp(-2 * u))
    return Truth({1: sp.log(sp.cosh(x))}, x, even=True,
                 tail={1: tail.subs(u, x), -1: tail.subs(u, -x)})


@pytest.mark.parametrize("scheme,worse_than", [("centred", None), ("powers", 1e-3)])
def test_certificate_bounds_good_and_bad_schemes(scheme, worse_than):
    root = _clipped_logcosh(scheme)
    cert = certify(Line.of(root), _logcosh_truth(), 6.5, 6.5)
    d = float32_points(math.inf)
    exact, _ = logcosh(d.astype(np.float64))
    measured = float(np.max(mixed(run32(root, d), exact)))
    assert measured <= cert.bound
    if worse_than:  # the power basis really is bad, and the bound says so
        assert measured > worse_than
    else:
        assert cert.bound < 1e-5


def test_clenshaw_cells_are_certified_too():
    """Clenshaw's recurrence in t = w / U, in place of Horner, for the same cell."""
    from losscc.compiler.program import Program
    from losscc.series.cells import Layout

    U, n = 6.5, 16
    t = np.cos(np.pi * (np.arange(n + 1) + 0.5) / (n + 1))
    u = U * (t + 1) / 2
    cheb = np.polynomial.chebyshev.chebfit(t, np.log1p(np.exp(-2 * u)) - math.log(2), n)
    layout = Layout("u", clip=U, reach=U, beta=1.0, scheme="clenshaw")
    raw = layout.build([[float(np.float32(c)) for c in cheb]])
    root = Program.from_ir("log(cosh(d))", raw, lowered=True).root
    cert = certify(Line.of(root), _logcosh_truth(), U, U)
    d = float32_points(math.inf)
    exact, _ = logcosh(d.astype(np.float64))
    measured = float(np.max(mixed(run32(root, d), exact)))
    assert measured <= cert.bound < 1e-5


def test_the_compiler_keeps_the_centred_form(monkeypatch):
    """Expanding the centred Horner form in w = |d| - 5 into powers of |d| is two
    operations fewer, in the basis that fails in float32: the polynomial pass's accuracy
    gate keeps the centred form, and Program.from_ir(lowered=True) skips the pass."""
    from losscc.compiler.passes import accuracy
    from losscc.compiler.program import Program
    from losscc.series.cells import Layout
    from losscc.series.fitting import monomials

    R, n = 10.0, 14
    layout = Layout("u", clip=None, reach=R, beta=1.0)
    var = layout.variables()[0]
    t = np.cos(np.pi * (np.arange(n + 1) + 0.5) / (n + 1))
    u = R * (t + 1) / 2
    cheb = np.polynomial.chebyshev.chebfit(t, np.sqrt(1 + u * u) - 1 - u, n)
    raw = layout.build([monomials(cheb, var.lo, var.hi)])
    kept = Program.from_ir("sqrt(1 + d^2) - 1", raw, lowered=True)
    gated = Program.from_ir("sqrt(1 + d^2) - 1", raw)
    monkeypatch.setattr(accuracy, "keeps_accuracy", lambda *args: True)  # no gate
    expanded = Program.from_ir("sqrt(1 + d^2) - 1", raw)
    assert expanded.op_count < kept.op_count == gated.op_count
    d = float32_points(R)
    exact, _ = pseudo_huber(d.astype(np.float64))
    assert np.max(mixed(run32(kept.root, d), exact)) < 2e-4
    assert np.max(mixed(run32(gated.root, d), exact)) < 2e-4
    assert np.max(mixed(run32(expanded.root, d), exact)) > 2e-3


def test_naive_clip_is_caught():
    """|u| - |u - U| as the clip cancels catastrophically for huge u: the certificate
    must not vouch for it (the s + |s| clip is exact there)."""
    U = 5.0
    d = ir.var("d")
    a = ir.abs_(d)
    w = ir.sub(a, ir.abs_(ir.sub(a, ir.const(U))))  # 2 min(u, U) - U, naively
    c = ir.add(w, ir.const(U))
    # 1 - (U - min(|d|, U))^2: what the cell means in exact arithmetic
    root = ir.sub(ir.const(1.0), ir.mul(ir.const(0.25), ir.square(ir.sub(ir.const(2 * U), c))))
    x = sp.Symbol("x", real=True)
    truth = Truth({1: 1 - (U - x)**2}, x, even=True, tail={1: sp.Integer(1), -1: sp.Integer(1)})
    cert = certify(Line.of(root), truth, U, U)
    points = np.array([3e7, 6.7e7, 1e30, 3e38], dtype=np.float32)
    measured = float(np.max(np.abs(run32(root, points) - 1.0)))
    assert measured >= 1.0  # float32 loses it
    assert cert.bound >= measured


def test_certificate_fails_safe_on_overflow():
    d = ir.var("d")
    root = ir.mul(ir.const(3.0), d)  # 3 d overflows beyond 1.1e38
    x = sp.Symbol("x", real=True)
    truth = Truth({1: 3 * x}, x, tail={1: 3 * x, -1: 3 * x})
    assert math.isinf(certify(Line.of(root), truth, 1.0, 1.0).bound)


# Refusals ----------------------------------------------------------------------------

@pytest.mark.parametrize("formula,reason", [
    ("log(1 + d^2)", "grows without bound but more slowly than linearly"),
    ("exp(d)", "grows faster than linearly"),
    ("d^2 + 1", "polynomial of degree 2"),
    ("sin(d)", "oscillates"),
    ("atan(d)", "constant terms of its asymptotes differ"),
])
def test_no_structure_on_r_is_refused_with_the_reason(formula, reason, monkeypatch):
    from losscc.series import auto

    monkeypatch.setattr(auto, "largest_range", lambda *a, **k: (2.5, 20, 5e-5))
    with pytest.raises(LossccError) as info:
        approximate(formula, tol=1e-4, range=math.inf)
    e = info.value
    assert e.message.startswith("no approximation on all of R") and reason in e.message
    assert e.line == 1
    assert "[-2.5, 2.5] is certified at 5e-05" in e.hint  # what is reachable


def test_a_large_common_factor_is_taken_out_before_sympy_simplifies():
    """K*log(2) must not become log(2^K): a 1e10 factor once took minutes and gigabytes."""
    from losscc.series.structure import analyze
    from losscc.series.target import prepare

    K = sp.Integer(10**10)
    s = analyze(prepare("1e10*log(cosh(d))"))
    assert (s.alpha, s.beta, sp.simplify(s.gamma + K * sp.log(2))) == (0, K, 0)
    from losscc.series.stable import MPMATH_FUNCTIONS, U

    tail = sp.lambdify(U, s.sides[1].tail, MPMATH_FUNCTIONS)
    # the tail is K * log(cosh(u)) (mpmath, 50 digits)
    for point in ("0.5", "3", "40"):
        with mpmath.workdps(50):
            want = 10**10 * mpmath.log(mpmath.cosh(mpmath.mpf(point)))
            assert abs(tail(mpmath.mpf(point)) - want) <= 1e-30 * abs(want)


@pytest.mark.parametrize("formula", ["1e10*log(cosh(d)) + 3*d", "log(cosh(d)) + 1e300*d"])
def test_a_large_constant_inside_is_refused_quickly(formula):
    with pytest.raises(LossccError) as info:
        approximate(formula, tol=1e-3, range=math.inf)
    assert "constants of at most 10000" in info.value.message
    with pytest.raises(LossccError, match="tol must be a number"):
        approximate("log(cosh(d))", tol="1e-3")


@pytest.mark.parametrize("formula,reach", [
    ("log(cosh(1e10*d))", 1.0),        # parity once asked SymPy to expand cosh(10^10 d): 22 GB
    ("2^(1e10*d)", 1.0),
    ("1e30*log(cosh(d))", math.inf),   # 10^30 reached NumPy as a Python int: a TypeError
])
def test_huge_constants_are_refused_without_hanging_or_crashing(formula, reach):
    from guards import no_hang

    with no_hang(60), pytest.raises(LossccError) as info:
        approximate(formula, tol=1e-3, range=reach)
    assert info.value.message.startswith("found no polynomial")


def test_a_huge_constant_inside_a_log_is_a_number_like_any_other():
    a = approximate("log(1e38*cosh(d))", tol=1e-3, range=1)
    d = np.linspace(-1, 1, 2001)
    with mpmath.workdps(30):
        want = np.array([float(mpmath.log(mpmath.mpf(10) ** 38 * mpmath.cosh(x))) for x in d])
    got = a.program.evaluate(pred=d.astype(np.float32), target=np.zeros(d.size, np.float32))
    measured = np.max(np.abs(got - want) / np.maximum(1, np.abs(want)))
    assert measured <= a.report.certified_bound <= 1e-3


@pytest.mark.slow
def test_refusal_finds_the_largest_range():
    with pytest.raises(LossccError) as info:
        approximate("log(1 + d^2)", tol=1e-4, range=math.inf)
    hint = info.value.hint
    assert "is certified at" in hint and "--range" in hint
    r = float(hint.split("[-", 1)[1].split(",", 1)[0])
    assert r >= 4  # and it is really reachable:
    a = approximate("log(1 + d^2)", tol=1e-4, range=r)
    assert a.report.certified_bound <= 1e-4


@pytest.mark.slow
def test_unreachable_tolerance_says_what_is_reachable():
    with pytest.raises(LossccError) as info:
        approximate("log(cosh(d))", tol=1e-7, range=math.inf)
    e = info.value
    assert "best certified tolerance is" in e.message and "float32 rounding" in e.hint
    best = float(e.message.split("best certified tolerance is ", 1)[1].split(" ", 1)[0])
    assert 1e-7 < best < 1e-5


def test_options():
    with pytest.raises(LossccError, match="needs --method auto and --tol"):
        approximate("log(cosh(d))", order=8, range=math.inf)
    with pytest.raises(LossccError, match="needs --method auto and --tol"):
        approximate("log(cosh(d))", tol=1e-4, range=math.inf, method="chebyshev")
    # auto without --tol is Taylor, as before
    assert approximate("log(cosh(d))", order=4, method="auto").report.method == "taylor"


# The finite range: auto keeps what the classic routes give, or does better ----------------

def test_auto_on_a_range_keeps_the_classic_route_where_it_is_cheapest():
    chebyshev = approximate("exp(-d^2)", tol=1e-5, range=2, method="chebyshev")
    auto = approximate("exp(-d^2)", tol=1e-5, range=2)
    assert auto.program.op_count <= chebyshev.program.op_count
    assert auto.report.certified_bound <= 1e-5
    assert auto.report.method == "chebyshev" and "chebyshev" in auto.report.choice
    assert auto.report.gradient_error <= 1e-3
    assert "auto: " in auto.report.text()


def test_auto_rejects_a_cheaper_polynomial_whose_gradient_is_off():
    chebyshev = approximate("log(cosh(d))", tol=1e-3, range=3, method="chebyshev")
    d = np.linspace(-3, 3, 6001)
    off = np.max(mixed(slope64(chebyshev.program.root, d), np.tanh(d)))
    assert off > 1e-3  # a 12-op polynomial, good to 1e-3 in value, not in slope
    auto = approximate("log(cosh(d))", tol=1e-3, range=3)
    assert np.max(mixed(slope64(auto.program.root, d), np.tanh(d))) <= 1e-3
    assert any("chebyshev" in r["candidate"] and "derivative" in r["outcome"]
               for r in auto.report.rejected)
    points = float32_points(3.0)
    exact, _ = logcosh(points.astype(np.float64))
    assert np.max(mixed(run32(auto.program.root, points), exact)) <= \
        auto.report.certified_bound <= 1e-3


def test_odd_losses_use_d_times_a_polynomial_in_d_squared():
    a = approximate("tanh(d)", tol=1e-5, range=3)
    assert a.report.structure["route"] == "o"
    d = float32_points(3.0)
    assert np.max(mixed(run32(a.program.root, d), np.tanh(d.astype(np.float64)))) <= \
        a.report.certified_bound <= 1e-5
    assert run32(a.program.root, np.array([0.0]))[0] == 0.0


# The CLI ------------------------------------------------------------------------------

def test_cli_range_inf_json_is_strict(capsys):
    assert main(["taylor", "log(1 + exp(d))", "--tol", "1e-5", "--range", "inf", "--json"]) == 0
    out = capsys.readouterr().out

    def no_constants(name):
        raise AssertionError(f"non-strict JSON token {name}")

    data = json.loads(out, parse_constant=no_constants)
    assert data["method"] == "structured" and data["asked_method"] == "auto"
    assert data["domain"] == "R" and data["range"] is None
    assert data["certified_bound"] <= 1e-5 and data["tolerance"] == 1e-5
    assert data["op_count"] == sum(data["op_counts"].values()) <= 72
    assert data["source"].startswith("# Generated by losscc")
    assert data["measured"]["max_abs_d"] >= 3e38
    assert data["gradient_error"] <= 1e-3
    assert data["choice"]


def test_cli_refusal_exits_2(capsys):
    from losscc.series import auto

    original = auto.largest_range
    auto.largest_range = lambda *a, **k: None
    try:
        assert main(["taylor", "exp(d)", "--tol", "1e-4", "--range", "inf"]) == 2
    finally:
        auto.largest_range = original
    err = capsys.readouterr().err
    assert err.startswith("error: no approximation on all of R") and "faster than linearly" in err


def test_cli_source_loads_without_mindspore_at_generation():
    code = ("import sys; from losscc.cli.main import main; "
            "rc = main(['taylor', '1 - exp(-d^2/2)', '--tol', '1e-4', '--range', 'inf']); "
            "assert 'mindspore' not in sys.modules; sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert "on all of R" in result.stdout and "class CompiledLoss(nn.LossBase)" in result.stdout

