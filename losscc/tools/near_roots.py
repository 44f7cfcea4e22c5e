"""Where a loss is hard to compute, and how accurate it must be there (``losscc check``).

Near a root or a minimum of a loss, float32 loses relative accuracy, and a
rewrite that cancels catastrophically (an expanded square(d-100)*square(d+100)
at d = 100.01) loses all of it. ``special_inputs`` finds such points (roots
and local minima of |f| on a grid of +-2^(k/8), refined, and points
s*(1 +- 2^-j) around them); ``written_bounds`` gives the a priori float32 error
bound of the formula as written there; ``excess`` the worst error as a
fraction of what is allowed.

>>> import numpy as np
>>> points = special_inputs(lambda x: (x - 3.0) ** 2)
>>> bool(np.any(points == 3.0)), bool(np.any((points > 3.0) & (points < 3.0 + 1e-6)))
(True, True)
"""
from __future__ import annotations

from typing import Any

from ..floats import FLOAT32_MAX, FLOAT32_MIN_NORMAL


def excess(got: Any, want: Any, written_bound: Any, tolerance: float) -> float:
    """The worst error, element by element, as a fraction of what is allowed there.

    Allowed: ``tolerance`` relative to the element itself (not to the
    batch: near a root the values are tiny), or WRITTEN_FACTOR times the error
    bound of the formula as written, or float32's smallest normal number.
    """
    import numpy as np

    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        return float("inf")
    return float(np.max(ratios(got, want, written_bound, tolerance), initial=0.0))


def ratios(got: Any, want: Any, written_bound: Any, tolerance: float) -> Any:
    """Each element's error as a fraction of what is allowed there (see ``excess``)."""
    import numpy as np

    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    with np.errstate(all="ignore"):
        error = np.abs(got - want)
        allowed = np.maximum.reduce([tolerance * np.abs(want),
                                     WRITTEN_FACTOR * written_bound,
                                     np.full(want.shape, SUBNORMAL_SLACK)])
        return np.where(np.isfinite(error), error / allowed, np.inf)


def written_bounds(raw: Any, x: Any) -> tuple[Any, Any]:
    """A priori float32 error bounds of the formula as written, and of its derivative, at x.

    The classical bound n*u*|f|(x): n the operations the formula takes, u
    float32's unit roundoff and |f| the formula evaluated with every sum made
    a sum of magnitudes (forward-mode derivatives likewise): what evaluating
    it as written may lose, however lucky a point is.
    """
    from types import SimpleNamespace

    import numpy as np

    from ..compiler.passes.powers import count_ops
    from ..ir.interpret import interpret

    lib = SimpleNamespace(abs=lambda a: a, square=lambda a: a * a, minimum=_Magnitude.larger,
                          maximum=_Magnitude.larger,
                          number=lambda v: _Magnitude(abs(float(v)), 0.0))

    def leaf(node: Any) -> _Magnitude:
        if node.op == "const":
            return _Magnitude(abs(node.value), 0.0)
        moving = node.value in ("d", "pred")  # the loss is studied along x = pred = d
        return _Magnitude(np.abs(x) if moving else 0.0, 1.0 if moving else 0.0)

    with np.errstate(all="ignore"):
        magnitude = interpret(raw, lib, leaf)
    unit = 2.0 ** -24 * max(1, count_ops(raw))
    shape = np.shape(x)
    return (np.broadcast_to(unit * magnitude.value, shape),
            np.broadcast_to(unit * magnitude.slope, shape))


