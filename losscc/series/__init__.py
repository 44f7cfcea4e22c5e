"""Any analytic loss → a polynomial losscc can compile, with its error certified.

The seed article's section 5 says Abs, Square and Mul reach "any loss within
a tolerance, through a truncated Taylor expansion". This module makes that a
claim one can check: it truncates (Taylor about a point, or Chebyshev
interpolation on a range), says where the truncation holds (the radius of
convergence), measures the float32 program's error on a dense grid, and
proves an upper bound on it with interval arithmetic.

The road: a SymPy expression f (from ``losscc.symbolic`` or the user) →
truncated power series (our own recurrences, below) → float32 coefficients →
IR sum of c_k * x^k (x = d, or abs(d) when f depends on d only through
abs(d)) → ``Program.from_ir``, whose ``polynomials`` pass picks Horner or
parity evaluation.

>>> a = approximate("log(cosh(d))", order=4, range=1)
>>> a.report.coefficients
(0.0, 0.0, 0.5, 0.0, -0.0833333358168602)
>>> a.report.max_abs_error <= a.report.certified_bound < 0.02
True

Power series are computed by the classical recurrences of automatic
differentiation (exp, log, powers, sin/cos, sinh/cosh, tanh, atan, erf),
O(n^2) per operation, over three number systems ("kits"): mpmath floats of
DPS digits for the coefficients, mpmath intervals for the certified bound,
NumPy arrays (order 0) to evaluate f on the grid. SymPy's own ``series`` is
tens of times slower at degree 24 (benchmarks/taylor.py) and is used in the
tests as the independent reference.
"""
from __future__ import annotations

import dataclasses
import heapq
import json
import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np
import sympy as sp
from mpmath import iv
from mpmath.ctx_mp import MPContext
from mpmath.libmp import round_ceiling, round_floor, to_float

from . import ir
from .compiler import Program
from .errors import LossccError
from .evaluate import evaluate, symbols
from .passes.poly import to_poly
from .reduce import parse_reduction
from .symbolic import FUNCTIONS, Parsed, formula_to_sympy

DPS = 40  # digits of the coefficient arithmetic (float32 needs 8)
MAX_DEGREE = 64  # highest degree --order takes and --tol tries
DEFAULT_ORDER = 8
RADIUS_TERMS = 64  # coefficients the radius of convergence is estimated from
GRID_POINTS = 4097  # the dense grid of measured errors
METHODS = ("taylor", "chebyshev")
FLOAT32_UNIT = 2.0**-24  # unit roundoff of float32
FLOAT32_TINY = 2.0**-149  # smallest subnormal: the absolute error of an underflow

_HIGH = MPContext()
_HIGH.dps = DPS


