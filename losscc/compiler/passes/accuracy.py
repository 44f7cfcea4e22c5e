"""Is a rewrite at least as accurate in float32 as what it replaces? (The polynomial pass asks.)

Expanding a product can cancel catastrophically near its roots:
square(d-100)*square(d+100) expanded is (d^2 - 20000)*d^2 + 1e8, which in
float32 gives 8.0 at d = 100.01 where the formula as written gives 4.0021.
So a rewritten region is taken only if, at every probe point x,

    B_candidate(x) <= 2 * B_written(x) + ULPS * ulp32(f(x))

where the B are bounds of each form's float32 error, computed along its
float32 evaluation as MindSpore runs it (every +, -, * and Square rounds to
float32; powers along their addition chains). The candidate's is a running
bound: each step adds the errors it propagates and the rounding it actually
makes there, so its exact steps (halving, subtracting nearby numbers) cost
nothing. The written form's is the first-order bound: each step adds the
most it could round, so a point where it happens to round exactly does not
count against the candidate. Both get the same inputs (``d`` is the float32
difference the cell computes first), and f is the region's value. The
factor 2 and the ULPS leave room for forms whose bounds differ only by the
order of operations; a cancellation costs orders of magnitude more.

The probe points are where accuracy is lost: along each variable (the
others held at a few values), 0, the roots of f (bisection between sign
changes on a grid of +-2^(k/2), from 2^-24 to 2^40) and the local minima of
|f| on that grid (double roots, near misses; refined by golden-section
search), each with neighbours s*(1 +- 2^-j) from one ulp out to 6%; and a
thinned copy of the grid.

Everything here is Python floats (and ``struct`` for float32 rounding):
``losscc compile`` imports neither NumPy nor SymPy.

>>> from losscc import ir
>>> d, c = ir.var("d"), ir.const(100.0)
>>> written = ir.mul(ir.square(ir.sub(d, c)), ir.square(ir.add(d, c)))
>>> d2 = ir.square(d)
>>> expanded = ir.add(ir.mul(ir.sub(d2, ir.const(20000.0)), d2), ir.const(1e8))
>>> keeps_accuracy(written, expanded)
False
>>> keeps_accuracy(expanded, written)
True
"""
from __future__ import annotations

import math
import struct
from typing import Any, Callable, Optional, Sequence

from ... import ir
from ...ir.ops import OPS, SCALARS
from .powers import lower_powers

ULPS = 4.0  # the "few ulps" a rewrite may add
OFFSETS = (23, 22, 21, 19, 17, 14, 11, 8, 6, 4)  # neighbours s*(1 +- 2^-j) of a special point
ZERO_OFFSETS = (1, 3, 6, 10, 14, 20, 30, 50, 80, 126)  # and +-2^-j around 0
GRID = tuple(-(2.0 ** (k / 2)) for k in range(80, -49, -1)) + (0.0,) + tuple(
    2.0 ** (k / 2) for k in range(-48, 81))
THINNED = GRID[::6]
LINE_VALUES = (0.0, 1.0, -3.25, 1000.0)  # the other variables, for a region in several
FLOAT32_MAX = 3.4028234663852886e38
UNIT = 2.0 ** -24  # float32's unit roundoff: the most a step may round, relatively
TINY = 2.0 ** -150  # and absolutely, near 0 (half the smallest subnormal)
DEFAULT_BUDGET = 4_000_000  # node evaluations, when the caller gives no budget
BUILD_COST = 8  # node evaluations one node's share of building the program is counted as
BISECTIONS = 80
CLOSE_ENOUGH = 2.0 ** -30  # a special point found to this relative width is found
GOLDEN_STEPS = 60

_F32 = struct.Struct("<f")


class Budget:
    """How many node evaluations the gate may still spend (over a whole loss).

    When it runs out, every further rewrite is refused: keeping a region as
    written is always allowed, and the check stays bounded in time.
    """

    def __init__(self, evaluations: int) -> None:
        self.remaining = evaluations

    def spend(self, evaluations: int) -> None:
        self.remaining -= evaluations
        if self.remaining < 0:
            raise _Exhausted


class _Exhausted(Exception):
    """The gate's budget ran out."""


def keeps_accuracy(written: ir.Node, candidate: ir.Node, budget: Optional[Budget] = None) -> bool:
    """Whether ``candidate`` is as accurate in float32 as ``written`` (same function), probed."""
    budget = budget if budget is not None else Budget(DEFAULT_BUDGET)
    if budget.remaining <= 0:
        return False
    roots = (lower_powers(written), lower_powers(candidate))
    variables = sorted(ir.variables(roots[0]) | ir.variables(roots[1]))
    if not variables:
        return True
    program = _Program(roots, variables)
    try:
        budget.spend(BUILD_COST * len(program.code))  # building it walked the nodes a few times
        return all(_keeps_on(program, line, budget) for line in _lines(len(variables)))
    except _Exhausted:
        return False


