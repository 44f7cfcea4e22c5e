"""The candidates of ``method="auto"``: plans, fits, compiled cells, their screening.

A *plan* is a ``Layout`` (route, clip point or range, knots, linear part);
a *candidate* is a plan with float32 polynomials, compiled (the compiler's
passes run, except the polynomial pass: ``Program.from_ir(lowered=True)``)
and then screened: its mixed error on a float32 grid (``replay``), and its
derivative's. ``search_single`` walks the degrees of one polynomial,
``search_pieces`` fits pieces one after the other.

The fits approximate the remainder G(u) = f(u) - slope*u on the plan's
variable (``Goal``): Chebyshev interpolation, the mixed-weighted minimax
(weight 1/max(1, |f|)), and the minimax of value and slope together, whose
slope rows compare the cell's derivative in d with f'.

>>> from losscc.series.target import prepare
>>> clip_points(prepare("log(cosh(d))"), 1e-5, shares=(0.3,))
[5.625]
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable, Optional

import numpy as np

from .. import ir
from ..compiler.program import Program
from ..errors import LossccError
from ..floats import show, to_float32
from ..language.reduction import Reduction
from .cell_certificate import Certificate, Truth, certify
from .cells import Layout, Variable
from .fitting import exactly, interpolate, minimax, monomials, trim
from .replay import GRADIENT_REACH, Reference, gradient_error, grid, mixed, run_float32
from .stable import numpy_function
from .straight_line import Line
from .structure import Structure, analyze, proven_odd
from .target import Target

GRADIENT_TOL = 1e-3  # the derivative is kept within max(GRADIENT_TOL, tol), measured
SCREEN = 0.75  # a candidate is certified if its measured error is within this share of tol
CLIP_SHARES = (0.03, 0.1, 0.3)  # of tol, for the remainder beyond the clip point
MAX_DEGREE = 40  # of one polynomial in a cell (beyond: pieces)
ESTIMATE_DEGREE = 64  # the Chebyshev series whose tail estimates the degree
MAX_CERTIFIED = 6  # candidates certified before giving up
KNOT_RATIO = 4.0  # pieces: each about this many times longer than the one before
MAX_PIECES = 6
PIECES_FROM = 16  # pieces are tried where the cheapest single polynomial has this degree
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


# Plans -----------------------------------------------------------------------------

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
        r = numpy_function(side.stable)
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


def piecewise_plans(single: list[Layout]) -> list[Layout]:
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
class Goal:
    """One polynomial's target on t in [-1, 1]: values, slopes and their weights."""

    F: Callable
    weight: Callable
    dF: Callable
    dweight: Callable


def goal_of(s: Setting, layout: Layout, var: Variable, offset: float = 0.0) -> Goal:
    """What the polynomial in ``var`` must follow: f(u) - slope*u - offset, u = |d| (d on
    route d), with the mixed measure's weights. On routes u and v one polynomial serves
    both signs of d, so the weights take the smaller |f| (and |f'|) of the two sides:
    softplus is large for d > 0 but small for d < 0, where its error counts in full."""
    mid, half = (var.lo + var.hi) / 2, (var.hi - var.lo) / 2
    slope = layout.slope(1)
    ratio = s.tol / s.gtol
    both = layout.route in ("u", "v") and not s.even

    def size(u: np.ndarray) -> np.ndarray:
        value = np.abs(s.reference(u))
        return np.minimum(value, np.abs(s.reference(-u))) if both else value

    def steepness(u: np.ndarray) -> np.ndarray:
        value = np.abs(s.reference.right_derivative(u))
        return np.minimum(value, np.abs(s.reference.derivative(-u))) if both else value

    def u_of(t: np.ndarray) -> np.ndarray:
        return var.to_u(mid + half * np.asarray(t, dtype=np.float64))

    if layout.route == "o":  # d * P(d^2 - c): P follows f(u)/u, weighted by u
        def F(t: np.ndarray) -> np.ndarray:
            u = np.maximum(u_of(t), 1e-150)
            return s.reference(u) / u

        def weight(t: np.ndarray) -> np.ndarray:
            u = u_of(t)
            return u / np.maximum(1.0, np.abs(s.reference(u)))

        return Goal(F, weight, F, lambda t: np.zeros_like(np.asarray(t, dtype=float)))

    def F(t: np.ndarray) -> np.ndarray:
        u = u_of(t)
        return s.reference(u) - slope * u - offset

    def weight(t: np.ndarray) -> np.ndarray:
        return 1.0 / np.maximum(1.0, size(u_of(t)))

    def dF(t: np.ndarray) -> np.ndarray:
        u = u_of(t)
        rate = var.rate(u)
        with np.errstate(all="ignore"):
            out = (s.reference.right_derivative(u) - slope) * half / rate
        return np.where(rate > 0, out, 0.0)

    def dweight(t: np.ndarray) -> np.ndarray:
        u = u_of(t)
        return ratio * var.rate(u) / half / np.maximum(1.0, steepness(u))

    return Goal(F, weight, dF, dweight)


