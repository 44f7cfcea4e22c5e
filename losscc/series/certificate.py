"""A proven upper bound on |f - program| over the whole range.

Two parts: the truncation error |f - p| of the program's polynomial p in
exact arithmetic (interval Taylor models, branch and bound), and the float32
rounding error of the program's operations (``rounding.py``).

>>> from losscc.series import approximate, prepare
>>> a = approximate("exp(-d^2)", order=6, range=1)
>>> bound = certify(prepare("exp(-d^2)"), a.program, -1.0, 1.0, 1.0, a.report.max_abs_error)
>>> a.report.max_abs_error <= bound.bound == a.report.certified_bound
True
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Any

from mpmath import iv

from ..compiler.passes.poly import to_poly
from ..compiler.program import Program
from .number_systems import HIGH, IntervalKit, lower_float, upper_float
from .recurrences import power_series
from .rounding import rounding_bound
from .target import Target

TAYLOR_MODEL_ORDER = 8  # K: the order of the series on each piece
MAX_PIECES = 4000
SETTLE_SLACK = 1 / 16  # a piece is settled within this fraction of the error seen


@dataclass(frozen=True)
class Certified:
    """The proven bound and its parts."""

    bound: float  # |f(d) - program(d)| <= bound for every float32 d in the range
    truncation: float  # the part from f - p in exact arithmetic (p: the program's polynomial)
    rounding: float  # the part from float32 arithmetic in the program
    pieces: int  # subintervals the interval arithmetic used


def certify(target: Target, program: Program, lo: float, hi: float, r: float,
            measured: float, first_pieces: int = 4) -> Certified:
    """A proven upper bound on |f - program| over x in [lo, hi] (d in [-r, r]).

    Two parts. (1) |f - p| for the program's polynomial p in exact arithmetic,
    by branch and bound over subintervals X = m +- h: f(m + s) = sum_k F_k s^k
    + F_{K+1}(xi) s^(K+1) with the F_k enclosed by interval series at the
    point m and F_{K+1} over all of X, and p's Taylor shift to m done in
    intervals too. The triangle inequality bounds the piece; pieces whose
    bound is within SETTLE_SLACK of the largest error seen (``measured`` to
    start with) are settled, the others are halved; the range starts as
    ``first_pieces`` pieces (an error that equioscillates, as a Chebyshev
    interpolant's, wants about one per pair of extrema). (2) float32 rounding
    in the program, by a running error analysis of its operations (Higham's
    model, plus underflow).
    """
    coefficients = [iv.mpf(c) for c in program_polynomial(program)]
    rounding = rounding_bound(program.root, r)
    truncation, pieces = _branch_and_bound(target, coefficients, lo, hi, measured,
                                           rounding, first_pieces)
    return Certified(truncation + rounding, truncation, rounding, pieces)


def program_polynomial(program: Program) -> list[float]:
    """The polynomial in x that the program computes, read back from its IR.

    >>> from losscc.series import approximate
    >>> program_polynomial(approximate("exp(-d^2)", order=4, range=1).program)
    [1.0, 0.0, -1.0, 0.0, 0.5]
    """
    poly = to_poly(program.root)
    if poly is None:
        raise AssertionError("the compiled polynomial cannot be read back")
    by_power = poly.univariate()
    return [by_power.get(k, 0.0) for k in range(max(by_power, default=0) + 1)]


def _branch_and_bound(target: Target, p: list, lo: float, hi: float, measured: float,
                      rounding: float, first: int) -> tuple[float, int]:
    """max |f - p| over [lo, hi], from above, and the number of pieces it took.

    A piece is settled when its bound exceeds the largest error seen by at
    most SETTLE_SLACK times (that error + ``rounding``): the certificate is
    the sum of both parts, so sharpening one far below the other is wasted work.
    """
    kit = IntervalKit()
    order = TAYLOR_MODEL_ORDER
    best_lower = measured  # the largest |f - p| known to occur (the grid's is close)
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
        best_lower = max(best_lower, lower_float(abs(f_m[0] - p_m[0])))
        heapq.heappush(heap, (-upper_float(upper), count, a, b))

    lo_, hi_ = HIGH.mpf(lo), HIGH.mpf(hi)
    edges = [lo_ + (hi_ - lo_) * i / first for i in range(first + 1)]
    for a, b in zip(edges, edges[1:]):
        piece(a, b)
    settled = 0.0
    while heap:
        top = -heap[0][0]
        if top <= best_lower + SETTLE_SLACK * (best_lower + rounding):
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
