"""Stable forms: a loss's remainder beyond its asymptote, written without cancellation.

Interval arithmetic on ``log(cosh(u)) - u + log(2)`` over [2^k, 2^(k+1)] is
useless: the two big terms cancel, and the enclosure is as wide as they are
(2^k). Factoring the dominant term out of every ``log(A)`` and ``A^q`` makes
the cancellation symbolic instead:

- ``log(A) = log(L) + log1p(A/L - 1)``, with ``log(L)`` expanded
  (``log(c) + p*log(u) + k*u``), so that its linear part cancels against the
  asymptote exactly, in SymPy;
- ``A^q = L^q + L^q * powm1(A/L - 1, q)``, for fractional and negative q
  (a quotient 1/A too);
- ``atan(A) = pi/2 - atan(1/A)`` where A -> +oo.

"Dominant" is the largest exponential rate, then the largest power of u,
both found by SymPy's ``limit`` (Gruntz's algorithm). ``Log1p`` and
``Powm1`` are opaque functions, so ``expand`` cannot undo the rewrite.
Every step is an identity for u > 0 (``check_identity`` also compares both
forms at a few points with 60 digits, a guard against bugs here).

>>> u = U
>>> stabilize(sp.log(sp.cosh(u))) - u
Log1p(exp(-2*u)) - log(2)
>>> stabilize(sp.sqrt(1 + u**2)) - u
u*Powm1(u**(-2), 1/2)
"""
from __future__ import annotations

from typing import Any, Callable

import mpmath
import sympy as sp

U = sp.Symbol("u", positive=True)  # |d| on one side of 0


class Log1p(sp.Function):
    """log(1 + x), kept opaque so that ``expand`` does not undo a stable form."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> Any:
        return 1 / (1 + self.args[0])


class Powm1(sp.Function):
    """(1 + x)^q - 1, kept opaque (``Powm1(x, q)``)."""

    nargs = 2

    def fdiff(self, argindex: int = 1) -> Any:
        x, q = self.args
        if argindex == 1:
            return q * (1 + x) ** (q - 1)
        return (1 + x) ** q * sp.log(1 + x)


def _np_log1p(x: Any) -> Any:
    import numpy as np

    return np.log1p(x)


def _np_powm1(x: Any, q: Any) -> Any:
    import numpy as np

    return np.expm1(q * np.log1p(x))


# For sympy.lambdify: what the opaque functions are in each library.
NUMPY_FUNCTIONS = [{"Log1p": _np_log1p, "Powm1": _np_powm1}, "scipy", "numpy"]  # scipy: erf
MPMATH_FUNCTIONS = [{"Log1p": mpmath.log1p,
                     "Powm1": lambda x, q: mpmath.expm1(q * mpmath.log1p(x))}, "mpmath"]


class Unstable(Exception):
    """The stable rewrite failed (its dominant terms cancel): the tail is not enclosable."""


def stabilize(expr: Any) -> Any:
    """``expr`` (a function of u > 0) with the dominant part of every log and power explicit."""
    return _stable(expr.rewrite(sp.exp))


def _stable(e: Any) -> Any:
    if e.is_Atom or not e.has(U):
        return e
    args = [_stable(a) for a in e.args]
    if isinstance(e, sp.log):
        head, rest = _split_dominant(args[0])
        log_head = sp.expand_log(sp.log(head), force=True)
        return log_head if rest == 0 else log_head + Log1p(_tidy(rest / head))
    if isinstance(e, sp.atan) and sp.limit(args[0], U, sp.oo) == sp.oo:
        return sp.pi / 2 - sp.atan(sp.expand(1 / args[0]))  # atan(A) = pi/2 - atan(1/A), A > 0
    if isinstance(e, sp.Pow) and not e.exp.has(U) and not (e.exp.is_Integer and e.exp > 0):
        base, q = args
        head, rest = _split_dominant(base)
        power = sp.powsimp(sp.expand_power_base(head**q, force=True), force=True)
        return power if rest == 0 else power + power * Powm1(_tidy(rest / head), q)
    return e.func(*args)


def _tidy(e: Any) -> Any:
    return sp.expand(sp.powsimp(sp.expand(e)))


def _growth(term: Any) -> tuple[Any, Any]:
    """(k, p) with term ~ c u^p exp(k u) as u -> oo (k may be oo: exp(u^2) grows faster)."""
    k = sp.limit(sp.log(sp.Abs(term)) / U, U, sp.oo)
    p = sp.limit((sp.log(sp.Abs(term)) - k * U) / sp.log(U), U, sp.oo) if k.is_finite else 0
    return k, p


def _split_dominant(a: Any) -> tuple[Any, Any]:
    """a = head + rest, head the sum of a's fastest-growing terms."""
    terms = sp.Add.make_args(_tidy(a))
    keys = [_growth(t) for t in terms]
    for k, p in keys:
        if not (k.is_extended_real and p.is_extended_real):
            raise Unstable(f"cannot order the growth of the terms of {sp.sstr(a)}")
    top = max(keys, key=lambda kp: (float(kp[0]), float(kp[1])))
    head = sp.Add(*[t for t, kp in zip(terms, keys) if kp == top])
    rest = sp.Add(*[t for t, kp in zip(terms, keys) if kp != top])
    if head == 0:
        raise Unstable(f"the dominant terms of {sp.sstr(a)} cancel")
    return head, rest


def check_identity(plain: Any, stable: Any) -> None:
    """Both forms agree at a few points u > 0 to 45 digits, else AssertionError (a bug here)."""
    f, g = (sp.lambdify(U, e, MPMATH_FUNCTIONS) for e in (plain, stable))
    with mpmath.workdps(60):
        for x in ("0.37", "1.9", "7.25", "31.5", "300"):
            a, b = f(mpmath.mpf(x)), g(mpmath.mpf(x))
            if abs(a - b) > mpmath.mpf(10) ** -45 * (1 + abs(a)):
                raise AssertionError(f"stable rewrite differs at u = {x}: {plain} vs {stable}")


def numpy_function(expr: Any, symbol: Any = U) -> Callable:
    """``expr`` (SymPy, losscc's own) as a NumPy function of ``symbol``, in float64: its
    exact numbers beyond 2^53 made floats first (NumPy takes 10**30 as a Python int:
    object arrays, which its ufuncs refuse).

    >>> float(numpy_function(Log1p(sp.exp(-2 * U)))(1000.0))
    0.0
    """
    numbers = {n: sp.Float(n, 17) for n in expr.atoms(sp.Rational)
               if abs(n.p) > 2**53 or n.q > 2**53}
    return sp.lambdify(symbol, expr.xreplace(numbers) if numbers else expr, NUMPY_FUNCTIONS)


def describe(expr: Any) -> str:
    """A stable form as text: log1p and powm1 spelled as people write them.

    >>> describe(Log1p(sp.exp(-2 * U)))
    'log1p(exp(-2*u))'
    """
    return sp.sstr(expr).replace("Log1p", "log1p").replace("Powm1", "powm1")

