"""The report of a structured (or piecewise) approximation: what the cell is, how good it is.

It answers to the same names as ``Report`` where they mean the same thing
(``text``, ``to_json``, ``headline``, ``op_count``, ``certified_bound``,
``tolerance``), and adds what a cell on all of R needs: the structure
chosen (asymptote, tail, pieces, basis), the domain (possibly infinite), the
per-component bound, the error measured on a float32 grid reaching 3.4e38,
the measured derivative error, and why auto chose it.

>>> r = CellReport(expression="log(cosh(d))", method="structured", range=math.inf,
...     structure={"route": "u", "asymptote": "|d| - log(2)", "linear": "|d|", "clip": 5.625,
...                "remainder": "log1p(exp(-2*u))", "degrees": [13], "scheme": "horner",
...                "variables": ["w = 2*min(|d|, 5.625) - 5.625"], "fit": "minimax"},
...     polynomials=[[0.5, 0.25]], op_count=32, op_counts={"Abs": 2}, certified_bound=3.9e-6,
...     components={"approximation": 3.7e-6, "rounding": 9.8e-7, "tail": 3.7e-6},
...     pieces=214, measured={"points": 10, "max_abs_d": 3.4e38, "max_mixed_error": 3.4e-6,
...     "at": 6.64, "max_abs_error": 1.5e-5}, gradient_error=2.9e-4, gradient_at=-5.6,
...     gradient_reach=12.0, tolerance=1e-5)
>>> r.headline
'structured cell on all of R: |d| + p(w), clipped at |d| = 5.625 (Horner, degree 13)'
>>> r.to_json()["range"] is None and r.to_json()["domain"] == "R"
True
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Optional

from ..floats import show, strict

MEASURE = "mixed: |cell(d) - f(d)| / max(1, |f(d)|)"


@dataclass(frozen=True)
class CellReport:
    """What ``losscc taylor`` says about a structured or piecewise cell."""

    expression: str
    method: str  # "structured" or "piecewise"
    range: float  # R, or inf: all of R
    structure: dict  # route, asymptote, remainder, clip, pieces, degrees, scheme, variables, fit
    polynomials: list  # float32 coefficients of each polynomial, in powers of its variable
    op_count: int
    op_counts: dict
    certified_bound: float  # mixed: proven for every float32 d in the domain
    components: dict  # approximation, rounding, tail (mixed, worst piece of each)
    pieces: int  # of the certificate's branch and bound
    measured: dict  # points, max_abs_d, max_mixed_error, at, max_abs_error
    gradient_error: float  # mixed, of d cell / d d, measured on [-reach, reach]
    gradient_at: float
    gradient_reach: float
    tolerance: Optional[float] = None
    asked_method: str = "auto"
    measure: str = MEASURE
    choice: str = ""  # why auto chose this
    rejected: list = field(default_factory=list)  # cheaper candidates and why they lost

    @property
    def domain(self) -> str:
        return "R" if math.isinf(self.range) else f"[{show(-self.range)}, {show(self.range)}]"

    @property
    def degree(self) -> int:
        return max(self.structure.get("degrees", [0]))

    @property
    def headline(self) -> str:
        """Which cell this is, in one line (also the compiled module's comment)."""
        s = self.structure
        where = "on all of R" if math.isinf(self.range) else f"for d in {self.domain}"
        lin = s.get("linear") or ""
        poly = " + ".join(f"p{j}(w{j})" for j in range(len(self.polynomials))) if len(
            self.polynomials) > 1 else "p(w)"
        form = f"{lin} + {poly}" if lin else poly
        clip = f", clipped at |d| = {show(s['clip'])}" if s.get("clip") is not None else ""
        pieces = f", {len(self.polynomials)} pieces" if len(self.polynomials) > 1 else ""
        degrees = "/".join(str(n) for n in s.get("degrees", []))
        scheme = "Clenshaw" if s.get("scheme") == "clenshaw" else "Horner"
        return (f"{self.method} cell {where}: {form}{clip}{pieces} "
                f"({scheme}, degree {degrees})")

    def text(self) -> str:
        """The report as ``losscc taylor`` prints it."""
        s = self.structure
        counts = ", ".join(f"{k} {v}" for k, v in self.op_counts.items())
        m = self.measured
        c = self.components
        lines = [self.expression.strip(), f"  {self.headline}"]
        if s.get("asymptote"):
            lines.append(f"  structure: f = {s['asymptote']} + R(d), R(u) = {s['remainder']} "
                         f"(u = |d|)")
        if s.get("clip") is not None:
            lines.append(f"  tail: beyond |d| = {show(s['clip'])} the cell is the asymptote "
                         f"plus p(w) at the clip point, exactly")
        for j, (variable, coefficients) in enumerate(zip(s.get("variables", []),
                                                         self.polynomials)):
            name = f"p{j}" if len(self.polynomials) > 1 else "p"
            lines.append(f"  {name}: degree {len(coefficients) - 1} in {variable}")
        lines += [
            f"  fit: {s.get('fit', '')}; evaluation: {s.get('scheme', 'horner')} in the "
            "centred variable",
            f"  operations: {self.op_count} ({counts})",
            f"  error measure: {self.measure}",
            (f"  measured on {m['points']} float32 points (|d| up to {m['max_abs_d']:.3g}): "
             f"max mixed error {m['max_mixed_error']:.3g} (at d = {m['at']:.4g}); max |error| "
             f"{m['max_abs_error']:.3g} for |d| <= {show(m.get('abs_error_up_to', self.range))}"),
            (f"  derivative: max mixed error {self.gradient_error:.3g} on "
             f"[{show(-self.gradient_reach)}, {show(self.gradient_reach)}] (at d = "
             f"{self.gradient_at:.4g})"),
            (f"  certified: mixed error <= {self.certified_bound:.3g} for every float32 d in "
             f"{self.domain} (approximation {c['approximation']:.3g} by interval Taylor "
             f"models on {self.pieces} pieces, float32 rounding {c['rounding']:.3g}"
             + (f", tail beyond the clip {c['tail']:.3g}" if s.get("clip") is not None else "")
             + "; each the worst piece's)"),
        ]
        if self.tolerance is not None:
            lines.append(f"  tolerance {self.tolerance:.3g} (mixed): met")
        if self.choice:
            lines.append(f"  auto: {self.choice}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        """The report's fields, strict JSON: infinities and NaN as None (null)."""
        out = dataclasses.asdict(self)
        out["domain"] = self.domain
        out["degree"] = self.degree
        out["headline"] = self.headline
        return strict(out)
