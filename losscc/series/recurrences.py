"""Truncated power series of a SymPy expression, by the recurrences of automatic differentiation.

A series is a list of the coefficients of t^0 .. t^n (x = center + t); a
constant is a list of one element. Each rule in ``RULES`` takes the node, its
arguments' series, n and the kit (``numbers.py``), and costs O(n^2). SymPy's
own ``series`` is tens of times slower at degree 24 (benchmarks/taylor.py).
"""
from __future__ import annotations

from typing import Any, Callable

import sympy as sp


def power_series(expr: Any, x: Any, center: Any, order: int, kit: Any) -> list:
    """Taylor coefficients of ``expr`` in t = x - center, up to t^order.

    >>> from losscc.series.number_systems import HIGH, MpfKit
    >>> d = sp.Symbol("d", real=True)
    >>> [float(c) for c in power_series(sp.exp(d), d, HIGH.mpf(0), 3, MpfKit())]
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
            rule = RULES.get(type(node))
            if rule is None:  # prepare() refuses such expressions: reaching here is a bug
                raise AssertionError(f"no series rule for {type(node).__name__}")
            memo[node] = rule(node, [memo[a] for a in node.args], order, kit)
    return _full(memo[expr], order)


# Series arithmetic -------------------------------------------------------------

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


# The rules, one per SymPy node type ----------------------------------------------

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


def _pair_rule(first: str, second: str, sign: int, which: int) -> Callable:
    """The rule of one of a pair (sin, cos) or (sinh, cosh): both series come together."""

    def rule(node, args, n, kit):
        u = _full(args[0], n)
        start = (getattr(kit, first)(u[0]), getattr(kit, second)(u[0]))
        return _pair(u, n, *start, sign)[which]

    return rule


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
    sp.sin: _pair_rule("sin", "cos", -1, 0),
    sp.cos: _pair_rule("sin", "cos", -1, 1),
    sp.sinh: _pair_rule("sinh", "cosh", 1, 0),
    sp.cosh: _pair_rule("sinh", "cosh", 1, 1),
    sp.tanh: _tanh_rule,
    sp.atan: _atan_rule,
    sp.erf: _erf_rule,
}