class _Domain(Exception):
    """f is not analytic (or not real) where a series was asked for."""

    def __init__(self, node: Any, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


# 1. Number systems ------------------------------------------------------------
# Each kit gives the values of the elementary functions at a series' constant
# term, and turns constant SymPy subexpressions (pi, log(2), 1/3) into its numbers.

class _MpfKit:
    """mpmath floats of DPS digits: the coefficients. Domain errors raise."""

    def __init__(self) -> None:
        self.constants: dict = {}

    def const(self, expr: Any) -> Any:
        if expr not in self.constants:
            self.constants[expr] = _HIGH.make_mpf(_real_constant(expr, DPS + 10))
        return self.constants[expr]

    def exp(self, x):
        return _HIGH.exp(x)

    def log(self, x, node=None):
        if x <= 0:
            raise _Domain(node, "the logarithm of a value <= 0")
        return _HIGH.log(x)

    def power(self, x, alpha, node=None):
        if x <= 0:
            raise _Domain(node, "a fractional power of a value <= 0" if x < 0 else
                          "a fractional or negative power of 0")
        return _HIGH.power(x, alpha)

    def divide_check(self, b0, node=None):
        if b0 == 0:
            raise _Domain(node, "a division by 0")

    sin, cos, sinh, cosh, tanh, atan, erf = (
        staticmethod(getattr(_HIGH, name))
        for name in ("sin", "cos", "sinh", "cosh", "tanh", "atan", "erf"))


class _IvKit:
    """mpmath intervals: every result encloses the true value (the bound's kit).

    mpmath.iv has rigorous exp, log, sin, cos and powers. sinh, tanh, atan and
    erf are monotone and cosh is monotone on each side of 0, so their ranges
    come from the endpoints, evaluated with DPS digits and widened by far more
    than mpmath's error there. Where f is not defined (log of an interval that
    reaches 0) the enclosure is everything, and the bound says so.
    """

    EVERYTHING = iv.mpf(["-inf", "+inf"])

    def __init__(self) -> None:
        self.constants: dict = {}

    def const(self, expr: Any) -> Any:
        if expr not in self.constants:
            if expr.is_Rational:
                value = iv.mpf(int(expr.p)) / int(expr.q)
            else:
                value = _widen(_HIGH.make_mpf(_real_constant(expr, DPS + 10)))
            self.constants[expr] = value
        return self.constants[expr]

    def exp(self, x):
        return iv.exp(x)

    def log(self, x, node=None):
        return iv.log(x) if x.a > 0 else self.EVERYTHING

    def power(self, x, alpha, node=None):
        return iv.exp(alpha * iv.log(x)) if x.a > 0 else self.EVERYTHING

    def divide_check(self, b0, node=None):
        pass  # iv's division by an interval holding 0 is already [-inf, inf]

    def sin(self, x):
        return iv.sin(x)

    def cos(self, x):
        return iv.cos(x)

    def sinh(self, x):
        return _monotone(_HIGH.sinh, x)

    def tanh(self, x):
        return _monotone(_HIGH.tanh, x)

    def atan(self, x):
        return _monotone(_HIGH.atan, x)

    def erf(self, x):
        return _monotone(_HIGH.erf, x)

    def cosh(self, x):
        if x.a >= 0:
            return _monotone(_HIGH.cosh, x)
        if x.b <= 0:
            return _monotone(_HIGH.cosh, -x)
        top = _widen(_HIGH.cosh(_HIGH.make_mpf(abs(x)._mpi_[1])))
        return iv.mpf([1, top.b])


def _monotone(fn: Callable, x: Any) -> Any:
    """The range of the increasing ``fn`` over the interval x, outward rounded."""
    low = _widen(fn(_HIGH.make_mpf(x._mpi_[0])))
    high = _widen(fn(_HIGH.make_mpf(x._mpi_[1])))
    return iv.mpf([low.a, high.b])


def _widen(value: Any) -> Any:
    """An interval around a DPS-digit value, wide enough for its rounding error."""
    slack = abs(value) * _HIGH.mpf(10) ** (10 - DPS) + _HIGH.mpf(10) ** -300
    return iv.mpf([value - slack, value + slack])


class _NumpyKit:
    """float64 arrays, order 0 only: f on the grid. Domain errors give NaN."""

    def __init__(self) -> None:
        self.constants: dict = {}

    def const(self, expr: Any) -> Any:
        if expr not in self.constants:
            self.constants[expr] = to_float(_real_constant(expr, 20))
        return self.constants[expr]

    def log(self, x, node=None):
        return np.log(x)

    def power(self, x, alpha, node=None):
        return np.power(x, alpha)

    def divide_check(self, b0, node=None):
        pass

    exp, sin, cos, sinh, cosh, tanh, atan = (
        staticmethod(f) for f in (np.exp, np.sin, np.cos, np.sinh, np.cosh, np.tanh, np.arctan))
    erf = staticmethod(np.vectorize(math.erf, otypes=[float]))


def _real_constant(expr: Any, digits: int) -> Any:
    """The value of a constant SymPy expression as a SymPy Float; it must be real."""
    value = expr.evalf(digits)
    if not value.is_Float or not value.is_finite:
        raise _Domain(expr, f"the constant {sp.sstr(expr)} is not a finite real number")
    return value._mpf_


# 2. Truncated power series of a SymPy expression -----------------------------
# A series is a list of the coefficients of t^0 .. t^n (x = center + t); a
# constant is a list of one element. Each rule takes the node, its arguments'
# series, n and the kit.

def power_series(expr: Any, x: Any, center: Any, order: int, kit: Any) -> list:
    """Taylor coefficients of ``expr`` in t = x - center, up to t^order.

    >>> d = sp.Symbol("d", real=True)
    >>> [float(c) for c in power_series(sp.exp(d), d, _HIGH.mpf(0), 3, _MpfKit())]
    [1.0, 1.0, 0.5, 0.16666666666666666]
    """
    memo: dict = {}
    stack: list = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        if node in memo:
            continue
        if node == x:
            memo[node] = [center, 1] + [0] * (order - 1) if order else [center]
        elif x not in node.free_symbols:
            memo[node] = [kit.const(node)]
        elif not ready:
            stack.append((node, True))
            stack.extend((arg, False) for arg in node.args if arg not in memo)
        else:
            rule = RULES.get(type(node)) or _rule_for(node)
            memo[node] = rule(node, [memo[a] for a in node.args], order, kit)
    return _full(memo[expr], order)


def _rule_for(node: Any) -> Callable:
    # prepare() refuses such expressions: reaching here is a bug
    raise AssertionError(f"no series rule for {type(node).__name__}")


def _full(a: list, n: int) -> list:
    return a + [0] * (n + 1 - len(a))


def _sum(terms: list, n: int) -> list:
    out = [0] * (n + 1)
    for term in terms:
        for k, value in enumerate(term):
            out[k] = out[k] + value
    return out


def _times(a: list, b: list, n: int) -> list:
    if len(a) == 1:
        return [a[0] * y for y in _full(b, n)]
    if len(b) == 1:
        return [y * b[0] for y in _full(a, n)]
    la, lb = _support(a), _support(b)  # skip the exact zeros of short series (x = c + t)
    return [_total(a[j] * b[k - j] for j in range(max(0, k - lb + 1), min(k, la - 1) + 1))
            for k in range(n + 1)]


def _total(terms: Any) -> Any:
    """sum(terms), without the int 0 start (an interval kit would convert it each time)."""
    total = 0
    for i, term in enumerate(terms):
        total = term if i == 0 else total + term
    return total


def _support(a: list) -> int:
    """len(a) without its trailing exact (integer) zeros."""
    n = len(a)
    while n > 1 and type(a[n - 1]) is int and a[n - 1] == 0:
        n -= 1
    return n


def _divide(a: list, b: list, n: int, kit: Any, node: Any) -> list:
    """a / b: w_k = (a_k - sum_{j=1..k} b_j w_{k-j}) / b_0."""
    a, b = _full(a, n), _full(b, n)
    kit.divide_check(b[0], node)
    w: list = []
    for k in range(n + 1):
        w.append((a[k] - _total(b[j] * w[k - j] for j in range(1, k + 1))) / b[0])
    return w


def _integer_power(u: list, e: int, n: int) -> list:
    result, base = [1], u
    while e:
        if e & 1:
            result = _times(result, base, n)
        e >>= 1
        if e:
            base = _times(base, base, n)
    return _full(result, n)


# The recurrences below come from v' = u' g(u, v) (t-derivatives), term by
# term: with du_j = j u_j (computed once), k v_k = sum_{j=1..k} du_j w_{k-j}.

def _weighted(u: list) -> list:
    """du: the coefficients j u_j of t u'(t)."""
    return [0] + [j * u[j] for j in range(1, len(u))]


def _exp_series(u: list, n: int, kit: Any) -> list:
    """v = exp(u): k v_k = sum_{j=1..k} j u_j v_{k-j}."""
    du = _weighted(u)
    v = [kit.exp(u[0])]
    for k in range(1, n + 1):
        v.append(_total(du[j] * v[k - j] for j in range(1, k + 1)) / k)
    return v


def _log_series(u: list, n: int, kit: Any, node: Any) -> list:
    """v = log(u): u_0 v_k = u_k - (1/k) sum_{j=1..k-1} j v_j u_{k-j}."""
    v, dv = [kit.log(u[0], node)], [0]
    for k in range(1, n + 1):
        v.append((u[k] - _total(dv[j] * u[k - j] for j in range(1, k)) / k) / u[0])
        dv.append(k * v[k])
    return v


def _real_power(u: list, alpha: Any, n: int, kit: Any, node: Any) -> list:
    """v = u^alpha: k u_0 v_k = sum_{j=1..k} ((alpha + 1) j - k) u_j v_{k-j}."""
    du, alpha1 = _weighted(u), alpha + 1
    v = [kit.power(u[0], alpha, node)]
    for k in range(1, n + 1):
        weighted = _total(du[j] * v[k - j] for j in range(1, k + 1))
        plain = _total(u[j] * v[k - j] for j in range(1, k + 1))
        v.append((alpha1 * weighted - k * plain) / (k * u[0]))
    return v


def _pair(u: list, n: int, first: Any, second: Any, sign: int) -> tuple[list, list]:
    """s' = u' c, c' = sign u' s: (sin, cos) with sign -1, (sinh, cosh) with +1."""
    du = _weighted(u)
    s, c = [first], [second]
    for k in range(1, n + 1):
        s.append(_total(du[j] * c[k - j] for j in range(1, k + 1)) / k)
        c.append(sign * _total(du[j] * s[k - j] for j in range(1, k + 1)) / k)
    return s, c


def _integrate(u: list, q: list, v0: Any, n: int) -> list:
    """v with v' = q u' and v(0) = v0: k v_k = sum_{j=1..k} j u_j q_{k-j}."""
    du = _weighted(u)
    v = [v0]
    for k in range(1, n + 1):
        v.append(_total(du[j] * q[k - j] for j in range(1, k + 1)) / k)
    return v


def _add_rule(node, args, n, kit):
    return _sum(args, n)


def _mul_rule(node, args, n, kit):
    out = args[0]
    for a in args[1:]:
        out = _times(out, a, n)
    return _full(out, n)


def _pow_rule(node, args, n, kit):
    base, exponent = args
    e = node.args[1]
    if len(exponent) > 1:  # b^g(x) = exp(g log b)
        return _exp_series(_times(exponent, _log_series(_full(base, n), n, kit, node), n), n, kit)
    if e.is_Integer and e >= 0:
        return _integer_power(base, int(e), n)
    if e.is_Integer:
        return _divide([1], _integer_power(base, -int(e), n), n, kit, node)
    return _real_power(_full(base, n), exponent[0], n, kit, node)


def _exp_rule(node, args, n, kit):
    return _exp_series(_full(args[0], n), n, kit)


def _log_rule(node, args, n, kit):
    return _log_series(_full(args[0], n), n, kit, node)


def _sin_rule(node, args, n, kit):
    u = _full(args[0], n)
    return _pair(u, n, kit.sin(u[0]), kit.cos(u[0]), -1)[0]


def _cos_rule(node, args, n, kit):
    u = _full(args[0], n)
    return _pair(u, n, kit.sin(u[0]), kit.cos(u[0]), -1)[1]


def _sinh_rule(node, args, n, kit):
    u = _full(args[0], n)
    return _pair(u, n, kit.sinh(u[0]), kit.cosh(u[0]), 1)[0]


def _cosh_rule(node, args, n, kit):
    u = _full(args[0], n)
    return _pair(u, n, kit.sinh(u[0]), kit.cosh(u[0]), 1)[1]


def _tanh_rule(node, args, n, kit):
    """t' = u' (1 - t^2), built term by term."""
    u = _full(args[0], n)
    du = _weighted(u)
    t = [kit.tanh(u[0])]
    w: list = []  # 1 - t^2
    for k in range(1, n + 1):
        m = k - 1
        w.append((1 if m == 0 else 0) - _total(t[i] * t[m - i] for i in range(m + 1)))
        t.append(_total(du[j] * w[k - j] for j in range(1, k + 1)) / k)
    return t


def _atan_rule(node, args, n, kit):
    """(1 + u^2) v' = u'."""
    u = _full(args[0], n)
    s = _sum([[1], _times(u, u, n)], n)
    v, dv = [kit.atan(u[0])], [0]  # dv_m = m v_m
    for k in range(1, n + 1):
        v.append((k * u[k] - _total(s[j] * dv[k - j] for j in range(1, k))) / (k * s[0]))
        dv.append(k * v[k])
    return v


def _erf_rule(node, args, n, kit):
    """v' = 2/sqrt(pi) exp(-u^2) u'."""
    u = _full(args[0], n)
    scale = kit.const(2 / sp.sqrt(sp.pi))
    gauss = _exp_series([-c for c in _times(u, u, n)], n, kit)
    return _integrate(u, [scale * g for g in gauss], kit.erf(u[0]), n)


RULES: dict[type, Callable] = {
    sp.Add: _add_rule,
    sp.Mul: _mul_rule,
    sp.Pow: _pow_rule,
    sp.exp: _exp_rule,
    sp.log: _log_rule,
    sp.sin: _sin_rule,
    sp.cos: _cos_rule,
    sp.sinh: _sinh_rule,
    sp.cosh: _cosh_rule,
    sp.tanh: _tanh_rule,
    sp.atan: _atan_rule,
    sp.erf: _erf_rule,
}


# 3. What to approximate --------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """f as a function of one variable x: d, or a = abs(d) for the Abs route."""

    label: str  # the formula as the user gave it
    expr: Any  # SymPy, in x
    x: Any
    through_abs: bool  # x = abs(d): the program computes abs(d) once
    parity: int  # 0 none, 1 odd, 2 even (in d; 0 on the Abs route)
    parsed: Optional[Parsed]

    @property
    def atom(self) -> ir.Node:
        d = ir.var("d")
        return ir.abs_(d) if self.through_abs else d

    @property
    def atom_text(self) -> str:
        return "abs(d)" if self.through_abs else "d"

    def error(self, message: str, at: Any = None, hint: Optional[str] = None) -> LossccError:
        if self.parsed is not None:
            return self.parsed.error(message, at, hint)
        return LossccError(message, hint=hint, source="expression")


ABS_VARIABLE = sp.Symbol("a", nonnegative=True)


def prepare(expr: Any) -> Target:
    """A formula string or SymPy expression → the Target to approximate."""
    parsed = None
    if isinstance(expr, str):
        parsed = formula_to_sympy(expr)
        label, f = expr, parsed.expr
    elif isinstance(expr, sp.Basic):
        label, f = sp.sstr(expr), _own_symbols(expr)
    else:
        raise LossccError(f"expected a formula (a string) or a SymPy expression, "
                          f"got {type(expr).__name__}", source="expression")

    def fail(message: str, at: Any = None, hint: Optional[str] = None) -> LossccError:
        return Target(label, f, None, False, 0, parsed).error(message, at, hint)

    s = symbols()
    d, pred, target = s["d"], s["pred"], s["target"]
    if f.free_symbols & {pred, target}:
        f = f.subs(pred, target + d)
        if target in f.free_symbols:
            f = sp.expand(f)
        if target in f.free_symbols:
            raise fail("the loss depends on pred and target separately, not only on their "
                       "difference", hint="losscc taylor approximates a function of "
                       "d = pred - target; write the loss in d")
    if d not in f.free_symbols:
        raise fail("the loss does not depend on the prediction",
                   hint="a loss must use d or pred (its gradient would be zero)")
    for bad in f.atoms(sp.Abs):
        if bad.args[0] != d:
            raise fail(f"abs({sp.sstr(bad.args[0])}) cannot be expanded", at=bad,
                       hint="a truncated series needs a smooth function of d, or one of "
                       "abs(d) alone (expanded in a = |d|, e.g. log(1 + abs(d)))")
    if f.atoms(sp.Abs):
        g = f.subs(sp.Abs(d), ABS_VARIABLE)
        if d in g.free_symbols:
            if _parity(f, d) != 2:
                raise fail("the loss uses abs(d) and also d on its own",
                           hint="the Abs route expands in a = |d| and needs f(-d) = f(d); "
                           "write d^2 as abs(d)^2, or use a smooth loss")
            g = g.subs(d, ABS_VARIABLE)
        _check_expandable(g, ABS_VARIABLE, fail)
        return Target(label, g, ABS_VARIABLE, True, 0, parsed)
    _check_expandable(f, d, fail)
    return Target(label, f, d, False, _parity(f, d), parsed)


def _check_expandable(f: Any, x: Any, fail: Callable) -> None:
    """Every operation on x must have a series rule (a SymPy input may hold any function)."""
    node = _unexpandable(f, x)
    if node is not None:
        name = getattr(node.func, "__name__", type(node).__name__)
        raise fail(f"losscc taylor cannot expand {name}(...)", at=node,
                   hint=f"it expands {', '.join(FUNCTIONS)}, sums, products, "
                   "quotients and powers")


def _unexpandable(f: Any, x: Any) -> Any:
    """The first operation on x without a series rule, or None."""
    for node in sp.preorder_traversal(f):
        if node != x and x in node.free_symbols and type(node) not in RULES:
            return node
    return None


def _own_symbols(expr: Any) -> Any:
    """A user's SymPy expression with its symbols replaced by ours (by name)."""
    from .errors import closest

    s = symbols()
    mapping = {}
    for sym in expr.free_symbols:
        name = ir.ALIASES.get(sym.name, sym.name)
        if name not in s:
            guess = closest(sym.name, [*ir.VARIABLES, *ir.ALIASES])
            raise LossccError(f"unknown variable '{sym.name}' in the expression",
                              hint=(f"did you mean '{guess}'? " if guess else "")
                              + "the variables are d, pred and target", source="expression")
        mapping[sym] = s[name]
    return expr.xreplace(mapping)


def _parity(f: Any, x: Any) -> int:
    """2 if f(-x) = f(x), 1 if f(-x) = -f(x), else 0: structurally, else at sample points."""
    mirrored = f.subs(x, -x)
    if mirrored == f:
        return 2
    if mirrored == -f:
        return 1
    for parity, combined in ((2, mirrored - f), (1, mirrored + f)):
        if _vanishes(combined, f, x):
            return parity
    return 0


def _vanishes(g: Any, f: Any, x: Any) -> bool:
    """g = 0 at a few points (to DPS digits): f(-x) -/+ f(x) that SymPy did not cancel."""
    if _unexpandable(f, x) is not None:
        return False
    kit = _MpfKit()
    for point in ("0.3141", "0.7071", "1.1892", "-0.5772", "0.0917"):
        at = _HIGH.mpf(point)
        try:
            value = power_series(g, x, at, 0, kit)[0]
            scale = abs(power_series(f, x, at, 0, kit)[0])
        except (_Domain, ZeroDivisionError):
            return False
        if abs(value) > (1 + scale) * _HIGH.mpf(10) ** (10 - DPS):
            return False
    return True


# 4. Polynomials: Taylor, Chebyshev, radius of convergence -----------------------

def taylor_polynomial(target: Target, order: int, about: float = 0.0) -> list:
    """Coefficients (DPS-digit floats) of the Taylor polynomial, in powers of x."""
    c = _HIGH.mpf(about)
    shifted = _series_at(target, c, order)
    if c == 0:
        return shifted
    # sum_k s_k (x - c)^k in powers of x
    return [_HIGH.fsum(shifted[k] * _HIGH.binomial(k, j) * (-c) ** (k - j)
                       for k in range(j, order + 1)) for j in range(order + 1)]


def _series_at(target: Target, center: Any, order: int) -> list:
    try:
        return power_series(target.expr, target.x, center, order, _MpfKit())
    except _Domain as e:
        where = f"{target.atom_text} = {_show(float(center))}"
        raise target.error(f"the loss is not analytic at {where}: {e.message}", at=e.node,
                           hint="expand about another point (--about), or use --method "
                           "chebyshev on a range where the loss is smooth") from None


def chebyshev_polynomial(target: Target, degree: int, lo: float, hi: float) -> list:
    """Interpolation at the degree + 1 Chebyshev points of [lo, hi], in powers of x.

    On a symmetric range the coefficients of the wrong parity are exactly 0,
    so an even loss stays even (its gradient at d = 0 stays 0).
    """
    nodes = degree + 1
    lo_, hi_ = _HIGH.mpf(lo), _HIGH.mpf(hi)
    mid, half = (lo_ + hi_) / 2, (hi_ - lo_) / 2
    angles = [_HIGH.pi * (j + _HIGH.mpf(1) / 2) / nodes for j in range(nodes)]
    kit = _MpfKit()
    values = [_value_at(target, mid + half * _HIGH.cos(a), kit) for a in angles]
    cheb = [2 * _HIGH.fsum(v * _HIGH.cos(k * a) for v, a in zip(values, angles)) / nodes
            for k in range(nodes)]
    cheb[0] /= 2
    if target.parity:
        for k in range(nodes):
            if k % 2 != target.parity % 2:
                cheb[k] = _HIGH.mpf(0)
    # T_k(s), s = (x - mid) / half, as polynomials in x; sum cheb_k T_k.
    s = [-mid / half, 1 / half]
    t_prev, t_cur = [_HIGH.mpf(1)], s
    out = [cheb[0]] + [_HIGH.mpf(0)] * degree
    for k in range(1, nodes):
        for j, c in enumerate(t_cur):
            out[j] += cheb[k] * c
        t_next = _poly_sub(_poly_scale(_poly_mul(s, t_cur), 2), t_prev)
        t_prev, t_cur = t_cur, t_next
    if target.parity:  # T_k(x / half) has the parity of k exactly; keep it so
        out = [c if j % 2 == target.parity % 2 else _HIGH.mpf(0) for j, c in enumerate(out)]
    # Terms at the level of the arithmetic's rounding are noise (p(0) = 1e-41
    # where f(0) = 0 would cost an Add): make them exact zeros.
    reach = max(abs(lo_), abs(hi_))
    sizes = [abs(c) * reach**j for j, c in enumerate(out)]
    noise = max(sizes) * _HIGH.mpf(10) ** (10 - DPS)
    return [c if size > noise else _HIGH.mpf(0) for c, size in zip(out, sizes)]


def _value_at(target: Target, x: Any, kit: _MpfKit) -> Any:
    try:
        return power_series(target.expr, target.x, x, 0, kit)[0]
    except _Domain as e:
        raise target.error(f"the loss is not defined at {target.atom_text} = "
                           f"{_show(float(x))}: {e.message}", at=e.node,
                           hint="choose a --range on which the loss is defined") from None


def _poly_mul(a: list, b: list) -> list:
    out = [_HIGH.mpf(0)] * (len(a) + len(b) - 1)
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            out[i + j] += x * y
    return out


def _poly_scale(a: list, c: Any) -> list:
    return [c * x for x in a]


def _poly_sub(a: list, b: list) -> list:
    n = max(len(a), len(b))
    a, b = a + [0] * (n - len(a)), b + [0] * (n - len(b))
    return [x - y for x, y in zip(a, b)]


def radius_of_convergence(target: Target, about: float = 0.0) -> float:
    """Distance from ``about`` to f's nearest complex singularity: exact or estimated.

    Infinite, exactly, when f is built from entire functions only (exp, sin,
    cos, sinh, cosh, erf, sums, products, whole powers). Otherwise estimated
    from RADIUS_TERMS Taylor coefficients: near a singularity at distance R,
    |c_k| ~ A k^b R^-k, so a least-squares fit of log|c_k| against 1, log k
    and k over the upper half of them gives R. A pair of complex conjugate
    singularities makes |c_k| oscillate; then the fit uses only the local
    peaks of |c_k|, whichever of the two fits the model better. A fourth
    term, k log k, tells an entire function that is not built as one
    (coefficients falling like 1/k!^(1/rho)).
    """
    if _entire(target.expr, target.x):
        return math.inf
    n = RADIUS_TERMS
    sizes = [abs(c) for c in _series_at(target, _HIGH.mpf(about), n + 2)]
    fits = []
    for peaks in (False, True):
        points = _envelope(sizes, n // 2, n, peaks)
        if len(points) >= 6:
            fits.append((_least_squares(points, 3), peaks))
    if not fits:
        return math.inf  # the coefficients stop: a polynomial
    (coefficients, _), peaks = min(fits, key=lambda fit: fit[0][1])
    growth, _ = _least_squares(_envelope(sizes, n // 4, n, peaks), 4)
    if growth[3] < -0.3:  # log|c_k| ~ -k log k / rho: entire after all
        return math.inf
    slope = coefficients[2]
    return math.exp(-slope) if -700 < slope < 700 else math.inf if slope <= -700 else 0.0


_ENTIRE = (sp.Add, sp.Mul, sp.exp, sp.sin, sp.cos, sp.sinh, sp.cosh, sp.erf)


def _entire(expr: Any, x: Any) -> bool:
    """f is entire by construction: no log, root, division or tanh of x anywhere."""
    for node in sp.preorder_traversal(expr):
        if node == x or x not in node.free_symbols or isinstance(node, _ENTIRE):
            continue
        if isinstance(node, sp.Pow):
            base, e = node.args
            if (e.is_Integer and e >= 0) or (x not in base.free_symbols and base.is_positive):
                continue
        return False
    return True


def _envelope(sizes: list, first: int, last: int, peaks: bool) -> list[tuple[int, float]]:
    """(k, log|c_k|) for the nonzero c_k, first <= k <= last, that follow R^-k.

    Without ``peaks``: all but near-cancellations (far below their
    neighbours' geometric mean). With ``peaks``: only those at least as large
    as both neighbours (the envelope of an oscillating sequence).
    """
    nonzero = [k for k, size in enumerate(sizes) if size > 0]
    points = []
    for i in range(1, len(nonzero) - 1):
        k = nonzero[i]
        before, after = sizes[nonzero[i - 1]], sizes[nonzero[i + 1]]
        if not max(first, 1) <= k <= last:
            continue
        if peaks and (sizes[k] < before or sizes[k] < after):
            continue
        if not peaks and sizes[k] < _HIGH.sqrt(before * after) / 1000:
            continue
        points.append((k, float(_HIGH.log(sizes[k]))))
    return points


def _least_squares(points: list, terms: int) -> tuple[Any, float]:
    """Fit log|c_k| by 1, log k, k (and k log k): coefficients, RMS residual."""
    k = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points])
    design = np.stack([np.ones_like(k), np.log(k), k, k * np.log(k)][:terms], axis=1)
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    return coefficients, float(np.sqrt(np.mean((design @ coefficients - y) ** 2)))


# 5. Errors: measured on the grid, certified with intervals -----------------------

def grid(r: float) -> np.ndarray:
    """GRID_POINTS float32 values of d, evenly spread over [-r, r] (and inside it)."""
    d = np.linspace(-r, r, GRID_POINTS).astype(np.float32)
    outside = np.abs(d.astype(np.float64)) > r  # float32(r) may round up
    d[outside] = np.nextafter(d[outside], np.float32(0))
    return d


def exact_values(target: Target, d: np.ndarray) -> np.ndarray:
    """f at the float32 points d, in float64 (the measuring stick)."""
    x = np.abs(d).astype(np.float64) if target.through_abs else d.astype(np.float64)
    with np.errstate(all="ignore"):
        values = power_series(target.expr, target.x, x, 0, _NumpyKit())[0]
    values = np.broadcast_to(np.asarray(values, dtype=np.float64), x.shape)
    bad = ~np.isfinite(values)
    if bad.any():
        at = float(d[np.argmax(bad)])
        raise target.error(f"the loss is not a finite real number at d = {_show(at)}",
                           hint="choose a --range on which the loss is defined and finite")
    return values


@dataclass(frozen=True)
class Measured:
    max_abs_error: float
    max_rel_error: float  # over the grid points where f != 0
    worst_at: float  # the d of the largest absolute error


def measure(program: Program, d: np.ndarray, exact: np.ndarray) -> Measured:
    """The float32 program's error against f on the grid (what MindSpore computes)."""
    with np.errstate(all="ignore"):
        got = evaluate(program.root, d=d, dtype=np.float32).astype(np.float64)
        error = np.abs(np.broadcast_to(got, d.shape) - exact)
        nonzero = exact != 0
        relative = np.max(error[nonzero] / np.abs(exact[nonzero])) if nonzero.any() else 0.0
    worst = int(np.argmax(np.where(np.isfinite(error), error, np.inf)))
    return Measured(float(np.max(error)), float(relative), float(d[worst]))


@dataclass(frozen=True)
class Certified:
    bound: float  # |f(d) - program(d)| <= bound for every float32 d in the range
    truncation: float  # the part from f - p in exact arithmetic (p: the program's polynomial)
    rounding: float  # the part from float32 arithmetic in the program
    pieces: int  # subintervals the interval arithmetic used


def program_polynomial(program: Program, target: Target) -> list[float]:
    """The polynomial in x that the program computes, read back from its IR."""
    poly = to_poly(program.root)
    if poly is None:
        raise AssertionError("the compiled polynomial cannot be read back")
    degree = 0
    by_power: dict[int, float] = {}
    for monomial, c in poly.items():
        k = sum(e for _, e in monomial)
        by_power[k] = by_power.get(k, 0.0) + c
        degree = max(degree, k)
    return [by_power.get(k, 0.0) for k in range(degree + 1)]


def certify(target: Target, program: Program, lo: float, hi: float, r: float,
            measured: float, slack: float = 1 / 16, first_pieces: int = 4) -> Certified:
    """A proven upper bound on |f - program| over x in [lo, hi] (d in [-r, r]).

    Two parts. (1) |f - p| for the program's polynomial p in exact arithmetic,
    by branch and bound over subintervals X = m +- h: f(m + s) = sum_k F_k s^k
    + F_{K+1}(xi) s^(K+1) with the F_k enclosed by interval series at the
    point m and F_{K+1} over all of X, and p's Taylor shift to m done in
    intervals too. The triangle inequality bounds the piece; pieces whose
    bound is within ``slack`` of the largest error seen are settled, the
    others are halved; the range starts as ``first_pieces`` pieces (an
    error that equioscillates, as a Chebyshev interpolant's, wants about one
    per pair of extrema). (2) float32 rounding in the program, by a running
    error analysis of its operations (Higham's model, plus underflow).
    """
    coefficients = [iv.mpf(c) for c in program_polynomial(program, target)]
    rounding = rounding_bound(program.root, r)
    truncation, pieces = _branch_and_bound(target, coefficients, lo, hi, measured,
                                           slack, rounding, first_pieces)
    return Certified(truncation + rounding, truncation, rounding, pieces)


TAYLOR_MODEL_ORDER = 8  # K: the order of the series on each piece
MAX_PIECES = 4000


def _branch_and_bound(target: Target, p: list, lo: float, hi: float, hint: float,
                      slack: float, rounding: float, first: int) -> tuple[float, int]:
    """max |f - p| over [lo, hi], from above, and the number of pieces it took.

    A piece is settled when its bound exceeds the largest error seen by at
    most ``slack`` times (that error + ``rounding``): the certificate is the
    sum of both parts, so sharpening one far below the other is wasted work.
    """
    kit = _IvKit()
    order = TAYLOR_MODEL_ORDER
    best_lower = hint  # the largest |f - p| known to occur (the grid's is close)
    heap: list = []  # (-upper bound, serial, a, b): the worst piece first
    count = 0

    def piece(a: Any, b: Any) -> None:
        nonlocal best_lower, count
        count += 1
        m, h = (a + b) / 2, (b - a) / 2
        at_m, h_ = iv.mpf([m, m]), iv.mpf([h, h])
        f_m = power_series(target.expr, target.x, at_m, order, kit)
        f_rest = power_series(target.expr, target.x, iv.mpf([a, b]), order + 1, kit)[order + 1]
        p_m = _shift(p, at_m)
        # g(m + s) = sum_k delta_k s^k, delta_{K+1} holding every xi in X
        delta = [iv.mpf(0) + (f_m[k] if k <= order else f_rest if k == order + 1 else 0)
                 - (p_m[k] if k < len(p_m) else 0) for k in range(max(order + 2, len(p_m)))]
        upper = _quadratic_max(delta[0], delta[1], delta[2], h_)
        for k in range(3, len(delta)):
            upper += abs(delta[k]) * h_**k
        best_lower = max(best_lower, _lower_float(abs(f_m[0] - p_m[0])))
        heapq.heappush(heap, (-_upper_float(upper), count, a, b))

    lo_, hi_ = _HIGH.mpf(lo), _HIGH.mpf(hi)
    edges = [lo_ + (hi_ - lo_) * i / first for i in range(first + 1)]
    for a, b in zip(edges, edges[1:]):
        piece(a, b)
    settled = 0.0
    while heap:
        top = -heap[0][0]
        if top <= best_lower + slack * (best_lower + rounding):
            break
        _, _, a, b = heapq.heappop(heap)
        if count >= MAX_PIECES or b - a < (hi - lo) * 2.0**-30:
            settled = max(settled, top)  # as good as it gets: keep this piece's bound
            continue
        mid = (a + b) / 2
        piece(a, mid)
        piece(mid, b)
    bound = max([settled] + [-item[0] for item in heap[:1]])
    if not math.isfinite(bound):
        raise target.error(
            "cannot bound the error: the loss is singular (or undefined) on the range",
            hint="choose a --range on which the loss is smooth")
    return bound, count


def _quadratic_max(c0: Any, c1: Any, c2: Any, h: Any) -> Any:
    """An upper bound of |c0 + c1 s + c2 s^2| over |s| <= h (interval coefficients).

    Exact up to the widths of the c's: the maximum is at s = +-h or at the
    vertex -c1 / (2 c2). Near an extremum of f - p (c1 ~ 0) this is what
    keeps pieces large: the triangle inequality would add |c2| h^2.
    """
    ends = [abs(c0 + c1 * h + c2 * h**2).b, abs(c0 - c1 * h + c2 * h**2).b]
    if c2.a > 0 or c2.b < 0:
        vertex = -c1 / (2 * c2)
        if vertex.a <= h.b and vertex.b >= -h.b:
            ends.append(abs(c0 - c1**2 / (4 * c2)).b)
        return max(ends)
    return abs(c0).b + abs(c1).b * h + abs(c2).b * h**2


def _shift(p: list, m: Any) -> list:
    """Coefficients of p(m + s) in powers of s (repeated synthetic division)."""
    q = list(p)
    n = len(q) - 1
    for k in range(n):
        for j in range(n - 1, k - 1, -1):
            q[j] = q[j] + m * q[j + 1]
    return q


def _upper_float(x: Any) -> float:
    """A float >= every value of the interval x."""
    return to_float(x._mpi_[1], rnd=round_ceiling)


def _lower_float(x: Any) -> float:
    return to_float(x._mpi_[0], rnd=round_floor)


ROUNDING_PIECES = 8


def rounding_bound(root: ir.Node, r: float, pieces: int = ROUNDING_PIECES) -> float:
    """A bound on |float32 program - exact program| for |d| <= r.

    A running error analysis (Higham's standard model): for each operation,
    an interval V holding its exact value and a bound e on the error of the
    computed one; each operation adds u * (|V| + e) (u = 2^-24), a product
    also FLOAT32_TINY for underflow, a constant its rounding to float32. On
    pieces of the range V is tight, so the bound follows the program's real
    intermediate values rather than the sum of |c_k| r^k.
    """
    u = iv.mpf(FLOAT32_UNIT)
    edges = np.linspace(-r, r, pieces + 1)
    worst = 0.0
    for a, b in zip(edges, edges[1:]):
        done: dict[int, tuple[Any, Any]] = {}
        for node in ir.topological(root):
            args = [done[id(x)] for x in node.args]
            if node.op == "const":
                c = float(node.value)
                value, err = iv.mpf(c), iv.mpf(abs(float(np.float32(c)) - c))
            elif node.op == "var":
                value, err = iv.mpf([float(a), float(b)]), iv.mpf(0)
            elif node.op == "abs":
                value, err = abs(args[0][0]), args[0][1]
            elif node.op == "neg":
                value, err = -args[0][0], args[0][1]
            elif node.op in ("add", "sub"):
                (v1, e1), (v2, e2) = args
                value = v1 + v2 if node.op == "add" else v1 - v2
                err = e1 + e2 + u * (abs(value).b + e1 + e2)
            elif node.op in ("mul", "square"):
                (v1, e1), (v2, e2) = args if node.op == "mul" else (args[0], args[0])
                value = v1 * v2 if node.op == "mul" else v1**2
                err = abs(v1).b * e2 + abs(v2).b * e1 + e1 * e2
                err = err + u * (abs(value).b + err) + FLOAT32_TINY
            else:
                raise AssertionError(f"op {node.op!r} left in a compiled polynomial")
            done[id(node)] = (value, err)
        worst = max(worst, _upper_float(done[id(root)][1]))
    return worst


# 6. The approximation: polynomial → Program, and its report ----------------------

@dataclass(frozen=True)
class Report:
    """What a truncated loss is and how good it is (``losscc taylor`` prints it)."""

    expression: str  # f, as given
    method: str  # "taylor" or "chebyshev"
    variable: str  # "d", or "abs(d)" on the Abs route
    about: float  # the Taylor expansion point (0 for Chebyshev)
    range: float  # the report is about d in [-range, range]
    degree: int
    coefficients: tuple[float, ...]  # of variable^k, float32 values, k = 0..degree
    op_count: int
    op_counts: dict
    radius: float  # of the Taylor series about `about`, in `variable`; inf: entire
    max_abs_error: float  # of the float32 program, on the grid
    max_rel_error: float
    worst_at: float
    certified_bound: float  # proven: |f - program| <= this on the whole range
    truncation_bound: float
    rounding_bound: float
    pieces: int
    grid_points: int
    tolerance: Optional[float] = None

    @property
    def polynomial(self) -> str:
        """The polynomial, as a formula ``losscc compile`` takes."""
        terms = []
        for k, c in enumerate(self.coefficients):
            if c == 0:
                continue
            number = str(np.float32(abs(c)))
            power = "" if k == 0 else self.variable if k == 1 else f"{self.variable}^{k}"
            term = number if not power else power if number == "1.0" else f"{number}*{power}"
            terms.append(("- " if c < 0 else "+ ") + term)
        text = " ".join(terms) if terms else "0"
        return text[2:] if text.startswith("+ ") else "-" + text[2:]

    @property
    def headline(self) -> str:
        how = (f"Taylor polynomial about {_show(self.about)}" if self.method == "taylor"
               else "Chebyshev interpolant")
        return (f"{how} of degree {self.degree} in {self.variable}, "
                f"for d in [{_show(-self.range)}, {_show(self.range)}]")

    def text(self) -> str:
        """The report as ``losscc taylor`` prints it."""
        where = f"[{_show(-self.range)}, {_show(self.range)}]"
        counts = ", ".join(f"{k} {v}" for k, v in self.op_counts.items())
        radius = ("infinite (an entire function)" if math.isinf(self.radius)
                  else f"{self.radius:.5g}")
        lines = [
            f"{self.expression.strip()}",
            f"  {self.headline}",
            f"  p = {self.polynomial}",
            f"  operations: {self.op_count} ({counts})",
            f"  radius of convergence about {_show(self.about)}: {radius}",
            (f"  measured on {self.grid_points} float32 points: max |error| "
             f"{self.max_abs_error:.3g} (at d = {self.worst_at:.4g}), "
             f"max relative error {self.max_rel_error:.3g}"),
            (f"  certified: |f - p| <= {self.certified_bound:.3g} for all d in {where} "
             f"(truncation {self.truncation_bound:.3g} by interval arithmetic on "
             f"{self.pieces} pieces, float32 rounding {self.rounding_bound:.3g})"),
        ]
        if self.tolerance is not None:
            lines.append(f"  tolerance {self.tolerance:.3g}: met (degree {self.degree} is the "
                         "smallest whose certified bound meets it)")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["coefficients"] = list(self.coefficients)
        out["polynomial"] = self.polynomial
        for key in ("radius", "max_rel_error"):
            if not math.isfinite(out[key]):
                out[key] = None  # JSON has no infinity: null is "unbounded"
        return out

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)


@dataclass(frozen=True)
class Approximation:
    """The truncated loss: its Program (for source and cells) and its Report."""

    program: Program
    report: Report

    def source(self, name: Optional[str] = None) -> str:
        return self.program.source(name)

    def load(self, name: Optional[str] = None) -> Any:
        """A ready LossBase cell, with ``.report`` and ``.source_code`` attached."""
        cell = self.program.load(name)
        cell.report = self.report
        cell.source_code = self.source(name)
        return cell


def approximate(
    expr: Any,
    order: Optional[int] = None,
    tol: Optional[float] = None,
    range: Optional[float] = None,  # noqa: A002 - the issue's name for it
    about: float = 0.0,
    method: str = "taylor",
    reduction: str = "mean",
) -> Approximation:
    """Truncate ``expr`` (a formula or SymPy expression in d) to a compiled polynomial.

    ``order``: the highest power kept; or ``tol``: the smallest degree whose
    certified error on the range is at most tol (default: order 8).
    ``range``: the report covers d in [-range, range] (Chebyshev interpolates
    there; default for Taylor: 1, or half the radius of convergence if smaller).
    """
    reduction_ = parse_reduction(reduction)
    if order is None and tol is None:
        order = DEFAULT_ORDER
    _check_options(order, tol, range, about, method)
    target = prepare(expr)
    about = float(about)
    if target.through_abs and about < 0:
        raise LossccError(f"--about {_show(about)} is negative, but this loss is expanded in "
                          "a = abs(d) >= 0", hint="expand about a point >= 0", source="options")
    radius = radius_of_convergence(target, about)
    r = float(range) if range is not None else _default_range(radius, about)
    lo, hi = (0.0, r) if target.through_abs else (-r, r)
    if method == "taylor" and max(hi - about, about - lo) > radius:
        raise target.error(
            f"the range [{_show(-r)}, {_show(r)}] reaches beyond the radius of convergence "
            f"{radius:.5g} of the Taylor series about {_show(about)}",
            hint="the series diverges beyond the loss's nearest complex singularity; use "
            f"--method chebyshev --range {_show(r)}, or a range within the radius")
    d = grid(r)
    exact = exact_values(target, d)
    degrees = [int(order)] if order is not None else _degrees(target)
    taylor_cache = (taylor_polynomial(target, max(degrees), about) if method == "taylor"
                    else None)
    misses = _Misses()
    for degree in degrees:
        if taylor_cache is not None:
            high = taylor_cache[: degree + 1]
        else:
            high = chebyshev_polynomial(target, degree, lo, hi)
        coefficients = _float32(high, target, degree)
        if tol is not None:
            screened = _screen(coefficients, d, target, exact)
            if screened > tol:
                misses.note("exact", degree, screened)
                if misses.stalled(degree):
                    break
                continue
        program = _program(target, coefficients, reduction_)
        measured = measure(program, d, exact)
        if tol is not None and measured.max_abs_error > tol:
            misses.note("float32", degree, measured.max_abs_error)
            continue
        certified = certify(target, program, lo, hi, r, measured.max_abs_error,
                            first_pieces=4 if method == "taylor" else max(4, degree // 2))
        if certified.bound < measured.max_abs_error:
            raise AssertionError(f"certified bound {certified.bound} below the measured "
                                 f"error {measured.max_abs_error}: a bug in losscc.series")
        if tol is not None and certified.bound > tol:
            misses.note("certified", degree, certified.bound, certified.rounding)
            if misses.certified >= CERTIFY_ATTEMPTS:
                break
            continue
        report = _report(target, method, about, r, program, coefficients, radius, measured,
                         certified, tol)
        label = (f"{target.label.strip()}\n# losscc taylor: {report.headline}, "
                 f"|error| <= {certified.bound:.3g}")
        return Approximation(dataclasses.replace(program, formula=label), report)
    raise misses.error(target, tol, r, method, exact)


CERTIFY_ATTEMPTS = 4  # degrees whose bound is computed before --tol gives up
STALLED_DEGREES = 12  # degrees tried past the closest one before --tol gives up


class _Misses:
    """Why no degree met --tol: the closest miss at each stage of the check."""

    def __init__(self) -> None:
        self.closest: dict[str, tuple[float, int, float]] = {}
        self.certified = 0

    def note(self, stage: str, degree: int, error: float, rounding: float = 0.0) -> None:
        self.certified += stage == "certified"
        if stage not in self.closest or error < self.closest[stage][0]:
            self.closest[stage] = (error, degree, rounding)

    def stalled(self, degree: int) -> bool:
        """Twelve degrees past the best one without getting closer: stop looking."""
        return degree >= self.closest["exact"][1] + STALLED_DEGREES

    def error(self, target: Target, tol: float, r: float, method: str,
              exact: np.ndarray) -> LossccError:
        floor = FLOAT32_UNIT * float(np.max(np.abs(exact)))
        message = (f"found no polynomial (degree <= {MAX_DEGREE}) with an error <= {tol:.3g} "
                   f"on [{_show(-r)}, {_show(r)}]")
        if "certified" in self.closest:
            bound, degree, rounding = self.closest["certified"]
            message += (f": degree {degree} comes closest, but its certified bound is "
                        f"{bound:.3g} ({rounding:.2g} of it from float32 rounding)")
        elif "float32" in self.closest:
            error, degree, _ = self.closest["float32"]
            message += (f": in float32, degree {degree} comes closest, with {error:.3g} "
                        "measured on the grid")
        elif "exact" in self.closest:
            error, degree, _ = self.closest["exact"]
            message += (f": the closest, degree {degree}, has max error {error:.3g} "
                        "(coefficients rounded to float32)")
        if "float32" in self.closest or "certified" in self.closest or tol < 8 * floor:
            hint = (f"float32 evaluation limits the accuracy here (about {floor:.2g} at the "
                    "least): ask for a larger --tol, or a smaller --range")
        elif method == "taylor":
            hint = "try --method chebyshev (near-minimax on the range), or a smaller --range"
        else:
            hint = "try a smaller --range, or a larger --tol"
        return target.error(message, hint=hint)


def _check_options(order, tol, range, about, method) -> None:  # noqa: A002
    if method not in METHODS:
        raise LossccError(f"unknown method {method!r}", hint="use taylor or chebyshev",
                          source="options")
    if order is not None and tol is not None:
        raise LossccError("give --order or --tol, not both", source="options")
    if order is not None and (isinstance(order, bool) or int(order) != order
                              or not 1 <= order <= MAX_DEGREE):
        raise LossccError(f"--order {order} is not a degree losscc takes",
                          hint=f"a whole number from 1 to {MAX_DEGREE}", source="options")
    if tol is not None and not (math.isfinite(tol) and tol > 0):
        raise LossccError(f"--tol {tol} is not a positive number", source="options")
    if range is not None and not (math.isfinite(range) and 0 < range <= 1e6):
        raise LossccError(f"--range {range} is not a positive number (up to 1e6)",
                          source="options")
    if not math.isfinite(about) or abs(about) > 1e6:
        raise LossccError(f"--about {about} is not a finite number (up to 1e6)",
                          source="options")
    if method == "chebyshev" and range is None:
        raise LossccError("--method chebyshev needs --range R",
                          hint="Chebyshev interpolation is near-minimax on [-R, R]",
                          source="options")
    if method == "chebyshev" and about != 0:
        raise LossccError("--about applies to --method taylor only", source="options")


def _default_range(radius: float, about: float) -> float:
    room = radius - abs(about)
    if room <= 0:
        raise LossccError(f"--about {_show(about)} is beyond the radius of convergence "
                          f"{radius:.5g}", source="options")
    return min(1.0, float(f"{room / 2:.2g}"))  # about half the radius, at most 1


def _degrees(target: Target) -> list[int]:
    if target.parity == 2:
        return list(range(2, MAX_DEGREE + 1, 2))
    if target.parity == 1:
        return list(range(1, MAX_DEGREE + 1, 2))
    return list(range(1, MAX_DEGREE + 1))


def _float32(high: list, target: Target, degree: int) -> list[float]:
    with np.errstate(over="ignore"):
        coefficients = [float(np.float32(float(c))) for c in high[: degree + 1]]
    if not all(math.isfinite(c) for c in coefficients):
        raise target.error("a coefficient of the polynomial overflows float32",
                           hint="use a smaller --range or --order, or scale the loss")
    return coefficients


def _screen(coefficients: list[float], d: np.ndarray, target: Target,
            exact: np.ndarray) -> float:
    """The rounded polynomial's error on the grid, in float64: cheap, before compiling."""
    x = np.abs(d) if target.through_abs else d
    values = np.polynomial.polynomial.polyval(x.astype(np.float64), coefficients)
    return float(np.max(np.abs(values - exact)))


def _program(target: Target, coefficients: list[float], reduction: Any) -> Program:
    terms = [ir.mul(ir.const(c), ir.pow_(target.atom, k)) if k else ir.const(c)
             for k, c in enumerate(coefficients) if c != 0]
    if not terms:
        raise target.error(f"every coefficient up to degree {len(coefficients) - 1} is 0 "
                           "in float32", hint="ask for a higher --order, or scale the loss "
                           "(float32 holds no number below 1.4e-45)")
    raw = terms[0]
    for term in terms[1:]:
        raw = ir.add(raw, term)
    return Program.from_ir(target.label, raw, reduction)


def _report(target, method, about, r, program, coefficients, radius, measured, certified,
            tol) -> Report:
    degree = max((k for k, c in enumerate(coefficients) if c != 0), default=0)
    return Report(
        expression=target.label, method=method, variable=target.atom_text, about=about,
        range=r, degree=degree, coefficients=tuple(coefficients[: degree + 1]),
        op_count=program.op_count, op_counts=program.op_counts, radius=radius,
        max_abs_error=measured.max_abs_error, max_rel_error=measured.max_rel_error,
        worst_at=measured.worst_at, certified_bound=certified.bound,
        truncation_bound=certified.truncation, rounding_bound=certified.rounding,
        pieces=certified.pieces, grid_points=GRID_POINTS, tolerance=tol,
    )


def _show(x: float) -> str:
    """A number for messages: 1 not 1.0, 0.5, 1.5708."""
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.6g}"
