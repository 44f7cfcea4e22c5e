"""Taylor polynomials of a Target, about any point, in powers of x.

>>> from losscc.series.target import prepare
>>> [float(c) for c in taylor_polynomial(prepare("exp(d)"), 3)]
[1.0, 1.0, 0.5, 0.16666666666666666]
>>> [float(c) for c in taylor_polynomial(prepare("(d - 1)^2"), 2, about=1.0)]
[1.0, -2.0, 1.0]
"""
from __future__ import annotations

from typing import Any

from ..floats import show
from .number_systems import HIGH, DomainError, MpfKit
from .recurrences import power_series
from .target import Target


def taylor_polynomial(target: Target, order: int, about: float = 0.0) -> list:
    """Coefficients (DPS-digit floats) of the Taylor polynomial, in powers of x."""
    c = HIGH.mpf(about)
    shifted = taylor_coefficients(target, c, order)
    if c == 0:
        return shifted
    # sum_k s_k (x - c)^k in powers of x
    return [HIGH.fsum(shifted[k] * HIGH.binomial(k, j) * (-c) ** (k - j)
                      for k in range(j, order + 1)) for j in range(order + 1)]


def taylor_coefficients(target: Target, center: Any, order: int) -> list:
    """The Taylor coefficients of f in powers of x - center, up to ``order``.

    Where f is not analytic at ``center``, a LossccError that points at the
    offending subexpression.
    """
    try:
        return power_series(target.expr, target.x, center, order, MpfKit())
    except DomainError as e:
        where = f"{target.atom_text} = {show(float(center))}"
        raise target.error(f"the loss is not analytic at {where}: {e.message}", at=e.node,
                           hint="the range [-R, R] always holds d = 0, so the loss must be "
                           "defined and smooth around it; a loss with a kink at 0 goes "
                           "through abs(d), as in log(1 + abs(d))") from None
