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

>>> from losscc.series.target import prepare
>>> clip_points(prepare("log(cosh(d))"), 1e-5, shares=(0.3,))
[5.625]
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional

import numpy as np
import sympy as sp

from ..compiler.program import Program
from ..errors import LossccError
from ..floats import show, to_float32
from ..language.reduction import Reduction
from .cell_certificate import Certificate, Truth, certify
from .cell_report import CellReport
from .cells import Layout, Variable
from .fitting import exactly, interpolate, minimax, monomials, trim
from .replay import (GRADIENT_REACH, MODULES, Reference, dense, gradient_error, grid, largest,
                      mixed, run_float32)
from .stable import U, describe
from .straight_line import Line
from .structure import NoStructure, Structure, analyze, proven_even, proven_odd
from .target import Target

GRADIENT_TOL = 1e-3  # the derivative is kept within max(GRADIENT_TOL, tol), measured
SCREEN = 0.75  # a candidate is certified if its measured error is within this share of tol
CLIP_SHARES = (0.03, 0.1, 0.3)  # of tol, for the remainder beyond the clip point
MAX_DEGREE = 40  # of one polynomial in a cell (beyond: pieces)
ESTIMATE_DEGREE = 64  # the Chebyshev series whose tail estimates the degree
MAX_CERTIFIED = 6  # candidates certified before giving up
KNOT_RATIO = 4.0  # pieces: each about this many times longer than the one before
MAX_PIECES = 6
CLIP_STEP = 0.125  # clip points and knots are multiples of 1/8: U, 2U, 2U^2 exact
CLIP_LIMIT = 4096.0


@dataclass
class Setting:
    """The problem: f, its domain, the tolerance, and what is known about f."""

    target: Target
    infinite: bool
    reach: float  # R (inf: all of R)
    tol: float
    structure: Optional[Structure]
    even: bool  # f(-d) = f(d), proven
    reference: Reference
    truth: Truth
    reduction: Reduction

    @property
    def edge(self) -> float:
        """The largest |d| the certificate covers: all float32 d on R, unless f itself
        leaves float32's range first (an asymptote steeper than 1)."""
        if self.infinite and self.structure is not None:
            return self.structure.edge()
        return self.reach

    @property
    def gtol(self) -> float:
        return max(GRADIENT_TOL, self.tol)

    @property
    def domain(self) -> str:
        return "R" if self.infinite else f"[{show(-self.reach)}, {show(self.reach)}]"


@dataclass
class Candidate:
    """One cell: its layout, polynomials, program, and how it fared."""

    layout: Layout
    polynomials: list  # float32 coefficients (Chebyshev ones for Clenshaw)
    degrees: tuple
    fit: str
    program: Program
    line: Line
    screened: float = math.inf  # mixed error on the screening grid
    gradient: float = math.inf
    certificate: Optional[Certificate] = None

    @property
    def ops(self) -> int:
        return self.program.op_count

    @property
    def bound(self) -> float:
        return self.certificate.bound if self.certificate else math.inf

    def describe(self) -> str:
        lay = self.layout
        if lay.clip is not None:
            where = f"clip at |d| = {show(lay.clip / lay.kappa)}"
        else:
            where = f"range {show(lay.reach)}"
        pieces = f", {len(self.degrees)} pieces" if len(self.degrees) > 1 else ""
        return (f"route {lay.route} ({where}{pieces}), degree "
                f"{'/'.join(map(str, self.degrees))}, {lay.scheme}, {self.fit}")


@dataclass
class Search:
    """What the search tried: screened candidates, and a record of everything."""

    screened: list = field(default_factory=list)
    tried: list = field(default_factory=list)  # every Candidate built
    notes: list = field(default_factory=list)  # (what, outcome) for the report
    best_ops: float = math.inf


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
                f"{bound:.3g} with {ops} operations (--range {show(r)} --tol {tol:g}); "
                "a larger range needs a larger --tol")
    return target.error(f"no approximation on all of R: {e.reason}", hint=hint)


