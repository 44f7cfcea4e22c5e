"""Any analytic loss → a polynomial losscc can compile, with its error certified.

The seed article's section 5 says Abs, Square and Mul reach "any loss within
a tolerance, through a truncated Taylor expansion". This package makes that a
claim one can check: it truncates (Taylor about a point, or Chebyshev
interpolation on a range), says where the truncation holds (the radius of
convergence), measures the float32 program's error on a dense grid, and
proves an upper bound on it with interval arithmetic.

The road: a SymPy expression f (from ``losscc.language.to_sympy`` or the user) →
``target`` (f of d, or of abs(d) when f depends on d only through abs(d)) →
truncated power series (``recurrences``, over the ``number_systems``) → a
polynomial (``taylor`` or ``chebyshev``; ``radius`` says where Taylor
holds) → float32 coefficients → IR sum of c_k * x^k → ``Program.from_ir``
(``lowering``) → its error measured (``grid_error``) and certified
(``certificate``, ``rounding``) → ``report``. ``approximate`` below
wires them, and with --tol tries degrees until one is good enough
(``tolerance``).

>>> a = approximate("log(cosh(d))", order=4, range=1)
>>> a.report.coefficients
(0.0, 0.0, 0.5, 0.0, -0.0833333358168602)
>>> a.report.max_abs_error <= a.report.certified_bound < 0.02
True

The power series come from the classical recurrences of automatic
differentiation, not from SymPy's own ``series``, which is tens of times
slower at degree 24 (benchmarks/taylor.py) and serves the tests as the
independent reference.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Optional

from ..compiler.program import Program
from ..errors import LossccError
from ..floats import show
from ..language.reduction import parse_reduction
from .certificate import Certified, certify
from .chebyshev import chebyshev_polynomial
from .grid_error import GRID_POINTS, Measured, exact_values, grid, measure, screen
from .lowering import float32_coefficients, to_program
from .auto import approximate_auto
from .cell_report import CellReport
from .options import DEFAULT_ORDER, MAX_DEGREE, check_options, default_range, resolve_method
from .radius import radius_of_convergence
from .report import Report
from .rounding import rounding_bound
from .target import Target, prepare
from .taylor import taylor_polynomial
from .tolerance import CERTIFY_ATTEMPTS, Misses, degrees

__all__ = [
    "MAX_DEGREE", "Approximation", "Report", "Target", "approximate", "certify",
    "chebyshev_polynomial", "prepare", "radius_of_convergence", "rounding_bound",
    "taylor_polynomial",
]


@dataclass(frozen=True)
class Approximation:
    """The truncated loss: its Program (for source and cells) and its Report."""

    program: Program
    report: "Report | CellReport"

    def source(self, name: Optional[str] = None) -> str:
        """The generated module of the LossBase subclass (class ``name``)."""
        return self.program.source(name)

    def load(self, name: Optional[str] = None) -> Any:
        """A ready LossBase cell, with ``.report`` and ``.source_code`` attached."""
        cell = self.program.load(name)
        cell.report = self.report
        cell.source_code = self.source(name)
        return cell


def approximate(
    expr: Any,
    order: Optional[int] = None,
    tol: Optional[float] = None,
    range: Optional[float] = None,  # noqa: A002 - the issue's name for it
    about: float = 0.0,
    method: Optional[str] = None,
    reduction: str = "mean",
) -> Approximation:
    """Truncate ``expr`` (a formula or SymPy expression in d) to a compiled polynomial or cell.

    ``order``: the highest power kept; or ``tol``: the smallest degree whose
    certified error on the range is at most tol (default: order 8).
    ``range``: the report covers d in [-range, range] (Chebyshev interpolates
    there; default for Taylor: 1, or half the radius of convergence if smaller);
    ``math.inf`` is all of R (method auto).
    ``method``: "auto" (the default; with ``tol``, the cheapest certified of
    Taylor, Chebyshev and the structured and piecewise cells of ``auto``, for
    the mixed error |cell - f| / max(1, |f|); with ``order``, Taylor),
    "taylor" or "chebyshev".
    """
    reduction_ = parse_reduction(reduction)
    method = resolve_method(method, tol, about)
    if order is None and tol is None:
        order = DEFAULT_ORDER
    check_options(order, tol, range, about, method)
    target = prepare(expr, span=range)
    about = float(about)
    if method == "auto":
        assert tol is not None
        return _auto(expr, target, float(tol), range, reduction)
    if target.through_abs and about < 0:
        raise LossccError(f"--about {show(about)} is negative, but this loss is expanded in "
                          "a = abs(d) >= 0", hint="expand about a point >= 0", source="options")
    radius = radius_of_convergence(target, about)
    r = float(range) if range is not None else default_range(radius, about)
    lo, hi = (0.0, r) if target.through_abs else (-r, r)
    if method == "taylor" and max(hi - about, about - lo) > radius:
        raise target.error(
            f"the range [{show(-r)}, {show(r)}] reaches beyond the radius of convergence "
            f"{radius:.5g} of the Taylor series about {show(about)}",
            hint="the series diverges beyond the loss's nearest complex singularity; use "
            f"--method chebyshev --range {show(r)}, or a range within the radius")
    d = grid(r)
    exact = exact_values(target, d)
    tried = [int(order)] if order is not None else degrees(target)
    # One Taylor expansion serves every degree: its truncations are the polynomials.
    expansion = (taylor_polynomial(target, max(tried), about) if method == "taylor"
                 else None)
    misses = Misses()
    for degree in tried:
        if expansion is not None:
            high = expansion[: degree + 1]
        else:
            high = chebyshev_polynomial(target, degree, lo, hi)
        coefficients = float32_coefficients(high, target, degree)
        # With --tol, each check runs only if the cheaper ones before it passed.
        if tol is not None:
            screened = screen(coefficients, d, target, exact)
            if screened > tol:
                misses.note("exact", degree, screened)
                if misses.stalled(degree):
                    break
                continue
        program = to_program(target, coefficients, reduction_)
        measured = measure(program, d, exact)
        if tol is not None and measured.max_abs_error > tol:
            misses.note("float32", degree, measured.max_abs_error)
            continue
        certified = certify(target, program, lo, hi, r, measured.max_abs_error,
                            first_pieces=4 if method == "taylor" else max(4, degree // 2))
        if certified.bound < measured.max_abs_error:
            raise AssertionError(f"certified bound {certified.bound} below the measured "
                                 f"error {measured.max_abs_error}: a bug in losscc.series")
        if tol is not None and certified.bound > tol:
            misses.note("certified", degree, certified.bound, certified.rounding)
            if misses.certified >= CERTIFY_ATTEMPTS:
                break
            continue
        lost = sum(1 for c, c32 in zip(high, coefficients) if float(c) != 0 and c32 == 0)
        report = _report(target, method, about, r, program, coefficients, radius, measured,
                         certified, tol, lost)
        label = (f"{target.label.strip()}\n# losscc taylor: {report.headline}, "
                 f"|error| <= {certified.bound:.3g}")
        return Approximation(dataclasses.replace(program, formula=label), report)
    raise misses.error(target, tol, r, method, exact)


def _auto(expr: Any, target: Target, tol: float, range: Optional[float],  # noqa: A002
          reduction: str) -> Approximation:
    """method="auto": the classic routes compete with the structured cells (``auto``)."""
    if range is None:
        range = default_range(radius_of_convergence(target), 0.0)  # noqa: A001

    def classic(method: str) -> Approximation:
        return approximate(expr, tol=tol, range=range, method=method, reduction=reduction)

    program, report = approximate_auto(target, tol, float(range), parse_reduction(reduction),
                                       classic)
    label = (f"{target.label.strip()}\n# losscc taylor: {report.headline}, "
             f"error <= {report.certified_bound:.3g}"
             + (" (mixed)" if isinstance(report, CellReport) else ""))
    return Approximation(dataclasses.replace(program, formula=label), report)


def _report(target: Target, method: str, about: float, r: float, program: Program,
            coefficients: list[float], radius: float, measured: Measured,
            certified: Certified, tol: Optional[float], lost: int) -> Report:
    degree = max((k for k, c in enumerate(coefficients) if c != 0), default=0)
    return Report(
        expression=target.label, method=method, variable=target.atom_text, about=about,
        range=r, degree=degree, coefficients=tuple(coefficients[: degree + 1]),
        op_count=program.op_count, op_counts=program.op_counts, radius=radius,
        max_abs_error=measured.max_abs_error, max_rel_error=measured.max_rel_error,
        worst_at=measured.worst_at, certified_bound=certified.bound,
        truncation_bound=certified.truncation, rounding_bound=certified.rounding,
        pieces=certified.pieces, grid_points=GRID_POINTS, tolerance=tol,
        asked_degree=len(coefficients) - 1, lost_terms=lost,
    )
