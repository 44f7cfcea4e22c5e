"""Polynomial fits on an interval, in the Chebyshev basis, then as float32 monomials.

A fit approximates F(t) on t in [-1, 1] (t is the cell's polynomial
variable w, scaled), three ways:

- ``interpolate``: Chebyshev interpolation (near-minimax, no solver);
- ``minimax``: the weighted discrete minimax by linear programming
  (HiGHS, through SciPy), weight 1/max(1, |f|): the mixed error measure;
- the same with derivative rows (``slopes``): the value and the slope
  together, which keeps the cell's gradient close too.

``monomials`` turns Chebyshev coefficients into coefficients of powers of
w = mid + half*t, exactly (40 digits), and rounds them to float32: those are
the numbers the cell computes with, and the certificate takes them as they are.

>>> import numpy as np
>>> c = interpolate(np.cos, 12)          # cos(t) on [-1, 1]
>>> abs(np.polynomial.chebyshev.chebval(0.3, c) - np.cos(0.3)) < 1e-12
True
>>> monomials([0.0, 0.0, 1.0], -1.0, 1.0)  # T_2(t) = 2t^2 - 1, w = t
[-1.0, 0.0, 2.0]
"""
from __future__ import annotations

import functools
import math
from fractions import Fraction
from typing import Callable, Optional

import numpy as np

from ..floats import to_float32

Function = Callable[[np.ndarray], np.ndarray]


def interpolate(F: Function, degree: int) -> np.ndarray:
    """Chebyshev coefficients of F's interpolant at the degree + 1 Chebyshev points."""
    nodes = degree + 1
    angles = np.pi * (np.arange(nodes) + 0.5) / nodes
    values = F(np.cos(angles))
    k = np.arange(nodes)[:, None]
    with np.errstate(all="ignore"):  # values beyond float64 give non-finite coefficients:
        c = 2.0 * (np.cos(k * angles[None, :]) @ values) / nodes  # the callers refuse them
    c[0] /= 2
    return c


def points(degree: int) -> np.ndarray:
    """The minimax fit's points: Chebyshev-Lobatto, dense near the ends (where errors peak)."""
    m = max(25 * (degree + 1), 600)
    return np.cos(np.pi * np.arange(m) / (m - 1))


def minimax(F: Function, weight: Function, degree: int,
            slopes: Optional[tuple[Function, Function]] = None,
            vanish_left: bool = False) -> Optional[np.ndarray]:
    """Chebyshev coefficients minimising max weight*|p - F| over ``points`` (None if it fails).

    ``slopes`` = (F', weight'): also minimise max weight'*|p' - F'| (one LP: the
    largest of both weighted errors). ``vanish_left``: p(-1) = 0 exactly (a piece
    after the first, which must add nothing left of its knot).
    """
    from scipy.optimize import linprog

    t = points(degree)
    basis = np.polynomial.chebyshev.chebvander(t, degree)
    w = weight(t)
    A, b = basis * w[:, None], F(t) * w
    if slopes is not None:
        dF, dweight = slopes
        dw = dweight(t)
        derivative = np.zeros_like(basis)
        for k in range(1, degree + 1):
            unit = np.zeros(degree + 1)
            unit[k] = 1.0
            derivative[:, k] = np.polynomial.chebyshev.chebval(
                t, np.polynomial.chebyshev.chebder(unit))
        A = np.vstack([A, derivative * dw[:, None]])
        b = np.concatenate([b, dF(t) * dw])
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(b))):
        return None
    rows, cols = A.shape
    # variables: the coefficients, then e; minimise e subject to |A c - b| <= e
    ones = np.ones((rows, 1))
    equal = {}
    if vanish_left:  # T_k(-1) = (-1)^k
        equal = {"A_eq": np.r_[(-1.0) ** np.arange(cols), 0.0][None, :], "b_eq": np.zeros(1)}
    result = linprog(np.r_[np.zeros(cols), 1.0],
                     A_ub=np.block([[A, -ones], [-A, -ones]]), b_ub=np.r_[b, -b],
                     bounds=[(None, None)] * cols + [(0, None)], method="highs", **equal)
    return result.x[:cols] if result.status == 0 else None


@functools.lru_cache(maxsize=None)
def _chebyshev_table(n: int) -> tuple[tuple[int, ...], ...]:
    """The integer coefficients of T_0 .. T_n in powers of t."""
    rows = [(1,), (0, 1)]
    for k in range(2, n + 1):
        previous, current = rows[k - 2], rows[k - 1]
        following = [0] + [2 * x for x in current]
        for i, x in enumerate(previous):
            following[i] -= x
        rows.append(tuple(following))
    return tuple(rows[: n + 1])


def monomials(chebyshev: "list[float] | np.ndarray", lo: float, hi: float) -> list[float]:
    """sum c_k T_k(t), t = (2w - lo - hi)/(hi - lo), as float32 coefficients of w^k.

    The change of basis is exact (rational arithmetic on the floats given), so only the
    final rounding to float32 is an error: the monomial coefficients of a centred
    variable are well conditioned, and nothing here makes them less so.
    """
    n = len(chebyshev) - 1
    table = _chebyshev_table(max(n, 1))
    c = [Fraction(float(x)) for x in chebyshev]
    in_t = [sum((c[k] * table[k][j] for k in range(j, n + 1) if j < len(table[k])),
                Fraction(0)) for j in range(n + 1)]
    mid = (Fraction(lo) + Fraction(hi)) / 2
    half = (Fraction(hi) - Fraction(lo)) / 2
    scaled = [a / half**j for j, a in enumerate(in_t)]  # coefficients of (w - mid)^j
    if mid == 0:
        return [to_float32(float(a)) for a in scaled]
    in_w = [Fraction(0)] * (n + 1)
    for j, a in enumerate(scaled):  # a (w - mid)^j, binomially
        for i in range(j + 1):
            in_w[i] += a * math.comb(j, i) * (-mid) ** (j - i)
    return [to_float32(float(a)) for a in in_w]


def trim(coefficients: list[float]) -> list[float]:
    """Without the trailing zeros (the degree is the highest nonzero term).

    >>> trim([1.0, 2.0, 0.0, 0.0])
    [1.0, 2.0]
    """
    out = list(coefficients)
    while len(out) > 1 and out[-1] == 0:
        out.pop()
    return out


def exactly(coefficients: list[float], w: float) -> float:
    """sum c_k w^k exactly (the float32 polynomial's true value), rounded to a float.

    >>> exactly([1.0, 0.5], 3.0)
    2.5
    """
    total, x = Fraction(0), Fraction(w)
    for c in reversed(coefficients):
        total = total * x + Fraction(c)
    return float(total)
