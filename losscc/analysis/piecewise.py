"""A loss in one variable as a piecewise polynomial: the exact ground of the analysis.

Every loss ``losscc compile`` takes is built from + - * whole powers and
``abs``, so on the real line it is a continuous function that is a
polynomial between the points where some ``abs`` argument changes sign.
This module finds those points exactly (SymPy real roots, innermost ``abs``
first), the polynomial on each interval, and from them what the analysis
needs: infimum, one-sided slopes (kinks), convexity, behaviour at infinity.

Coefficients must be exact (rationals): ``exact()`` converts a SymPy
expression's floats exactly. Points are SymPy numbers (rationals, radicals or
``CRootOf``); comparisons between them are done at 30 significant digits.

>>> import sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> [(str(p.lo), str(p.hi), str(p.poly.as_expr())) for p in pieces(sp.Abs(x - 1), x)]
[('-oo', '1', '1 - x'), ('1', 'oo', 'x - 1')]
>>> infimum(pieces(sp.Abs(x - 1) + 2, x))
Extremum(value=2, points=(1,), flats=())
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DIGITS = 30  # precision of numeric comparisons between algebraic numbers
TOLERANCE = 1e-20  # |a - b| below this (relative) counts as equal at that precision


@dataclass(frozen=True)
class Piece:
    """``poly`` (a SymPy Poly in the variable) holds on the closed interval [lo, hi]."""

    lo: Any  # a SymPy number, or -oo
    hi: Any  # a SymPy number, or oo
    poly: Any


@dataclass(frozen=True)
class Extremum:
    """The infimum of a function, where it is attained and on which whole intervals."""

    value: Any  # a SymPy number, or -oo
    points: tuple  # isolated points where it is attained
    flats: tuple  # (lo, hi) intervals on which the function is constant at the value


@dataclass(frozen=True)
class Kink:
    """A point where the left and right slopes differ."""

    at: Any
    left: Any
    right: Any


def exact(expr: Any) -> Any:
    """``expr`` with every float replaced by the rational its shortest repr spells.

    0.1 becomes 1/10 (the number the user wrote), not the binary 3602879701896397/2^55.
    """
    import sympy as sp

    return expr.xreplace({f: sp.Rational(repr(float(f))) for f in expr.atoms(sp.Float)})


def abs_form(expr: Any) -> Any:
    """``expr`` with every Min and Max written with Abs (exact in real arithmetic).

    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> abs_form(sp.Max(x, 1))
    x/2 + Abs(x - 1)/2 + 1/2
    """
    import sympy as sp

    def pair(a: Any, b: Any, sign: int) -> Any:
        return (a + b + sign * sp.Abs(a - b)) / 2

    def fold(args: tuple, sign: int) -> Any:
        out = args[0]
        for arg in args[1:]:
            out = pair(out, arg, sign)
        return out

    return expr.replace(sp.Min, lambda *a: fold(a, -1)).replace(sp.Max, lambda *a: fold(a, 1))


def pieces(expr: Any, x: Any) -> list[Piece]:
    """``expr`` (polynomial operations and Abs in ``x``) as polynomial pieces covering R."""
    import sympy as sp

    cuts: list = []
    # An Abs contains only smaller ones: innermost first, each argument is a
    # polynomial on the intervals the inner ones leave.
    for node in sorted(expr.atoms(sp.Abs), key=lambda a: (sp.count_ops(a), sp.default_sort_key(a))):
        found = []
        for lo, hi in _intervals(cuts):
            poly = sp.Poly(_resolve(node.args[0], x, lo, hi), x)
            found += [r for r in real_roots(poly) if _less(lo, r) and _less(r, hi)]
        cuts = _sorted_unique(cuts + found)
    return [Piece(lo, hi, sp.Poly(_resolve(expr, x, lo, hi), x)) for lo, hi in _intervals(cuts)]


def real_roots(poly: Any) -> list:
    """The distinct real roots of a Poly with rational coefficients, ascending."""
    if poly.is_zero or poly.degree() <= 0:
        return []
    # Each root once (d^1023 has one, not 1023 to sort and compare).
    return _sorted_unique([root for root, _ in poly.real_roots(multiple=False)])


def infimum(parts: list[Piece]) -> Extremum:
    """The infimum of the piecewise polynomial over R, and where it is attained."""
    import sympy as sp

    best: Any = None
    points: list = []
    flats: list = []
    for part in parts:
        low, at, flat = _poly_inf(part)
        if low == -sp.oo:
            return Extremum(-sp.oo, (), ())
        if best is None or _less(low, best):
            best, points, flats = low, list(at), list(flat)
        elif _equal(low, best):
            points += at
            flats += flat
    return Extremum(best, tuple(_sorted_unique(points)), tuple(_joined(flats)))


def _joined(intervals: list) -> list:
    """Intervals that meet end to start, as one (a flat minimum across a kink)."""
    out: list = []
    for lo, hi in intervals:
        if out and _equal(out[-1][1], lo):
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def kinks(parts: list[Piece]) -> list[Kink]:
    """Points where neighbouring pieces meet with different slopes."""
    out = []
    for left, right in zip(parts, parts[1:]):
        at = left.hi
        slope_left = value_at(left.poly.diff(), at)
        slope_right = value_at(right.poly.diff(), at)
        if not _equal(slope_left, slope_right):
            out.append(Kink(at, slope_left, slope_right))
    return out


def is_convex(parts: list[Piece]) -> bool:
    """Convex on R: every piece's second derivative >= 0 and every kink bends upwards."""
    import sympy as sp

    for part in parts:
        curvature = _poly_inf(Piece(part.lo, part.hi, part.poly.diff().diff()))[0]
        if _less(curvature, sp.Integer(0)):
            return False
    return all(_less(k.left, k.right) for k in kinks(parts))