def clip_points(target: Target, tol: float, route: str = "u", kappa: float = 1.0,
                structure: Optional[Structure] = None,
                shares: tuple = CLIP_SHARES) -> list[float]:
    """Clip points U (in units of x = kappa*|d|, multiples of 1/8) beyond which the
    remainder is within share*tol of f (mixed), on both sides, for each share."""
    structure = structure or analyze(target)
    top = CLIP_LIMIT if route == "u" else 512.0  # route v squares 2U: keep it exact
    x = np.arange(CLIP_STEP, top + CLIP_STEP / 2, CLIP_STEP)
    u = x / kappa
    worst = np.zeros_like(u)
    for side in structure.sides.values():
        r = sp.lambdify(U, side.stable, MODULES)
        with np.errstate(all="ignore"):
            rest = np.broadcast_to(np.abs(r(u)), u.shape)
            f = float(side.slope) * u + float(side.offset) + rest
            ratio = rest / np.maximum(1.0, np.abs(f))
        ratio[~np.isfinite(ratio)] = np.inf
        worst = np.maximum(worst, ratio)
    beyond = np.maximum.accumulate(worst[::-1])[::-1]  # the worst from each point on
    out = []
    for share in shares:
        ok = np.nonzero(beyond <= share * tol)[0]
        if ok.size:
            out.append(float(x[ok[0]]))
    return sorted(set(out))


# Plans -----------------------------------------------------------------------------

def _linear(s: Setting) -> tuple[float, float]:
    if s.structure is None:
        return 0.0, 0.0
    return (to_float32(float(s.structure.alpha)), to_float32(float(s.structure.beta)))


def plans(s: Setting) -> list[Layout]:
    """The single-polynomial layouts to search, cheapest kinds first."""
    alpha, beta = _linear(s)
    out: list[Layout] = []
    if s.infinite:
        assert s.structure is not None
        routes = [s.structure.route] + (["u"] if s.structure.route == "v" else [])
        for route in routes:
            a, b = (alpha, beta) if route == "u" else (alpha, 0.0)
            probe = Layout(route, clip=1.0, reach=1.0, alpha=a, beta=b)
            for clip in clip_points(s.target, s.tol, route, probe.kappa, s.structure):
                out.append(Layout(route, clip=clip, reach=clip / probe.kappa, alpha=a, beta=b))
        return out
    # f - alpha*d is smooth and even (the structure proved its odd part alpha*d): a
    # polynomial in d^2 follows it on a range, whatever beta (beta*|d| matters on R only)
    if not s.target.through_abs and (s.structure is not None or s.even):
        out.append(Layout("v", clip=None, reach=s.reach, alpha=alpha if s.structure else 0.0))
    if s.structure is not None or s.even:
        out.append(Layout("u", clip=None, reach=s.reach, alpha=alpha, beta=beta))
    if proven_odd(s.target):
        out.append(Layout("o", clip=None, reach=s.reach))
    elif not s.even and not s.target.through_abs:
        out.append(Layout("d", clip=None, reach=s.reach))
    return out


def piecewise_plans(s: Setting, single: list[Layout]) -> list[Layout]:
    """Route u with knots: geometric pieces, each KNOT_RATIO times the one before."""
    out = []
    for base in single:
        if base.route != "u":
            continue
        top = base.top
        for ratio in (KNOT_RATIO, 2 * KNOT_RATIO):
            knots = []
            a = top / ratio
            while a >= 0.5 and len(knots) < MAX_PIECES - 1:
                knots.append(math.floor(a / CLIP_STEP) * CLIP_STEP)
                a /= ratio
            knots = sorted(set(k for k in knots if 0 < k < top))
            if knots:
                out.append(replace(base, knots=tuple(knots)))
    return out


# Fitting ---------------------------------------------------------------------------

@dataclass
class Target1:
    """One polynomial's target on t in [-1, 1]: values, slopes and their weights."""

    F: Callable
    weight: Callable
    dF: Callable
    dweight: Callable


