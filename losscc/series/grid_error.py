"""The error measured on a dense grid: what the float32 program really computes.

>>> d = grid(1.0)
>>> len(d), str(d.dtype), float(d.min()), float(d.max())
(4097, 'float32', -1.0, 1.0)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.program import Program
from ..floats import show
from ..ir.interpret import evaluate
from .number_systems import NumpyKit
from .recurrences import power_series
from .target import Target

GRID_POINTS = 4097  # the dense grid of measured errors


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
        values = power_series(target.expr, target.x, x, 0, NumpyKit())[0]
    values = np.broadcast_to(np.asarray(values, dtype=np.float64), x.shape)
    bad = ~np.isfinite(values)
    if bad.any():
        at = float(d[np.argmax(bad)])
        raise target.error(f"the loss is not a finite real number at d = {show(at)}",
                           hint="choose a --range on which the loss is defined and finite")
    return values


def screen(coefficients: list[float], d: np.ndarray, target: Target,
           exact: np.ndarray) -> float:
    """The rounded polynomial's error on the grid, in float64: cheap, before compiling."""
    x = np.abs(d) if target.through_abs else d
    values = np.polynomial.polynomial.polyval(x.astype(np.float64), coefficients)
    return float(np.max(np.abs(values - exact)))


@dataclass(frozen=True)
class Measured:
    """The float32 program's error on the grid."""

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