def is_zero(parts: list[Piece]) -> bool:
    return all(part.poly.is_zero for part in parts)


def end_behaviour(parts: list[Piece]) -> tuple[tuple[int, Any], tuple[int, Any]]:
    """(degree, leading coefficient) of the polynomial as x -> -oo and as x -> +oo."""
    first, last = parts[0].poly, parts[-1].poly
    return ((_degree(first), first.LC()), (_degree(last), last.LC()))


def value_at(poly: Any, point: Any) -> Any:
    """``poly`` at ``point``: exact at a rational point, and at a root of a polynomial
    where ``poly`` reduces to a constant modulo that one (square(q) at a root of q is
    exactly 0, not a rounding residue like -2e-162); else to DIGITS digits."""
    import sympy as sp

    if point.is_Rational:
        return poly(point)  # Poly is callable: exact evaluation
    if isinstance(point, sp.CRootOf):
        x = poly.gens[0]
        minimal = sp.Poly(point.poly.as_expr().subs(point.poly.gens[0], x), x)
        poly = poly.rem(minimal)  # the same value at the root, of lower degree
        if poly.is_zero or poly.degree() <= 0:
            return poly.LC() if not poly.is_zero else sp.Integer(0)
    return sp.N(poly.as_expr().subs(poly.gens[0], point), DIGITS)


def to_float(value: Any) -> float:
    return float(value.evalf(DIGITS)) if value.is_finite else float(value)


# Helpers


def _poly_inf(part: Piece) -> tuple[Any, list, list]:
    """(infimum, points, flat intervals) of one polynomial on its closed interval."""
    import sympy as sp

    poly, lo, hi = part.poly, part.lo, part.hi
    degree = _degree(poly)
    if degree == 0:
        return poly.LC() if not poly.is_zero else sp.Integer(0), [], [(lo, hi)]
    sign_at = {hi: 1, lo: -1}  # the direction in which x leaves through each infinite end
    for end in (lo, hi):
        if end.is_infinite and poly.LC() * sign_at[end] ** degree < 0:
            return -sp.oo, [], []
    candidates = [end for end in (lo, hi) if end.is_finite]
    candidates += [r for r in real_roots(poly.diff()) if _less(lo, r) and _less(r, hi)]
    values = [(value_at(poly, c), c) for c in candidates]
    low = values[0][0]
    for v, _ in values:
        low = v if _less(v, low) else low
    return low, [c for v, c in values if _equal(v, low)], []


def _resolve(expr: Any, x: Any, lo: Any, hi: Any) -> Any:
    """``expr`` with each Abs replaced by its argument's sign inside (lo, hi)."""
    import sympy as sp

    inside = _sample(lo, hi)
    # Innermost first, until none is left: rebuilding an expression can make
    # SymPy form a new Abs (Abs(-y) is Abs(y)), so one sweep is not always enough.
    while True:
        innermost = {a for a in expr.atoms(sp.Abs) if not a.args[0].has(sp.Abs)}
        if not innermost:
            return sp.expand(expr)
        expr = expr.xreplace({a: a.args[0] if a.args[0].subs(x, inside) >= 0 else -a.args[0]
                              for a in innermost})


def _sample(lo: Any, hi: Any) -> Any:
    """A rational point strictly inside (lo, hi)."""
    import sympy as sp

    if lo.is_infinite and hi.is_infinite:
        return sp.Integer(0)
    if lo.is_infinite:
        return sp.floor(hi) - 1
    if hi.is_infinite:
        return sp.ceiling(lo) + 1
    return sp.Rational((sp.N(lo, DIGITS) + sp.N(hi, DIGITS)) / 2)


def _intervals(cuts: list) -> list[tuple[Any, Any]]:
    import sympy as sp

    ends = [-sp.oo, *cuts, sp.oo]
    return list(zip(ends, ends[1:]))


def _degree(poly: Any) -> int:
    return 0 if poly.is_zero else poly.degree()


def _numeric(value: Any) -> Any:
    import sympy as sp

    return value if value.is_infinite or value.is_Rational else sp.N(value, DIGITS)


def _less(a: Any, b: Any) -> bool:
    """a < b, and not merely equal at DIGITS digits."""
    return bool(_numeric(a) < _numeric(b)) and not _equal(a, b)


def _equal(a: Any, b: Any) -> bool:
    if a.is_infinite or b.is_infinite:
        return a == b
    if a.is_Rational and b.is_Rational:
        return a == b
    x, y = _numeric(a), _numeric(b)
    return abs(x - y) <= TOLERANCE * (1 + abs(x) + abs(y))


def _sorted_unique(values: list) -> list:
    import functools

    out: list = []
    for v in sorted(values, key=functools.cmp_to_key(lambda a, b: -1 if _less(a, b) else int(_less(b, a)))):
        if not out or not _equal(out[-1], v):
            out.append(v)
    return out
