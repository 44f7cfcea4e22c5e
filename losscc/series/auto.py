"""``method="auto"``: the cheapest cell whose certificate meets the tolerance.

The candidates, for a loss f, a domain (a range [-R, R] or all of R) and a
tolerance on the mixed error |cell - f| / max(1, |f|):

- on a range: Taylor and Chebyshev polynomials in d (the classic routes, with
  their absolute certificates, which bound the mixed error too), and the
  structured cells of ``cells`` in a centred variable: |d| - R/2 (route u),
  d^2 - R^2/2 (route v), or d itself (route d);
- on R: the structure of f (``structure``) fixes the linear part; route u or
  v with clip points U where the remainder beyond U is a share (3%, 10%,
  30%) of the tolerance; and, where one polynomial would need too high a
  degree (algebraic decay: sqrt(1 + d^2) - 1), pieces joined at knots.

For each plan the degree goes up from an estimate (the tail of a Chebyshev
series of the target); each degree gets three fits (interpolation; mixed
minimax; minimax of value and slope together) and is screened on a float32
grid that reaches 3.4e38 (mixed error <= 75% of the tolerance) and on the
derivative (within max(1e-3, tol) on [-12, 12]). Screened candidates are
certified in order of operation count; the first whose certificate meets
the tolerance wins. Horner's rule in the centred variable is the scheme;
Clenshaw's recurrence is tried where Horner's float32 rounding is what fails.

A refusal says why and what is reachable: the best certified tolerance on
the domain, or for losses with no structure on R, the largest range that
meets the tolerance.

>>> import math
>>> from losscc.series.target import prepare
>>> from losscc.language.reduction import parse_reduction
>>> s = setting(prepare("log(cosh(d))"), 1e-5, math.inf, parse_reduction("mean"))
>>> s.structure.asymptote(), s.edge > 3e38
('|d| - log(2)', True)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional

import numpy as np
import sympy as sp

from ..errors import LossccError
from ..floats import show
from ..language.reduction import Reduction
from .candidates import (CLIP_STEP, MAX_CERTIFIED, PIECES_FROM, Candidate, Search, Setting,
                         both_signs, certify_candidate, gradient_reach, piecewise_plans, plans,
                         search_pieces, search_single)
from .cell_certificate import Truth
from .cell_report import CellReport
from .replay import Reference, dense, gradient_error, largest, mixed, run_float32
from .stable import U
from .straight_line import Line
from .structure import NoStructure, Structure, analyze, proven_even
from .target import Target


# Setting up ------------------------------------------------------------------------

def setting(target: Target, tol: float, reach: float, reduction: Reduction) -> Setting:
    """The problem, with f's structure (refused on R when it has none)."""
    infinite = math.isinf(reach)
    try:
        structure: Optional[Structure] = analyze(target)
    except NoStructure as e:
        if infinite:
            raise _no_structure(target, tol, e, reduction) from None
        structure = None
    even = proven_even(target)
    x = sp.Symbol("x", real=True)
    if target.through_abs:
        finite = {1: target.expr.subs(target.x, x), -1: target.expr.subs(target.x, -x)}
    else:
        finite = {1: target.expr.subs(target.x, x)}
    tails = {s: side.tail for s, side in structure.sides.items()} if structure else {}
    truth = Truth(finite, x, even, {s: t.subs(U, s * x) for s, t in tails.items()})
    return Setting(target, infinite, reach, tol, structure, even, Reference(target, tails),
                   truth, reduction)


def _no_structure(target: Target, tol: float, e: NoStructure,
                  reduction: Reduction) -> LossccError:
    """The refusal on R, with the largest range that meets the tolerance."""
    hint = e.hint
    found = largest_range(target, tol, reduction)
    if found is not None:
        r, ops, bound = found
        hint = (f"on a finite range it is reachable: [-{show(r)}, {show(r)}] is certified at "
                f"{bound:.3g} with {ops} operations (--range {show(r)} --tol {tol:g}), the "
                "largest of the ranges tried")
    return target.error(f"no approximation on all of R: {e.reason}", hint=hint)


# The whole search ------------------------------------------------------------------

@dataclass
class Classic:
    """A Taylor or Chebyshev polynomial from the classic route, as an auto candidate."""

    method: str
    approximation: Any  # the series.Approximation
    gradient: float = math.inf

    @property
    def ops(self) -> int:
        return self.approximation.program.op_count

    @property
    def bound(self) -> float:
        return self.approximation.report.certified_bound


