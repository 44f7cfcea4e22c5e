"""What a cell really computes: its float32 values and gradient against f, on grids.

The cell runs op by op in NumPy float32 (correctly rounded IEEE binary32,
no fused multiply-add: bit for bit what MindSpore's CPU kernels compute for
these operations). The reference is f in float64: as written for
|d| <= NEAR, and through its stable form (``structure``) beyond, where
cosh(d) and exp(d) would overflow.

Without a stable form (no asymptote: a loss on a range only) f is
evaluated as written everywhere.

The grids: ``grid`` spreads points over the approximated part and, on R,
geometrically beyond it up to 1e30, then 1e35, 3e38 and float32's largest
number; ``dense`` adds thousands of float32 neighbours of each edge and, on
R, random bit patterns of every exponent.

>>> from losscc import ir
>>> from losscc.series.stable import Log1p
>>> from losscc.series.target import prepare
>>> tail = U - sp.log(2) + Log1p(sp.exp(-2 * U))  # log(cosh(u)), stable
>>> reference = Reference(prepare("log(cosh(d))"), {1: tail, -1: tail})
>>> d = np.array([0.0, 2.0, 40.0, 1e30])
>>> [round(float(v), 6) for v in reference(d)]
[0.0, 1.325003, 39.306853, 1e+30]
>>> cell = ir.abs_(ir.var("d"))                 # |d| for log(cosh(d))
>>> error, at = mixed_error(cell, reference, d)
>>> round(error, 3), at                          # (2 - 1.325) / 1.325
(0.509, 2.0)
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import sympy as sp

from .. import ir
from ..floats import FLOAT32_MAX
from .stable import U, numpy_function
from .straight_line import Line
from .target import Target

NEAR = 30.0  # up to here f is evaluated as written
FAR = (1e30, 1e35, 3e38, FLOAT32_MAX)
GRADIENT_REACH = 12.0  # the derivative is measured on [-12, 12] (or the domain)


class Reference:
    """f(d) and f'(d) in float64, for arrays of d."""

    def __init__(self, target: Target, tails: Optional[dict] = None) -> None:
        self.target = target
        self.plain = numpy_function(target.expr, target.x)
        self.slope = numpy_function(sp.diff(target.expr, target.x), target.x)
        self.tails = {s: numpy_function(expr) for s, expr in (tails or {}).items()}
        self.tail_slopes = {s: numpy_function(sp.diff(expr, U))
                            for s, expr in (tails or {}).items()}

    def __call__(self, d: np.ndarray) -> np.ndarray:
        d = np.asarray(d, dtype=np.float64)
        x = np.abs(d) if self.target.through_abs else d
        out = np.full(d.shape, np.nan)
        # as written up to NEAR, and everywhere on a side without a stable tail
        near = (np.abs(d) <= NEAR) | ~np.isin(np.sign(d), list(self.tails))
        with np.errstate(all="ignore"):
            out[near] = np.broadcast_to(self.plain(x[near]), x[near].shape)
            for s, tail in self.tails.items():
                far = ~near & (np.sign(d) == s) | (near & ~np.isfinite(out) & (np.sign(d) == s))
                if far.any():
                    out[far] = np.broadcast_to(tail(np.abs(d[far])), d[far].shape)
        return out

    def right_derivative(self, u: np.ndarray) -> np.ndarray:
        """f'(u) from the right, for u >= 0 (at 0 too: g'(0) for an f of |d|)."""
        u = np.asarray(u, dtype=np.float64)
        if not self.target.through_abs:
            return self.derivative(u)
        with np.errstate(all="ignore"):
            out = np.array(np.broadcast_to(self.slope(u), u.shape), dtype=np.float64)
            if 1 in self.tail_slopes:
                far = (u > NEAR) | ~np.isfinite(out)
                if far.any():
                    out[far] = np.broadcast_to(self.tail_slopes[1](u[far]), u[far].shape)
        return out

    def derivative(self, d: np.ndarray) -> np.ndarray:
        """f'(d) (for an f of |d|: g'(|d|) sign(d), 0 at d = 0 as MindSpore's Abs')."""
        d = np.asarray(d, dtype=np.float64)
        with np.errstate(all="ignore"):
            if self.target.through_abs:
                out = np.broadcast_to(self.slope(np.abs(d)), d.shape) * np.sign(d)
            else:
                out = np.broadcast_to(self.slope(d), d.shape).astype(np.float64)
            out = np.array(out, dtype=np.float64)
            for s, slope in self.tail_slopes.items():  # f(d) = tail(s*d) on side s
                far = ((np.abs(d) > NEAR) | ~np.isfinite(out)) & (np.sign(d) == s)
                if far.any():
                    out[far] = s * np.broadcast_to(slope(np.abs(d[far])), d[far].shape)
        return out


