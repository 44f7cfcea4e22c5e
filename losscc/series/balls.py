"""Ball arithmetic (arb, through python-flint): rigorous enclosures for the certificate.

An ``arb`` is a ball ``mid +- rad`` that contains the true value of every
operation done on it; ``arb_series`` is a truncated power series with ball
coefficients. arb has rigorous exp, log, log1p, expm1, atan, erf, sin, cos
and real powers at any precision, so exp(-2^128) and log(cosh(2^100)) are no
problem; mpmath.iv, which the finite-range certificate uses, lacks cosh,
tanh and atan and is about 20 times slower.

python-flint keeps its working precision (bits) and series length in a
global ``ctx``: ``precision`` sets both for a block and restores them.

>>> d = sp.Symbol("d", real=True)
>>> with precision(bits=64, terms=3):
...     s = evaluate(sp.log(sp.cosh(d)), d, arb_series([arb(0), 1]))
>>> [upper(c) >= 0.5 for c in s.coeffs()[:3]]
[False, False, True]
>>> lower(to_ball(Fraction(1, 3))) < 1 / 3 < upper(to_ball(Fraction(1, 3)))
True
"""
from __future__ import annotations

import contextlib
import math
from fractions import Fraction
from typing import Any, Iterator

import sympy as sp
from flint import arb, arb_series, ctx

from .stable import Log1p, Powm1

__all__ = ["arb", "arb_series", "evaluate", "hull", "lower", "precision", "to_ball", "upper"]


@contextlib.contextmanager
def precision(bits: int, terms: int = 1) -> Iterator[None]:
    """python-flint's working precision and series length for the block, then restored."""
    old = ctx.prec, ctx.cap
    ctx.prec, ctx.cap = bits, terms
    try:
        yield
    finally:
        ctx.prec, ctx.cap = old


def upper(x: Any) -> float:
    """A float >= every point of the ball x (inf if x is not finite)."""
    if not x.is_finite():
        return math.inf
    top = x.upper()
    value = float(top.mid()) + float(top.rad())
    return math.nextafter(math.nextafter(value, math.inf), math.inf)


def lower(x: Any) -> float:
    """A float <= every point of the ball x (-inf if x is not finite)."""
    if not x.is_finite():
        return -math.inf
    bottom = x.lower()
    value = float(bottom.mid()) - float(bottom.rad())
    return math.nextafter(math.nextafter(value, -math.inf), -math.inf)


def hull(a: Any, b: Any) -> Any:
    """The smallest ball holding both a and b."""
    return arb(a).union(arb(b))


def to_ball(q: "Fraction | float | int") -> Any:
    """A rational (a float, exactly) as a ball: exact when its denominator is a power of 2."""
    q = Fraction(q)
    return arb(q.numerator) / arb(q.denominator)


def evaluate(expr: Any, x: Any, at: Any) -> Any:
    """``expr`` (SymPy, in the symbol x) at ``at`` (an arb or arb_series), enclosed rigorously.

    Covers what losscc's formula language can write (exp, log, sqrt and real
    powers, cosh, sinh, tanh, sin, cos, atan, erf, + - * /) and the stable
    forms' Log1p and Powm1. A log or power of a ball reaching 0 or below
    gives a non-finite ball (nan or inf): the certificate then fails, safely.
    """
    memo: dict = {}
    stack: list = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        if node in memo:
            continue
        if node == x:
            memo[node] = at
        elif not node.args or not node.has(x):
            memo[node] = _constant(node)
        elif not ready:
            stack.append((node, True))
            stack.extend((a, False) for a in node.args if a not in memo)
        else:
            memo[node] = _apply(node, [memo[a] for a in node.args])
    return memo[expr]


def _constant(node: Any) -> Any:
    if node.is_Integer:
        return arb(int(node))
    if node.is_Rational:
        return arb(int(node.p)) / arb(int(node.q))
    if node is sp.pi:
        return arb.pi()
    if node is sp.E:
        return arb(1).exp()
    if node.is_Float:
        sign, mantissa, exponent, _ = node._mpf_
        return (-1) ** sign * arb(int(mantissa)) * arb(2) ** int(exponent)
    if node.args:  # a constant expression: log(2), sqrt(3), ...
        return _apply(node, [_constant(a) for a in node.args])
    raise ValueError(f"cannot enclose the constant {sp.sstr(node)}")


def _is_series(x: Any) -> bool:
    return isinstance(x, arb_series)


def _apply(node: Any, args: list) -> Any:
    if isinstance(node, sp.Add):
        out = args[0]
        for a in args[1:]:
            out = out + a
        return out
    if isinstance(node, sp.Mul):
        out = args[0]
        for a in args[1:]:
            out = out * a
        return out
    if isinstance(node, sp.Pow):
        base, exponent = args
        e = node.exp
        if e.is_Integer:
            n = int(e)
            out = _whole_power(base, abs(n))
            return 1 / out if n < 0 else out
        if e == sp.Rational(1, 2):
            return base.sqrt()
        if e == sp.Rational(-1, 2):
            return base.rsqrt()
        return (exponent * base.log()).exp()
    if isinstance(node, sp.exp):
        return args[0].exp()
    if isinstance(node, sp.log):
        return args[0].log()
    if isinstance(node, Log1p):
        return (1 + args[0]).log() if _is_series(args[0]) else args[0].log1p()
    if isinstance(node, Powm1):
        x, q = args
        if _is_series(x):
            return (q * (1 + x).log()).exp() - 1
        return (q * x.log1p()).expm1()
    if isinstance(node, (sp.cosh, sp.sinh)):
        up, down = args[0].exp(), (-args[0]).exp()
        return (up + down) / 2 if isinstance(node, sp.cosh) else (up - down) / 2
    if isinstance(node, sp.tanh):
        a = args[0]
        if not _is_series(a):
            return a.tanh()
        e = (-2 * a).exp()
        return (1 - e) / (1 + e)
    for kind, name in ((sp.sin, "sin"), (sp.cos, "cos"), (sp.atan, "atan"), (sp.erf, "erf")):
        if isinstance(node, kind):
            return getattr(args[0], name)()
    raise ValueError(f"cannot enclose {type(node).__name__}(...)")


def _whole_power(base: Any, n: int) -> Any:
    out = None
    while n:
        if n & 1:
            out = base if out is None else out * base
        n >>= 1
        if n:
            base = base * base
    return out if out is not None else base * 0 + 1