def search(s: Setting, classic: Optional[Callable[[str], Any]] = None) -> tuple:
    """(the winner, the Search record, the classic results): Candidate or Classic."""
    found = Search()
    classics: list[Classic] = []
    if not s.infinite and classic is not None:
        for method in ("taylor", "chebyshev"):
            try:
                a = classic(method)
            except LossccError as e:
                found.notes.append((method, f"refused: {e.message}"))
                continue
            k = Classic(method, a)
            k.gradient, _ = gradient_error(Line.of(a.program.root), s.reference,
                                           gradient_reach(s), 6001)
            if k.gradient <= s.gtol:
                classics.append(k)
                found.best_ops = min(found.best_ops, k.ops)
            else:
                found.notes.append((f"{method}, degree {a.report.degree}, {k.ops} ops",
                                    f"its derivative is off by {k.gradient:.2g}"))
    single = plans(s)
    for layout in single:
        search_single(s, layout, found)
    # Pieces: lower degrees on shorter intervals, where one polynomial is long (or missing)
    cheapest = min(found.screened, key=lambda c: c.ops, default=None)
    if cheapest is None or max(cheapest.degrees) >= PIECES_FROM:
        for layout in piecewise_plans(single):
            search_pieces(s, layout, found)
    order = sorted(found.screened, key=lambda c: (c.ops, c.screened))
    pool: list = sorted(classics, key=lambda k: k.ops)
    certified = 0
    for c in order:
        if pool and pool[0].ops <= c.ops:
            return pool[0], found, classics
        if certified >= MAX_CERTIFIED:
            break
        certify_candidate(s, c)
        certified += 1
        if c.bound <= s.tol:
            return c, found, classics
    if pool:
        return pool[0], found, classics
    return None, found, classics


def refusal(s: Setting, found: Search) -> LossccError:
    """No candidate met the tolerance: the best certified one, and why it falls short."""
    from .options import MAX_DEGREE as SERIES_DEGREE

    pool = sorted(found.tried, key=lambda c: c.screened)[:3]
    best: Optional[Candidate] = None
    for c in pool:
        if not math.isfinite(c.screened):
            continue
        certify_candidate(s, c)
        if best is None or c.bound < best.bound:
            best = c
    message = (f"found no polynomial (degree <= {SERIES_DEGREE}) with an error <= {s.tol:.3g} "
               f"on {s.domain}, nor a structured cell (mixed error)")
    if best is None or not math.isfinite(best.bound):
        reasons = "; ".join(f"{what}: {why}" for what, why in found.notes[:4])
        return s.target.error(message + (f": {reasons}" if reasons else ""),
                              hint="try a larger --tol, or a smaller --range")
    cert = best.certificate
    assert cert is not None
    message += (f": the best certified tolerance is {best.bound:.3g} ({best.describe()}, "
                f"{best.ops} ops; approximation {cert.approximation:.2g}, float32 rounding "
                f"{cert.rounding:.2g}; measured {best.screened:.2g})")
    if best.screened <= 0.5 * s.tol:
        hint = (f"the cell measures {best.screened:.2g}, but its certificate, mostly the bound "
                f"on float32 rounding, is {best.bound:.2g}: ask for a --tol of "
                f"{best.bound:.2g} or more, or a smaller --range")
    elif cert.rounding >= 0.5 * s.tol or cert.rounding >= cert.approximation:
        hint = (f"float32 rounding, not the degree, limits the accuracy here: ask for a "
                f"--tol of {best.bound:.2g} or more")
    else:
        hint = f"ask for a --tol of {best.bound:.2g} or more, or a smaller --range"
    return s.target.error(message, hint=hint)


def largest_range(target: Target, tol: float, reduction: Reduction,
                  steps: int = 5) -> Optional[tuple[float, int, float]]:
    """The largest R (a multiple of 1/8, bisected) with a structured cell meeting tol on
    [-R, R]: (R, ops, bound), or None."""
    lo, hi = 0.0, 64.0
    best = None
    r = 2.0
    for _ in range(steps):
        s = setting(target, tol, r, reduction)
        winner, _, _ = search(s)
        if winner is not None and winner.bound <= tol:
            lo, best = r, (r, winner.ops, winner.bound)
        else:
            hi = r
        r = 2 * lo if hi == 64.0 and lo > 0 else (lo + hi) / 2 if lo > 0 else hi / 4
        r = max(CLIP_STEP, round(r / CLIP_STEP) * CLIP_STEP)
        if r in (lo, hi):
            break
    return best