def run_float32(root: ir.Node, d: np.ndarray) -> np.ndarray:
    """The cell op by op in float32, as float64."""
    return ir.evaluate(root, d=np.asarray(d, dtype=np.float32),
                       dtype=np.float32).astype(np.float64)


def mixed(values: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|value - f| / max(1, |f|) (inf where the cell gives inf or NaN)."""
    with np.errstate(all="ignore"):
        error = np.abs(values - exact) / np.maximum(1.0, np.abs(exact))
    error[~np.isfinite(values)] = np.inf
    return error


def mixed_error(root: ir.Node, reference: Reference, d: np.ndarray) -> tuple[float, float]:
    """The largest mixed error of the float32 cell on the points d, and where."""
    d = np.asarray(d, dtype=np.float32)
    error = mixed(run_float32(root, d), reference(d))
    error[np.isnan(error)] = np.inf
    i = int(np.argmax(error))
    return float(error[i]), float(d[i])


def gradient(line: Line, d: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
    """d cell / d d, by forward differentiation of the straight line in ``dtype``.

    Abs'(x) = sign(x), 0 at 0 (MindSpore's gradient of Abs); Square'(x) = 2x.
    """
    x = np.asarray(d, dtype=dtype)
    values: list = []
    slopes: list = []
    zero = np.zeros_like(x)
    one = np.ones_like(x)
    with np.errstate(all="ignore"):
        for step in line.steps:
            args = []
            for a in step.args:
                if isinstance(a, int):
                    args.append((values[a], slopes[a]))
                elif isinstance(a, str):
                    args.append((x, one))
                else:
                    args.append((dtype(a), zero))
            (v, s) = args[0]
            if step.op == "abs":
                out = (np.abs(v), np.sign(v) * s)
            elif step.op == "neg":
                out = (-v, -s)
            elif step.op == "square":
                out = (v * v, dtype(2) * v * s)
            else:
                (w, t) = args[1]
                out = ((v + w, s + t) if step.op == "add" else (v - w, s - t)
                       if step.op == "sub" else (v * w, s * w + v * t))
            values.append(np.asarray(out[0], dtype=dtype))
            slopes.append(np.asarray(out[1], dtype=dtype))
    return slopes[-1].astype(np.float64)


def gradient_error(line: Line, reference: Reference, reach: float,
                   points: int = 24001) -> tuple[float, float]:
    """The largest mixed error of the cell's derivative on [-reach, reach], and where."""
    d = np.concatenate([np.linspace(-reach, reach, points), [0.0]])
    exact = reference.derivative(d)
    error = mixed(gradient(line, d), exact)
    error[np.isnan(error)] = np.inf
    i = int(np.argmax(error))
    return float(error[i]), float(d[i])


def grid(top: float, infinite: bool, both: bool, points: int = 20001,
         edge: float = FLOAT32_MAX) -> np.ndarray:
    """Points over [0, top] (the approximated part, or the range), and on R beyond it
    (up to ``edge``: float32's largest number, or where f leaves float32's range)."""
    parts = [np.linspace(0.0, top * (1.3 if infinite else 1.0), points)]
    if infinite:
        parts.append(np.geomspace(1.3 * top, 1e30, 300))
        parts.append(np.array(FAR + (edge,)))
    return _finish(parts, top, infinite, both, edge)


def dense(top: float, infinite: bool, both: bool, seed: int = 0,
          points: int = 400_001, edge: float = FLOAT32_MAX) -> np.ndarray:
    """A denser grid: float32 neighbours of the ends, and on R random bit patterns."""
    rng = np.random.default_rng(seed)
    parts = [np.linspace(0.0, top * (1.25 if infinite else 1.0), points)]
    end = np.float32(top)
    near = [end]
    for direction in (np.inf, -np.inf):
        x = end
        for _ in range(1000):
            x = np.nextafter(x, np.float32(direction))
            near.append(x)
    parts.append(np.array(near, dtype=np.float64))
    if infinite:
        parts.append(np.geomspace(1.25 * top, 1e30, 20_000))
        parts.append(np.array(FAR + (edge,)))
        bits = rng.integers(0, 0x7F7FFFFF, size=200_000, dtype=np.int64).astype(np.uint32)
        parts.append(bits.view(np.float32).astype(np.float64))  # every exponent, >= 0
    else:
        parts.append(rng.uniform(0, top, 100_000))
    return _finish(parts, top, infinite, both, edge)


def _finish(parts: list, top: float, infinite: bool, both: bool,
            edge: float) -> np.ndarray:
    d = np.concatenate(parts)
    d = d[np.isfinite(d)]
    d32 = d.astype(np.float32)
    d32 = d32[np.abs(d32.astype(np.float64)) <= (edge if infinite else top)]
    d32 = np.unique(d32)
    return np.concatenate([-d32[::-1], d32]) if both else d32


def largest(d: np.ndarray) -> float:
    """max |d| of a grid (for reports: 3.4e38 on R)."""
    return float(np.max(np.abs(d))) if d.size else 0.0