def estimate_degree(goal: Goal, error: float) -> Optional[int]:
    """The degree whose Chebyshev series tail is below ``error`` (None: above MAX_DEGREE)."""
    c = interpolate(goal.F, ESTIMATE_DEGREE)
    if not np.all(np.isfinite(c)):
        return None
    tail = np.cumsum(np.abs(c[::-1]))[::-1]  # tail[n] = sum_{k >= n} |c_k|
    for n in range(1, MAX_DEGREE + 1):
        if tail[n + 1] <= error:
            return n
    return None


def _fit(goal: Goal, n: int, kind: str, vanish_left: bool = False) -> Optional[np.ndarray]:
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
        c.gradient, _ = gradient_error(c.line, s.reference, gradient_reach(s), 6001)


def gradient_reach(s: Setting) -> float:
    """The derivative is measured on [-12, 12], or on the range if that is smaller."""
    return GRADIENT_REACH if s.infinite else min(GRADIENT_REACH, s.reach)


def passes(s: Setting, c: Candidate) -> bool:
    return c.screened <= SCREEN * s.tol and c.gradient <= 0.7 * s.gtol


def _grid(s: Setting, layout: Layout, both: bool) -> tuple[np.ndarray, np.ndarray]:
    top = layout.top / layout.kappa if s.infinite else s.reach
    points = grid(top, s.infinite, both, edge=s.edge)
    return points, s.reference(points)


def both_signs(s: Setting, layout: Layout) -> bool:
    """Both signs of d need looking at (unless f and the cell are exactly even)."""
    return not (s.even and layout.route in ("v", "u") and not layout.relu and layout.alpha == 0)


def search_single(s: Setting, layout: Layout, found: Search) -> str:
    """Degrees up from the estimate, three fits each, Clenshaw where Horner's rounding fails.

    Returns how it went: "found", "degree" (one polynomial would need too high a degree:
    pieces may help), "rounding" (float32 rounding is what fails: pieces will not help),
    or "dearer" (it costs more than a candidate already found)."""
    var = layout.variables()[0]
    goal = goal_of(s, layout, var)
    points, exact = _grid(s, layout, both_signs(s, layout))
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
    with np.errstate(all="ignore"):
        values = ir.evaluate(c.program.root, d=points.astype(np.float64))
    return float(np.max(mixed(values, exact))) <= 0.5 * SCREEN * s.tol


def search_pieces(s: Setting, layout: Layout, found: Search) -> None:
    """Each piece's smallest degree that meets its share, fitted in order (continuity)."""
    polynomials, degrees = [], []
    offset = 0.0
    for var in layout.variables():
        goal = goal_of(s, layout, var, offset)
        t = np.linspace(-1, 1, 801)
        floor = 1.0 / float(np.max(goal.weight(t)))
        start = estimate_degree(goal, 0.2 * s.tol * floor)
        if start is None:
            found.notes.append((f"route u, {len(layout.knots) + 1} pieces",
                                f"a piece needs a degree above {MAX_DEGREE}"))
            return
        for n in range(max(2, start - 2), min(start + 4, MAX_DEGREE) + 1):
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
    points, exact = _grid(s, layout, both_signs(s, layout))
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