# The result ------------------------------------------------------------------------

def measure_winner(s: Setting, c: Candidate) -> dict:
    """The winner on the dense grid (|d| up to 3.4e38 on R)."""
    top = c.layout.top / c.layout.kappa if s.infinite else s.reach
    points = dense(top, s.infinite, both_signs(s, c.layout), edge=s.edge)
    exact = s.reference(points)
    values = run_float32(c.program.root, points)
    error = mixed(values, exact)
    error[np.isnan(error)] = np.inf
    i = int(np.argmax(error))
    near = np.abs(points) <= top  # the absolute error means something where f is moderate
    with np.errstate(all="ignore"):
        absolute = np.abs(values[near] - exact[near])
    return {"points": int(points.size), "max_abs_d": largest(points),
            "max_mixed_error": float(error[i]), "at": float(points[i]),
            "max_abs_error": float(np.max(absolute)) if absolute.size else math.inf,
            "abs_error_up_to": top}


def cell_report(s: Setting, c: Candidate, found: Search, classics: list) -> CellReport:
    lay = c.layout
    measured = measure_winner(s, c)
    grad, grad_at = gradient_error(c.line, s.reference, gradient_reach(s))
    st = s.structure
    structure = {
        "route": lay.route,
        "linear": lay.linear_text(),
        "asymptote": st.asymptote() if st else None,
        "remainder": st.remainder() if st else None,
        "clip": lay.clip / lay.kappa if lay.clip is not None else None,
        "pieces": [[a / lay.kappa, b / lay.kappa] for a, b in zip(lay.edges, lay.edges[1:])],
        "degrees": list(c.degrees),
        "scheme": lay.scheme,
        "variables": lay.variable_texts(),
        "fit": c.fit,
    }
    cert = c.certificate
    assert cert is not None
    cheaper = [t for t in found.tried if t.ops < c.ops]
    rejected = []
    for t in sorted(cheaper, key=lambda t: t.ops)[:6]:
        outcome = (f"certified {t.bound:.3g} > tol" if t.certificate is not None
                   else f"measured {t.screened:.3g}" + (
                       f", derivative {t.gradient:.2g}" if math.isfinite(t.gradient) else ""))
        rejected.append({"candidate": t.describe(), "ops": t.ops, "outcome": outcome})
    for what, why in found.notes:
        rejected.append({"candidate": what, "ops": None, "outcome": why})
    choice = (f"the cheapest candidate whose certificate meets the tolerance ({c.ops} ops, "
              f"{c.describe()})")
    if cheaper:
        choice += f"; {len(cheaper)} cheaper ones missed it (see rejected)"
    for k in classics:
        choice += f"; {k.method} needed {k.ops} ops"
    for what, why in found.notes:
        if what in ("taylor", "chebyshev"):
            choice += f"; {what} {why}"
    return CellReport(
        expression=s.target.label, method="piecewise" if lay.knots else "structured",
        range=math.inf if s.infinite else s.reach, structure=structure,
        polynomials=[list(p) for p in c.polynomials], op_count=c.ops,
        op_counts=c.program.op_counts, certified_bound=cert.bound, components=cert.parts(),
        pieces=cert.pieces, measured=measured, gradient_error=grad, gradient_at=grad_at,
        gradient_reach=gradient_reach(s), tolerance=s.tol, choice=choice, rejected=rejected)


def approximate_auto(target: Target, tol: float, reach: float, reduction: Reduction,
                     classic: Optional[Callable[[str], Any]] = None) -> tuple:
    """(program, report) of the cheapest certified candidate, or a LossccError."""
    s = setting(target, tol, reach, reduction)
    winner, found, classics = search(s, classic)
    if winner is None:
        raise refusal(s, found)
    if isinstance(winner, Classic):
        a = winner.approximation
        note = (f"the cheapest candidate whose certificate meets the tolerance: {winner.method}, "
                f"{winner.ops} ops (its absolute bound also bounds the mixed error)")
        cheaper = [c for c in found.tried if c.ops < winner.ops]
        if cheaper:
            note += f"; {len(cheaper)} cheaper structured cells missed it"
        report = replace(a.report, choice=note, gradient_error=winner.gradient)
        return a.program, report
    return winner.program, cell_report(s, winner, found, classics)