def _target(s: Setting, layout: Layout, var: Variable, offset: float = 0.0) -> Target1:
    mid, half = (var.lo + var.hi) / 2, (var.hi - var.lo) / 2
    slope = layout.slope(1)
    ratio = s.tol / s.gtol

    def u_of(t: np.ndarray) -> np.ndarray:
        return var.to_u(mid + half * np.asarray(t, dtype=np.float64))

    if layout.route == "o":  # d * P(d^2 - c): P follows f(u)/u, weighted by u
        def F(t: np.ndarray) -> np.ndarray:
            u = np.maximum(u_of(t), 1e-150)
            return s.reference(u) / u

        def weight(t: np.ndarray) -> np.ndarray:
            u = u_of(t)
            return u / np.maximum(1.0, np.abs(s.reference(u)))

        return Target1(F, weight, F, lambda t: np.zeros_like(np.asarray(t, dtype=float)))

    def F(t: np.ndarray) -> np.ndarray:
        u = u_of(t)
        return s.reference(u) - slope * u - offset

    def weight(t: np.ndarray) -> np.ndarray:
        return 1.0 / np.maximum(1.0, np.abs(s.reference(u_of(t))))

    def dF(t: np.ndarray) -> np.ndarray:
        u = u_of(t)
        rate = var.rate(u)
        with np.errstate(all="ignore"):
            out = (s.reference.derivative(u) - slope) * half / rate
        return np.where(rate > 0, out, 0.0)

    def dweight(t: np.ndarray) -> np.ndarray:
        u = u_of(t)
        return ratio * var.rate(u) / half / np.maximum(1.0, np.abs(s.reference.derivative(u)))

    return Target1(F, weight, dF, dweight)


def estimate_degree(goal: Target1, error: float) -> Optional[int]:
    """The degree whose Chebyshev series tail is below ``error`` (None: above MAX_DEGREE)."""
    c = interpolate(goal.F, ESTIMATE_DEGREE)
    if not np.all(np.isfinite(c)):
        return None
    tail = np.cumsum(np.abs(c[::-1]))[::-1]  # tail[n] = sum_{k >= n} |c_k|
    for n in range(1, MAX_DEGREE + 1):
        if tail[n + 1] <= error:
            return n
    return None


def _fit(goal: Target1, n: int, kind: str, vanish_left: bool = False) -> Optional[np.ndarray]:
    if kind == "interpolation":
        c = interpolate(goal.F, n)
        if vanish_left:
            c[0] -= np.polynomial.chebyshev.chebval(-1.0, c)
        return c if np.all(np.isfinite(c)) else None
    slopes = (goal.dF, goal.dweight) if kind == "minimax of value and slope" else None
    return minimax(goal.F, goal.weight, n, slopes, vanish_left)


FITS = ("interpolation", "minimax", "minimax of value and slope")


def _rounded(cheb: np.ndarray, var: Variable) -> list[float]:
    """The float32 coefficients in powers of w; a later piece vanishes at its left end."""
    c = monomials(cheb, var.lo, var.hi)
    if var.left:
        c[0] = to_float32(c[0] - exactly(c, var.lo))
    return trim(c)


# Candidates ------------------------------------------------------------------------

def build(s: Setting, layout: Layout, polynomials: list, fit: str,
          degrees: tuple) -> Optional[Candidate]:
    """The compiled candidate (None if the compiler refuses it: a zero polynomial, say)."""
    try:
        raw = layout.build(polynomials)
        program = Program.from_ir(s.target.label, raw, s.reduction, command="taylor",
                                  lowered=True)
    except (LossccError, AssertionError, ValueError):
        return None
    return Candidate(layout, polynomials, degrees, fit, program, Line.of(program.root))


def screen(s: Setting, c: Candidate, points: np.ndarray, exact: np.ndarray) -> None:
    """The candidate's mixed error on the float32 grid, and its derivative's error."""
    error = mixed(run_float32(c.program.root, points), exact)
    error[np.isnan(error)] = np.inf
    c.screened = float(np.max(error))
    if c.screened <= SCREEN * s.tol:
        c.gradient, _ = gradient_error(c.line, s.reference, _gradient_reach(s), 6001)


def _gradient_reach(s: Setting) -> float:
    return GRADIENT_REACH if s.infinite else min(GRADIENT_REACH, s.reach)


def passes(s: Setting, c: Candidate) -> bool:
    return c.screened <= SCREEN * s.tol and c.gradient <= 0.7 * s.gtol


def _grid(s: Setting, layout: Layout, both: bool) -> tuple[np.ndarray, np.ndarray]:
    top = layout.top / layout.kappa if s.infinite else s.reach
    points = grid(top, s.infinite, both, edge=s.edge)
    return points, s.reference(points)


