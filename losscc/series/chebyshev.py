"""Chebyshev interpolation of a Target on [lo, hi], as a polynomial in powers of x.

Near-minimax on the range, and usable beyond the Taylor series' radius of
convergence (``losscc taylor --method chebyshev``).

>>> from losscc.series.target import prepare
>>> [float(c) for c in chebyshev_polynomial(prepare("d^2 + 1"), 2, -1.0, 1.0)]
[1.0, 0.0, 1.0]
"""
from __future__ import annotations

from typing import Any

from .. import ir
from ..floats import show
from ..ir.polynomial import Polynomial
from .number_systems import DPS, HIGH, DomainError, MpfKit
from .recurrences import power_series
from .target import Target

_X = ir.var("d")  # the polynomial's variable x (d, or abs(d) on the Abs route)


def chebyshev_polynomial(target: Target, degree: int, lo: float, hi: float) -> list:
    """Interpolation at the degree + 1 Chebyshev points of [lo, hi], in powers of x.

    On a symmetric range the coefficients of the wrong parity are exactly 0,
    so an even loss stays even (its gradient at d = 0 stays 0).
    """
    nodes = degree + 1
    lo_, hi_ = HIGH.mpf(lo), HIGH.mpf(hi)
    mid, half = (lo_ + hi_) / 2, (hi_ - lo_) / 2
    angles = [HIGH.pi * (j + HIGH.mpf(1) / 2) / nodes for j in range(nodes)]
    kit = MpfKit()
    values = [_value_at(target, mid + half * HIGH.cos(a), kit) for a in angles]
    cheb = [2 * HIGH.fsum(v * HIGH.cos(k * a) for v, a in zip(values, angles)) / nodes
            for k in range(nodes)]
    cheb[0] /= 2
    if target.parity:
        for k in range(nodes):
            if k % 2 != target.parity % 2:
                cheb[k] = HIGH.mpf(0)
    # T_k(s), s = (x - mid) / half, as polynomials in x; sum cheb_k T_k.
    s = Polynomial.constant(-mid / half) + Polynomial.atom(_X).scaled(1 / half)
    t_prev, t_cur = Polynomial.constant(HIGH.mpf(1)), s
    out = [cheb[0]] + [HIGH.mpf(0)] * degree
    for k in range(1, nodes):
        for j, c in t_cur.univariate().items():
            out[j] += cheb[k] * c
        t_next = (s * t_cur).scaled(2) - t_prev
        t_prev, t_cur = t_cur, t_next
    if target.parity:  # T_k(x / half) has the parity of k exactly; keep it so
        out = [c if j % 2 == target.parity % 2 else HIGH.mpf(0) for j, c in enumerate(out)]
    # Terms at the level of the arithmetic's rounding are noise (p(0) = 1e-41
    # where f(0) = 0 would cost an Add): make them exact zeros.
    reach = max(abs(lo_), abs(hi_))
    sizes = [abs(c) * reach**j for j, c in enumerate(out)]
    noise = max(sizes) * HIGH.mpf(10) ** (10 - DPS)
    return [c if size > noise else HIGH.mpf(0) for c, size in zip(out, sizes)]


def _value_at(target: Target, x: Any, kit: MpfKit) -> Any:
    try:
        return power_series(target.expr, target.x, x, 0, kit)[0]
    except DomainError as e:
        raise target.error(f"the loss is not defined at {target.atom_text} = "
                           f"{show(float(x))}: {e.message}", at=e.node,
                           hint="choose a --range on which the loss is defined") from None
