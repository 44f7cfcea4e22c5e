"""The radius of convergence of f's Taylor series: where a Taylor polynomial can hold.

>>> from losscc.series.target import prepare
>>> round(radius_of_convergence(prepare("log(1 + d^2)")), 2)
1.0
>>> radius_of_convergence(prepare("exp(-d^2)"))
inf
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import sympy as sp

from .number_systems import HIGH
from .target import Target
from .taylor import taylor_coefficients

RADIUS_TERMS = 64  # coefficients the radius of convergence is estimated from


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
    sizes = [abs(c) for c in taylor_coefficients(target, HIGH.mpf(about), n + 2)]
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
        if not peaks and sizes[k] < HIGH.sqrt(before * after) / 1000:
            continue
        points.append((k, float(HIGH.log(sizes[k]))))
    return points


def _least_squares(points: list, terms: int) -> tuple[Any, float]:
    """Fit log|c_k| by 1, log k, k (and k log k): coefficients, RMS residual."""
    k = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points])
    design = np.stack([np.ones_like(k), np.log(k), k, k * np.log(k)][:terms], axis=1)
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    return coefficients, float(np.sqrt(np.mean((design @ coefficients - y) ** 2)))