class _Magnitude:
    """|f| and |f'| bounds: sums of magnitudes, through the IR's own operations."""

    def __init__(self, value: Any, slope: Any) -> None:
        self.value, self.slope = value, slope

    def __add__(self, other: "_Magnitude") -> "_Magnitude":
        return _Magnitude(self.value + other.value, self.slope + other.slope)

    __sub__ = __add__

    def __neg__(self) -> "_Magnitude":
        return self

    def __mul__(self, other: "_Magnitude") -> "_Magnitude":
        return _Magnitude(self.value * other.value,
                          self.value * other.slope + other.value * self.slope)

    def __truediv__(self, other: "_Magnitude") -> "_Magnitude":  # by constants only
        return _Magnitude(self.value / other.value, self.slope / other.value)

    @staticmethod
    def larger(a: "_Magnitude", b: "_Magnitude") -> "_Magnitude":
        """min(a, b) and max(a, b) are at most the larger magnitude (and slope)."""
        import numpy as np

        return _Magnitude(np.maximum(a.value, b.value), np.maximum(a.slope, b.slope))

    def __pow__(self, n: int) -> "_Magnitude":
        if n == 0:
            return _Magnitude(1.0, 0.0)
        return _Magnitude(self.value ** n, n * self.value ** (n - 1) * self.slope)


# The near-roots case: where points are looked for, and how close they come.
ROOT_GRID_EXPONENTS = range(-160, 321)  # +-2^(k/8): 2^-20 .. 2^40
ROOT_OFFSETS = range(4, 24)  # s*(1 +- 2^-j)
MAX_SPECIAL_POINTS = 16
WRITTEN_FACTOR = 4.0  # the cell may be this much less accurate than the formula as written
# Errors below float32's smallest normal number are not counted (MindSpore's CPU
# kernels may flush subnormal results to 0).
SUBNORMAL_SLACK = FLOAT32_MIN_NORMAL


def special_inputs(f: Any) -> Any:
    """float32 points around the roots of ``f`` and the local minima of |f| (f in float64)."""
    import numpy as np

    grid = 2.0 ** (np.array(ROOT_GRID_EXPONENTS) / 8.0)
    grid = np.concatenate([-grid[::-1], [0.0], grid])
    with np.errstate(all="ignore"):
        y = np.asarray(f(grid), np.float64)
        changes = np.isfinite(y[:-1]) & np.isfinite(y[1:]) & (np.sign(y[:-1]) * np.sign(y[1:]) < 0)
    special = []
    for i in np.flatnonzero(changes):
        special.append(_bisect(f, grid[i], grid[i + 1]))
    size = np.where(np.isfinite(y), np.abs(y), np.inf)
    minima = (size[1:-1] <= size[:-2]) & (size[1:-1] <= size[2:]) & np.isfinite(size[1:-1])
    special += [_golden(f, grid[i], grid[i + 2]) for i in np.flatnonzero(minima)]
    special = sorted(set(special), key=abs)[:MAX_SPECIAL_POINTS]
    steps = 2.0 ** -np.array(ROOT_OFFSETS, np.float64)
    points = [np.array(special), steps, -steps]  # the points, and around 0 (always special)
    points += [np.float32(s) * (1 + sign * steps) for s in special if s != 0 for sign in (1, -1)]
    out = np.unique(np.concatenate(points).astype(np.float32))
    with np.errstate(all="ignore"):
        keep = np.isfinite(np.asarray(f(out.astype(np.float64)), np.float64))
    return out[keep & (np.abs(out) <= FLOAT32_MAX)]


def _bisect(f: Any, a: float, b: float) -> float:
    import numpy as np

    fa = float(f(np.array([a]))[0])
    for _ in range(80):
        m = 0.5 * (a + b)
        fm = float(f(np.array([m]))[0])
        if m in (a, b) or not np.isfinite(fm):
            break
        a, b, fa = (m, b, fm) if (fm > 0) == (fa > 0) else (a, m, fa)
    return 0.5 * (a + b)


def _golden(f: Any, a: float, b: float) -> float:
    """A local minimum of |f| in [a, b]."""
    import numpy as np

    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    for _ in range(60):
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        if not a < c < d < b:
            break
        fc, fd = (abs(float(f(np.array([x]))[0])) for x in (c, d))
        a, b = (a, d) if fc < fd else (c, b)
    return 0.5 * (a + b)
