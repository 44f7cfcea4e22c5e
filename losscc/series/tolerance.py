"""--tol: which degrees to try, when to give up, and why none was good enough.

>>> from losscc.series.target import prepare
>>> degrees(prepare("log(cosh(d))"))[:4]  # an even loss: even degrees only
[2, 4, 6, 8]
"""
from __future__ import annotations

import numpy as np

from ..errors import LossccError
from ..floats import FLOAT32_UNIT, show
from .options import MAX_DEGREE
from .target import Target

CERTIFY_ATTEMPTS = 4  # degrees whose bound is computed before --tol gives up
STALLED_DEGREES = 12  # degrees tried past the closest one before --tol gives up


def degrees(target: Target) -> list[int]:
    """The degrees --tol tries, in order: those of f's parity, up to MAX_DEGREE."""
    if target.parity == 2:
        return list(range(2, MAX_DEGREE + 1, 2))
    if target.parity == 1:
        return list(range(1, MAX_DEGREE + 1, 2))
    return list(range(1, MAX_DEGREE + 1))


class Misses:
    """Why no degree met --tol: the closest miss at each stage of the check.

    The stages, cheapest first: "exact" (the float32 coefficients' polynomial,
    in float64 on the grid), "float32" (the compiled program on the grid),
    "certified" (the proven bound).
    """

    def __init__(self) -> None:
        self.closest: dict[str, tuple[float, int, float]] = {}
        self.certified = 0

    def note(self, stage: str, degree: int, error: float, rounding: float = 0.0) -> None:
        """Degree ``degree`` missed at ``stage`` by ``error`` (``rounding`` of it float32's)."""
        self.certified += stage == "certified"
        if stage not in self.closest or error < self.closest[stage][0]:
            self.closest[stage] = (error, degree, rounding)

    def stalled(self, degree: int) -> bool:
        """STALLED_DEGREES past the best one without getting closer: stop looking."""
        return degree >= self.closest["exact"][1] + STALLED_DEGREES

    def error(self, target: Target, tol: float, r: float, method: str,
              exact: np.ndarray) -> LossccError:
        """The error to raise: the closest miss, and what to try instead."""
        floor = FLOAT32_UNIT * float(np.max(np.abs(exact)))
        message = (f"found no polynomial (degree <= {MAX_DEGREE}) with an error <= {tol:.3g} "
                   f"on [{show(-r)}, {show(r)}]")
        if "certified" in self.closest:
            bound, degree, rounding = self.closest["certified"]
            message += (f": degree {degree} comes closest, but its certified bound is "
                        f"{bound:.3g} ({rounding:.2g} of it from float32 rounding)")
        elif "float32" in self.closest:
            error, degree, _ = self.closest["float32"]
            message += (f": in float32, degree {degree} comes closest, with {error:.3g} "
                        "measured on the grid")
        elif "exact" in self.closest:
            error, degree, _ = self.closest["exact"]
            message += (f": the closest, degree {degree}, has max error {error:.3g} "
                        "(coefficients rounded to float32)")
        if "float32" in self.closest or "certified" in self.closest or tol < 8 * floor:
            hint = (f"float32 evaluation limits the accuracy here (about {floor:.2g} at the "
                    "least): ask for a larger --tol, or a smaller --range")
        elif method == "taylor":
            hint = "try --method chebyshev (near-minimax on the range), or a smaller --range"
        else:
            hint = "try a smaller --range, or a larger --tol"
        return target.error(message, hint=hint)