def _both(s: Setting, layout: Layout) -> bool:
    """Both signs of d need looking at (unless f and the cell are exactly even)."""
    return not (s.even and layout.route in ("v", "u") and not layout.relu and layout.alpha == 0)


def search_single(s: Setting, layout: Layout, found: Search) -> str:
    """Degrees up from the estimate, three fits each, Clenshaw where Horner's rounding fails.

    Returns how it went: "found", "degree" (one polynomial would need too high a degree:
    pieces may help), "rounding" (float32 rounding is what fails: pieces will not help),
    or "dearer" (it costs more than a candidate already found)."""
    var = layout.variables()[0]
    goal = _target(s, layout, var)
    points, exact = _grid(s, layout, _both(s, layout))
    floor = 1.0 / float(np.max(goal.weight(np.linspace(-1, 1, 201))))
    start = estimate_degree(goal, 0.3 * s.tol * floor)
    if start is None:
        found.notes.append((f"route {layout.route}, {_where(layout)}",
                            f"needs a degree above {MAX_DEGREE}"))
        return "degree"
    passed = 0
    status = "degree"
    for n in range(max(1, start - 2), min(start + 6, MAX_DEGREE) + 1):
        best_here = None
        for kind in FITS:
            cheb = _fit(goal, n, kind)
            if cheb is None:
                continue
            c = build(s, layout, [_rounded(cheb, var)], kind, (n,))
            if c is None:
                continue
            if c.ops > found.best_ops + 4:
                return "dearer"
            screen(s, c, points, exact)
            found.tried.append(c)
            if passes(s, c):
                found.screened.append(c)
                best_here = c
            elif c.screened > SCREEN * s.tol and _rounding_bound(c, points, exact, s):
                status = "rounding"
                k = build(s, replace(layout, scheme="clenshaw"),
                          [[to_float32(float(v)) for v in cheb]], kind, (n,))
                if k is not None:
                    screen(s, k, points, exact)
                    found.tried.append(k)
                    if passes(s, k):
                        found.screened.append(k)
                        best_here = best_here or k
        if best_here is not None:
            found.best_ops = min(found.best_ops, best_here.ops)
            passed += 1
            if passed >= 2:
                break
    return "found" if passed else status


def _rounding_bound(c: Candidate, points: np.ndarray, exact: np.ndarray, s: Setting) -> bool:
    """Horner's float32 rounding is what fails: the same program in float64 would pass."""
    from .. import ir

    with np.errstate(all="ignore"):
        values = ir.evaluate(c.program.root, d=points.astype(np.float64))
    return float(np.max(mixed(values, exact))) <= 0.5 * SCREEN * s.tol


def search_pieces(s: Setting, layout: Layout, found: Search) -> None:
    """Each piece's smallest degree that meets its share, fitted in order (continuity)."""
    polynomials, degrees = [], []
    offset = 0.0
    for var in layout.variables():
        goal = _target(s, layout, var, offset)
        t = np.linspace(-1, 1, 801)
        floor = 1.0 / float(np.max(goal.weight(t)))
        start = estimate_degree(goal, 0.2 * s.tol * floor) or MAX_DEGREE
        for n in range(max(2, start - 3), MAX_DEGREE + 1):
            cheb = _fit(goal, n, "minimax of value and slope", vanish_left=var.left)
            if cheb is None:
                continue
            coefficients = _rounded(cheb, var)
            w = (var.lo + var.hi) / 2 + (var.hi - var.lo) / 2 * t
            values = np.polynomial.polynomial.polyval(w, coefficients)
            if np.max(np.abs(values - goal.F(t)) * goal.weight(t)) <= 0.4 * s.tol:
                break
        else:
            found.notes.append((f"route u, {len(layout.knots) + 1} pieces",
                                f"a piece needs a degree above {MAX_DEGREE}"))
            return
        polynomials.append(coefficients)
        degrees.append(n)
        offset += exactly(coefficients, var.hi)
    c = build(s, layout, polynomials, "minimax of value and slope", tuple(degrees))
    if c is None:
        return
    points, exact = _grid(s, layout, _both(s, layout))
    screen(s, c, points, exact)
    found.tried.append(c)
    if passes(s, c):
        found.screened.append(c)
        found.best_ops = min(found.best_ops, c.ops)


