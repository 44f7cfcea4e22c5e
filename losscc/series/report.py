"""The report of a truncated loss (what ``losscc taylor`` prints, as text or JSON).

>>> from losscc.series import approximate
>>> report = approximate("exp(-d^2)", order=4, range=1).report
>>> report.polynomial
'1.0 - d^2 + 0.5*d^4'
>>> report.headline
'Taylor polynomial about 0 of degree 4 in d, for d in [-1, 1]'
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..floats import show


@dataclass(frozen=True)
class Report:
    """What a truncated loss is and how good it is (``losscc taylor`` prints it)."""

    expression: str  # f, as given
    method: str  # "taylor" or "chebyshev"
    variable: str  # "d", or "abs(d)" on the Abs route
    about: float  # the Taylor expansion point (0 for Chebyshev)
    range: float  # the report is about d in [-range, range]
    degree: int
    coefficients: tuple[float, ...]  # of variable^k, float32 values, k = 0..degree
    op_count: int
    op_counts: dict
    radius: float  # of the Taylor series about `about`, in `variable`; inf: entire
    max_abs_error: float  # of the float32 program, on the grid
    max_rel_error: float
    worst_at: float
    certified_bound: float  # proven: |f - program| <= this on the whole range
    truncation_bound: float
    rounding_bound: float
    pieces: int
    grid_points: int
    tolerance: Optional[float] = None
    asked_degree: Optional[int] = None  # the degree tried; `degree` is the highest kept term
    lost_terms: int = 0  # nonzero terms that are 0 once rounded to float32
    choice: str = ""  # with method auto: why this polynomial won
    gradient_error: Optional[float] = None  # with method auto: mixed, measured on [-12, 12]

    @property
    def polynomial(self) -> str:
        """The polynomial, as a formula ``losscc compile`` takes."""
        terms = []
        for k, c in enumerate(self.coefficients):
            if c == 0:
                continue
            number = str(np.float32(abs(c)))
            power = "" if k == 0 else self.variable if k == 1 else f"{self.variable}^{k}"
            term = number if not power else power if number == "1.0" else f"{number}*{power}"
            terms.append(("- " if c < 0 else "+ ") + term)
        text = " ".join(terms) if terms else "0"
        return text[2:] if text.startswith("+ ") else "-" + text[2:]

    @property
    def headline(self) -> str:
        """Which polynomial this is, in one line (also the compiled module's comment)."""
        how = (f"Taylor polynomial about {show(self.about)}" if self.method == "taylor"
               else "Chebyshev interpolant")
        return (f"{how} of degree {self.degree} in {self.variable}, "
                f"for d in [{show(-self.range)}, {show(self.range)}]")

    def text(self) -> str:
        """The report as ``losscc taylor`` prints it."""
        where = f"[{show(-self.range)}, {show(self.range)}]"
        counts = ", ".join(f"{k} {v}" for k, v in self.op_counts.items())
        radius = ("infinite (an entire function)" if math.isinf(self.radius)
                  else f"{self.radius:.5g}")
        lines = [
            f"{self.expression.strip()}",
            f"  {self.headline}",
            f"  p = {self.polynomial}",
            f"  operations: {self.op_count} ({counts})",
            f"  radius of convergence about {show(self.about)}: {radius}",
            (f"  measured on {self.grid_points} float32 points: max |error| "
             f"{self.max_abs_error:.3g} (at d = {self.worst_at:.4g}), "
             f"{self._relative_text()}"),
            (f"  certified: |f - p| <= {self.certified_bound:.3g} for all d in {where} "
             f"(truncation {self.truncation_bound:.3g} by interval arithmetic on "
             f"{self.pieces} pieces, float32 rounding {self.rounding_bound:.3g})"),
        ]
        if self.lost_terms:
            one = self.lost_terms == 1
            lines.append(f"  note: {self.lost_terms} term{'' if one else 's'} of the "
                         f"degree-{self.asked_degree} polynomial {'is' if one else 'are'} 0 "
                         "in float32 (below 1.4e-45) and dropped")
        if self.tolerance is not None:
            lines.append(f"  tolerance {self.tolerance:.3g}: met (degree {self.degree} is the "
                         "smallest whose certified bound meets it)")
        if self.gradient_error is not None:
            lines.append(f"  derivative: max mixed error {self.gradient_error:.3g} on "
                         f"[{show(-min(12.0, self.range))}, {show(min(12.0, self.range))}]")
        if self.choice:
            lines.append(f"  auto: {self.choice}")
        return "\n".join(lines)

    def _relative_text(self) -> str:
        """The relative error, measured only where f != 0: say so when that hides the error."""
        if self.max_rel_error == 0 and self.max_abs_error > 0:
            return "max relative error 0 where f != 0 (the error is all where f = 0)"
        return f"max relative error {self.max_rel_error:.3g}"

    def to_json(self) -> dict:
        """The report's fields, with the polynomial's text; infinities as None (JSON null)."""
        out = dataclasses.asdict(self)
        out["coefficients"] = list(self.coefficients)
        out["polynomial"] = self.polynomial
        for key in ("radius", "max_rel_error"):
            if not math.isfinite(out[key]):
                out[key] = None  # JSON has no infinity: null is "unbounded"
        return out