def _keeps_on(program: "_Program", line: tuple[int, float], budget: Budget) -> bool:
    """The test along one line of the inputs."""
    def value(x: float) -> float:
        budget.spend(program.first)
        return program.value(_point(line, x))

    for x in probes(value):
        budget.spend(len(program.code))
        (fw, _, written), (_, candidate, _) = program.bounds(_point(line, x))
        if not written < math.inf:
            continue  # float32 overflows as written too (inf, or inf*0): nothing to keep
        if not candidate <= 2.0 * written + ULPS * ulp32(fw):  # NaN fails too
            return False
    return True


def f32(x: float) -> float:
    """``x`` rounded to float32 (to nearest even), as a Python float; inf beyond its range."""
    try:
        return _F32.unpack(_F32.pack(x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def ulp32(x: float) -> float:
    """The spacing of float32 numbers at ``x``."""
    x = abs(x)
    if x < 2.0 ** -126:
        return 2.0 ** -149
    if x > FLOAT32_MAX:
        return math.inf
    return 2.0 ** (math.frexp(x)[1] - 24)


def probes(f: Callable[[float], float]) -> list[float]:
    """Float32 points where a rewrite of ``f`` could lose accuracy (see the module docstring)."""
    out = set(f32(x) for x in THINNED)
    for s in special_points(f):
        s32 = f32(s)
        if s32 == 0.0:
            out.add(0.0)
            out.update(sign * 2.0 ** -j for j in ZERO_OFFSETS for sign in (1.0, -1.0))
            continue
        out.add(s32)
        out.update(f32(s32 * (1.0 + sign * 2.0 ** -j)) for j in OFFSETS for sign in (1.0, -1.0))
    return sorted(x for x in out if math.isfinite(x))


def special_points(f: Callable[[float], float]) -> list[float]:
    """0, the roots of ``f`` and the local minima of |f| over GRID (f in float64)."""
    ys = [_safe(f, x) for x in GRID]
    points = [0.0]
    for i in range(len(GRID) - 1):
        y0, y1 = ys[i], ys[i + 1]
        if math.isnan(y0) or math.isnan(y1):
            continue
        if y0 == 0.0:
            points.append(GRID[i])
        elif y1 != 0.0 and (y0 > 0) != (y1 > 0):
            points.append(_bisect(f, GRID[i], GRID[i + 1], y0))
    size = [abs(y) if not math.isnan(y) else math.inf for y in ys]
    for i in range(1, len(GRID) - 1):
        if 0.0 < size[i] <= min(size[i - 1], size[i + 1]) < math.inf:
            points.append(_golden_minimum(lambda x: abs(_safe(f, x)), GRID[i - 1], GRID[i + 1]))
    return points


def _safe(f: Callable[[float], float], x: float) -> float:
    y = f(x)
    return y if math.isfinite(y) else math.nan


def _bisect(f: Callable[[float], float], a: float, b: float, fa: float) -> float:
    for _ in range(BISECTIONS):
        m = 0.5 * (a + b)
        if abs(b - a) <= abs(m) * CLOSE_ENOUGH or m in (a, b):
            break  # far below float32's resolution: the probes around it do the rest
        fm = _safe(f, m)
        if math.isnan(fm):
            break
        if (fm > 0) == (fa > 0):
            a, fa = m, fm
        else:
            b = m
    return 0.5 * (a + b)


def _golden_minimum(g: Callable[[float], float], a: float, b: float) -> float:
    """A local minimum of g in [a, b] (NaN counts as large)."""
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    gc, gd = _large_if_nan(g(c)), _large_if_nan(g(d))
    for _ in range(GOLDEN_STEPS):
        if not a < c < d < b or b - a <= abs(c) * CLOSE_ENOUGH:
            break
        if gc < gd:
            b, d, gd = d, c, gc
            c = b - ratio * (b - a)
            gc = _large_if_nan(g(c))
        else:
            a, c, gc = c, d, gd
            d = a + ratio * (b - a)
            gd = _large_if_nan(g(d))
    return 0.5 * (a + b)


def _large_if_nan(y: float) -> float:
    return math.inf if math.isnan(y) else y


def _lines(count: int) -> list[tuple[int, float]]:
    """(the variable that moves, the value of the others)."""
    if count == 1:
        return [(0, 0.0)]
    return [(i, fixed) for i in range(count) for fixed in LINE_VALUES]


def _point(line: tuple[int, float], x: float) -> list[float]:
    moving, fixed = line
    return [x if i == moving else fixed for i in range(3)]


# A straight-line program over both roots, interpreted in two ways ---------------

_CONST, _VAR, _ADD, _SUB, _NEG, _MUL, _SQUARE, _ABS, _OTHER = range(9)
_CODES = {"add": _ADD, "sub": _SUB, "neg": _NEG, "mul": _MUL, "square": _SQUARE, "abs": _ABS}


class _Program:
    """The nodes of both roots, each once, in an order that evaluates arguments first."""

    def __init__(self, roots: Sequence[ir.Node], variables: list[str]) -> None:
        order: list[ir.Node] = []
        seen: set[int] = set()
        for root in roots:
            for node in ir.topological(root):
                if id(node) not in seen:
                    seen.add(id(node))
                    order.append(node)
            if root is roots[0]:
                self.first = len(order)  # the first root needs these nodes only
        index = {id(node): i for i, node in enumerate(order)}
        self.code: list[tuple[int, int, int, Any]] = []
        for node in order:
            args = [index[id(a)] for a in node.args] + [-1, -1]
            if node.op == "const":
                self.code.append((_CONST, 0, 0, float(node.value)))  # type: ignore[arg-type]
            elif node.op == "var":
                self.code.append((_VAR, variables.index(node.value), 0, 0.0))
            elif node.op in _CODES:
                self.code.append((_CODES[node.op], args[0], args[1], 0.0))
            else:  # an atom such as min or huber, the same in both forms: by its meaning
                self.code.append((_OTHER, args[0], args[1], node))
        self.roots = [index[id(root)] for root in roots]

    def value(self, point: list[float]) -> float:
        """The first root's value in float64."""
        v = [0.0] * self.first
        for k, (op, a, b, c) in enumerate(self.code[:self.first]):
            if op == _CONST:
                v[k] = c
            elif op == _VAR:
                v[k] = point[a]
            elif op == _ADD:
                v[k] = v[a] + v[b]
            elif op == _SUB:
                v[k] = v[a] - v[b]
            elif op == _NEG:
                v[k] = -v[a]
            elif op == _MUL:
                v[k] = v[a] * v[b]
            elif op == _SQUARE:
                v[k] = v[a] * v[a]
            elif op == _ABS:
                v[k] = abs(v[a])
            else:
                v[k] = _meaning(c, v, a, b)
        return v[self.roots[0]]

    def bounds(self, point: list[float]) -> list[tuple[float, float, float]]:
        """(float32 value, running error bound, first-order error bound) of each root.

        Both bounds follow float32's own steps. The running bound adds at each
        step the rounding it actually makes there (|float32 result - exact
        result of its float32 arguments|, exact in float64), so exact steps
        (x*0.5, a Sterbenz subtraction) add nothing; the first-order bound adds
        the most a step could round, UNIT*|result|, and so does not depend on
        the luck of one point.
        """
        n = len(self.code)
        v, run, first = [0.0] * n, [0.0] * n, [0.0] * n
        for k, (op, a, b, c) in enumerate(self.code):
            if op == _CONST:
                v[k] = f32(c)
                run[k] = first[k] = abs(v[k] - c)
                continue
            if op == _VAR:  # the inputs as the cell has them (d rounded alike in both forms)
                v[k], run[k], first[k] = f32(point[a]), 0.0, 0.0
                continue
            if op == _NEG or op == _ABS:
                v[k], run[k], first[k] = (-v[a] if op == _NEG else abs(v[a])), run[a], first[a]
                continue
            if op == _OTHER:
                exact = _meaning(c, v, a, b)
                grown = _spread(c, v, run, a, b), _spread(c, v, first, a, b)
            elif op == _ADD or op == _SUB:
                exact = v[a] + v[b] if op == _ADD else v[a] - v[b]
                grown = run[a] + run[b], first[a] + first[b]
            elif op == _MUL:
                exact = v[a] * v[b]
                grown = (abs(v[a]) * run[b] + abs(v[b]) * run[a] + run[a] * run[b],
                         abs(v[a]) * first[b] + abs(v[b]) * first[a] + first[a] * first[b])
            else:  # square
                exact = v[a] * v[a]
                grown = (2.0 * abs(v[a]) * run[a] + run[a] * run[a],
                         2.0 * abs(v[a]) * first[a] + first[a] * first[a])
            v[k] = f32(exact)
            if math.isfinite(v[k]):
                run[k] = grown[0] + abs(v[k] - exact)
                first[k] = grown[1] + UNIT * abs(v[k]) + TINY
            else:
                run[k] = first[k] = math.inf
        return [(v[r], run[r], first[r]) for r in self.roots]


def _meaning(node: ir.Node, v: list[float], a: int, b: int) -> float:
    """An atom's value from its arguments' (its row of the op table, in Python floats)."""
    args = (v[a],) if b < 0 else (v[a], v[b])
    try:
        return float(OPS[node.op].meaning(SCALARS, *args, node.value))
    except (OverflowError, ZeroDivisionError, ValueError):
        return math.nan


def _spread(node: ir.Node, v: list[float], e: list[float], a: int, b: int) -> float:
    """How far an atom's value moves when its arguments move by their errors (the corners)."""
    centre = _meaning(node, v, a, b)
    moved = list(v)
    out = 0.0
    for sa in (-1.0, 1.0):
        for sb in ((-1.0, 1.0) if b >= 0 else (0.0,)):
            moved[a] = v[a] + sa * e[a]
            if b >= 0:
                moved[b] = v[b] + sb * e[b]
            out = max(out, abs(_meaning(node, moved, a, b) - centre))
    return out