def _where(layout: Layout) -> str:
    if layout.clip is not None:
        return f"clip at |d| = {show(layout.clip / layout.kappa)}"
    return f"range {show(layout.reach)}"


def certify_candidate(s: Setting, c: Candidate) -> Certificate:
    if c.certificate is None:
        top = c.layout.top / c.layout.kappa if s.infinite else s.reach
        c.certificate = certify(c.line, s.truth, top, top if s.infinite else None,
                                tail_to=s.edge)
    return c.certificate


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
                                           _gradient_reach(s), 6001)
            if k.gradient <= s.gtol:
                classics.append(k)
                found.best_ops = min(found.best_ops, k.ops)
            else:
                found.notes.append((f"{method}, degree {a.report.degree}, {k.ops} ops",
                                    f"its derivative is off by {k.gradient:.2g}"))
    single = plans(s)
    too_long = [layout for layout in single if search_single(s, layout, found) == "degree"]
    if not found.screened:  # pieces, where one polynomial needs too high a degree
        for layout in piecewise_plans(s, too_long):
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
    if cert.rounding >= 0.5 * s.tol or cert.rounding >= cert.approximation:
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
    points = dense(top, s.infinite, _both(s, c.layout), edge=s.edge)
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
    grad, grad_at = gradient_error(c.line, s.reference, _gradient_reach(s))
    st = s.structure
    structure = {
        "route": lay.route,
        "linear": _linear_text(lay),
        "asymptote": st.asymptote() if st else None,
        "remainder": st.remainder() if st else None,
        "clip": lay.clip / lay.kappa if lay.clip is not None else None,
        "pieces": [[a / lay.kappa, b / lay.kappa] for a, b in zip(lay.edges, lay.edges[1:])],
        "degrees": list(c.degrees),
        "scheme": lay.scheme,
        "variables": _variable_texts(lay),
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
        gradient_reach=_gradient_reach(s), tolerance=s.tol, choice=choice, rejected=rejected)


def _linear_text(lay: Layout) -> str:
    terms = []
    if lay.relu:
        return f"{show(lay.alpha)}*d + {show(lay.beta)}*|d|"
    if lay.alpha:
        terms.append(f"{show(lay.alpha)}*d")
    if lay.beta and lay.route == "u":
        terms.append("|d|" if lay.beta == 1 else f"{show(lay.beta)}*|d|")
    return " + ".join(terms)


def _variable_texts(lay: Layout) -> list[str]:
    x = "|d|" if lay.kappa == 1 else f"{show(lay.kappa)}*|d|"
    if lay.route == "d":
        return ["w = d"]
    if lay.route == "o":
        return [f"w = d^2 - {show(to_float32(lay.reach ** 2 / 2))} (the cell is d*p(w))"]
    if lay.route == "v":
        if lay.clip is not None:
            return [f"w = (2*min(|d|, {show(lay.clip)}))^2 - {show(2 * lay.clip ** 2)}"]
        return [f"w = d^2 - {show(to_float32(lay.reach ** 2 / 2))}"]
    if not lay.knots:
        if lay.clip is not None:
            return [f"w = 2*min({x}, {show(lay.clip)}) - {show(lay.clip)}"]
        return [f"w = {x} - {show(to_float32(lay.top / 2))}"]
    sigma = 4 if lay.clip is not None else 2
    out = []
    for j, (a, b) in enumerate(zip(lay.edges, lay.edges[1:])):
        clipped = f"min({x}, {show(b)})" if a == 0 else f"clip({x}, {show(a)}, {show(b)}) - {show(a)}"
        out.append(f"w{j} = {sigma}*({clipped}) - {show(sigma * (b - a) / 2)}")
    return out


def approximate_auto(target: Target, tol: float, reach: float, reduction: Reduction,
                     classic: Optional[Callable[[str], Any]] = None) -> tuple:
    """(program, report) of the cheapest certified candidate, or a LossccError."""
    started = time.perf_counter()
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
    report = cell_report(s, winner, found, classics)
    del started
    return winner.program, report


def describe_remainder(structure: Structure) -> str:
    """The stable remainder, as text (for the docs)."""
    return describe(structure.sides[1].stable)
