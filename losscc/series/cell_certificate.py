"""A proven bound on a cell's mixed error, for every float32 d in its domain (R included).

The mixed error of a cell c against the loss f at d is

    |c(d) - f(d)| / max(1, |f(d)|)

(absolute where |f| <= 1, relative beyond: float32 cannot hold 1e-5
absolutely at |f| = 1e4). Split |fl(P)(d) - f(d)| <= |P*(d) - f(d)| +
|fl(P)(d) - P*(d)|, with P* the program in exact arithmetic with its
float32 constants taken exactly (so the rounding of the coefficients is in
the first part, and the first part is about exactly the numbers that run):

- approximation, |P* - f| on a piece X = m +- h: Taylor models of the
  program itself, in ball arithmetic (python-flint's arb). The series of
  P* - f at m to order K (exact centre) plus the (K+1)-th coefficient
  enclosed over all of X (Lagrange's remainder): |P* - f| <= sum_k |e_k|
  h^k + |E_(K+1)(X)| h^(K+1). No polynomial is read back, so the same code
  covers Horner, Clenshaw, clips, pieces and the linear part. Pieces are
  split where an Abs argument changes sign (exact affine forms), so P* is
  smooth on each;
- float32 rounding of the program's operations on X (``float32_error``);
- the mixed denominator, max(1, inf |f| over X), from the same enclosure.

"All of R" is [-3.4e38, 3.4e38] for a float32 d, a compact set: beyond the
clip point the pieces are [T, 2T], [2T, 4T], ... up to float32's largest
number (128 or fewer per side), f is enclosed through its stable form
(``structure``), and the precision grows with log2|d| so that the huge
parts of P* and f cancel exactly at each centre. Branch and bound, worst
piece first: a piece is split until its approximation part is within 5%
of the largest error proven to occur at a centre (or below a tenth of its
rounding part), and its rounding part has been looked at on narrow pieces.

>>> import sympy as sp
>>> from losscc import ir
>>> from .straight_line import Line
>>> d = ir.var("d")
>>> line = Line.of(ir.add(ir.mul(ir.const(0.5), ir.square(d)), ir.const(1.0)))
>>> x = sp.Symbol("d", real=True)
>>> truth = Truth({1: 1 + x**2 / 2 + x**4 / 24}, x, even=True)
>>> c = certify(line, truth, finite=1.0)
>>> (1 / 24) / (1 + 1 / 2 + 1 / 24) <= c.bound < 0.0271   # at d = 1: x^4/24 over |f|
True
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Optional

from ..floats import FLOAT32_MAX
from .balls import arb, arb_series, evaluate, hull, lower, precision, to_ball, upper
from .float32_error import rounding_error
from .straight_line import Line

ORDER = 10  # K: the Taylor model's order on each piece
FIRST_PIECES = 48  # of the finite part, per side
MAX_PIECES = 4000
SLACK = 0.05  # an approximation part within 5% of the best lower bound is settled
ROUNDING_WIDTH = 1 / 512  # rounding parts are settled on pieces this narrow (of the finite part)
BASE_BITS = 96


@dataclass(frozen=True)
class Truth:
    """The loss, per side, as SymPy expressions in the symbol x (= d, signed).

    ``finite[s]``: f on side s (s = +1: d >= 0) for moderate |d|;
    ``tail[s]``: the same function in stable form (``Side.tail``), for the pieces
    beyond the clip. ``even``: f(-d) = f(d) is proven (then d >= 0 suffices,
    for a program that reads d once through Abs or Square).
    """

    finite: dict
    x: Any
    even: bool = False
    tail: dict = field(default_factory=dict)

    def side(self, s: int, far: bool) -> Any:
        table = self.tail if far and self.tail else self.finite
        return table[s] if s in table else table[1]


@dataclass
class Piece:
    lo: Fraction
    hi: Fraction
    far: bool  # a tail piece
    approximation: float = math.inf  # |P* - f| (absolute)
    rounding: float = math.inf
    denominator: float = 1.0  # max(1, inf |f|)
    lower: float = 0.0  # |P* - f| / max(1, |f|) at the centre: an error that occurs
    total: float = math.inf  # (approximation + rounding) / denominator


@dataclass(frozen=True)
class Certificate:
    """The proven mixed bound and its parts (each the largest over the pieces)."""

    bound: float
    approximation: float  # mixed approximation part, worst piece
    rounding: float  # mixed float32 rounding part, worst piece
    tail: float  # the bound on the pieces beyond the clip (0 on a finite range)
    lower: float  # the largest exact-arithmetic error found at a piece's centre
    worst: tuple[float, float]  # the worst piece
    pieces: int

    def parts(self) -> dict:
        """The per-component bounds, for reports."""
        return {"approximation": self.approximation, "rounding": self.rounding,
                "tail": self.tail}


def uniform(lo: float, hi: float, n: int) -> list[tuple[Fraction, Fraction]]:
    """n pieces of [lo, hi] with float (dyadic) ends."""
    a, b = Fraction(lo), Fraction(hi)
    edges = [Fraction(float(a + (b - a) * i / n)) for i in range(n + 1)]
    edges[0], edges[-1] = a, b
    return list(zip(edges, edges[1:]))


def geometric(start: float, stop: float = FLOAT32_MAX) -> list[tuple[Fraction, Fraction]]:
    """[start, 2 start], [2 start, 4 start], ... up to stop."""
    out, a, top = [], Fraction(start), Fraction(stop)
    while a < top:
        b = min(2 * a, top)
        out.append((a, b))
        a = b
    return out


def certify(line: Line, truth: Truth, finite: float, tail_from: Optional[float] = None,
            tail_to: float = FLOAT32_MAX, first_pieces: int = FIRST_PIECES) -> Certificate:
    """The mixed bound over |d| <= ``finite`` and, with ``tail_from`` (= finite), beyond it
    up to ``tail_to`` (float32's largest number, or less where f itself would exceed it);
    both signs unless the cell and f are even."""
    both = not (truth.even and line.even)
    start: list[tuple[Fraction, Fraction, bool]] = []
    for lo, hi in uniform(0.0, finite, first_pieces):
        start.append((lo, hi, False))
        if both:
            start.append((-hi, -lo, False))
    if tail_from is not None:
        for lo, hi in geometric(tail_from, tail_to):
            start.append((lo, hi, True))
            if both:
                start.append((-hi, -lo, True))
    rounding_width = Fraction(finite) * Fraction(ROUNDING_WIDTH)
    return _branch_and_bound(line, truth, start, rounding_width)


def _branch_and_bound(line: Line, truth: Truth, start: list, rounding_width: Fraction,
                      ) -> Certificate:
    heap: list = []
    done: list[Piece] = []
    count = 0
    best_lower = 0.0

    def push(lo: Fraction, hi: Fraction, far: bool) -> None:
        nonlocal count, best_lower
        piece = _piece(line, truth, lo, hi, far)
        if isinstance(piece, Fraction):  # an Abs argument changes sign inside: cut there
            push(lo, piece, far)
            push(piece, hi, far)
            return
        count += 1
        best_lower = max(best_lower, piece.lower)
        heapq.heappush(heap, (-piece.total, count, piece))

    for lo, hi, far in start:
        push(lo, hi, far)
    while heap:
        _, _, p = heapq.heappop(heap)
        approximation = p.approximation / p.denominator
        rounding = p.rounding / p.denominator
        width = p.hi - p.lo
        settled = ((approximation <= (1 + SLACK) * best_lower or approximation <= 0.1 * rounding)
                   and (p.far or width <= rounding_width))
        narrow = width <= max(1, abs(p.lo)) * Fraction(1, 2**30)
        if settled or narrow or count >= MAX_PIECES:
            done.append(p)
            break  # the worst piece left is settled: every other is below it
        mid = (p.lo + p.hi) / 2
        push(p.lo, mid, p.far)
        push(mid, p.hi, p.far)
    pieces = done + [item[2] for item in heap]
    worst = max(pieces, key=lambda q: q.total)
    return Certificate(
        bound=worst.total,
        approximation=max(q.approximation / q.denominator for q in pieces),
        rounding=max(q.rounding / q.denominator for q in pieces),
        tail=max([q.total for q in pieces if q.far], default=0.0),
        lower=best_lower, worst=(float(worst.lo), float(worst.hi)), pieces=count)


def _piece(line: Line, truth: Truth, lo: Fraction, hi: Fraction, far: bool,
           ) -> "Piece | Fraction":
    """The bounds on one piece, or the point where it must be cut."""
    signs = line.signs(lo, hi)
    if isinstance(signs, tuple):
        return signs[1]
    piece = Piece(lo, hi, far)
    side = 1 if lo >= 0 else -1
    f = truth.side(side, far)
    magnitude = max(abs(lo), abs(hi), Fraction(1))
    bits = BASE_BITS + math.ceil(math.log2(float(magnitude)))
    try:
        with precision(bits, ORDER + 1):
            centre = to_ball((lo + hi) / 2)
            at_centre = arb_series([centre, 1])
            e = _coefficients(line.run(at_centre, signs, arb)
                              - _series(evaluate(f, truth.x, at_centre)))
            f_centre = evaluate(f, truth.x, centre)
        with precision(bits, ORDER + 2):
            ball = hull(to_ball(lo), to_ball(hi))
            over = arb_series([ball, 1])
            f_over = _coefficients(evaluate(f, truth.x, over))
            p_over = _coefficients(line.run(over, signs, arb))
            last = _coefficient(p_over, ORDER + 1) - _coefficient(f_over, ORDER + 1)
            h = to_ball((hi - lo) / 2)
            approximation = arb(0)
            for k in range(ORDER + 1):
                approximation = approximation + abs(_coefficient(e, k)) * h**k
            approximation = approximation + abs(last) * h ** (ORDER + 1)
            size = _coefficient(f_over, 0)
            denominator = arb(1).max(size.abs_lower()) if size.is_finite() else arb(1)
            rounding = rounding_error(line, ball)
        piece.approximation, piece.rounding = upper(approximation), upper(rounding)
        piece.denominator = max(1.0, lower(denominator))
        piece.lower = max(0.0, lower(abs(_coefficient(e, 0)))) / max(1.0, upper(abs(f_centre)))
    except (ValueError, ZeroDivisionError):
        return piece  # no enclosure: an infinite bound, which fails safe
    if math.isfinite(piece.approximation) and math.isfinite(piece.rounding):
        piece.total = (piece.approximation + piece.rounding) / piece.denominator
    return piece


def _series(x: Any) -> Any:
    """A constant (an arb) as a series (f may not depend on d on a tail piece)."""
    return x if isinstance(x, arb_series) else arb_series([x])


def _coefficients(x: Any) -> list:
    return x.coeffs() if isinstance(x, arb_series) else [x]


def _coefficient(coefficients: list, k: int) -> Any:
    return coefficients[k] if k < len(coefficients) else arb(0)
