"""A proven bound on |float32 program - exact program| for d in a ball, two ways.

The model: IEEE binary32, round to nearest. An Add or Sub rounds its exact
result z to fl(z) with |fl(z) - z| <= u|z| (u = 2^-24; a subnormal result
is exact); a Mul or Square with |fl(z) - z| <= u|z| + 2^-150 (underflow); a
Mul by a power of two only underflows; Abs and Neg are exact, and so is a
ramp s + |s| (0 or 2s). Any |z| that can reach 2^128(1 - 2^-25) overflows:
then there is no bound (inf). The input d is the float32 the cell receives,
and the constants are the float32 numbers the cell holds.

``running``: for every operation, a ball V of its exact value, a ball C of
its *computed* value and a bound e on |computed - exact| (Higham's running
error analysis, carrying C too: a ramp whose computed and exact inputs are
both <= 0 is exactly 0, so the clip of a cell at d = 1e38 carries no error
into the polynomial).

``adjoint``: first-order sharp, yet rigorous (FPTaylor-like). The computed
result is Out(delta), each operation's rounding a perturbation
|delta_i| <= u; by the mean value theorem (Clarke's generalised gradients
for Abs), |Out(delta) - Out(0)| <= sum_i u sup|adj_i| sup|z_i|, plus
2^-150 sup|adj_i| per Mul, with adj_i = dOut/d(op i) from a reverse pass and
z_i the value before rounding, both enclosed over the box V +- e of the
running analysis, which holds every perturbed state. It is much tighter for
Clenshaw's recurrence, whose errors partly cancel.

``rounding_error`` returns the smaller of the two.

>>> from losscc import ir
>>> from .straight_line import Line
>>> line = Line.of(ir.add(ir.mul(ir.const(0.1), ir.var("d")), ir.const(1.0)))
>>> with precision(bits=96):
...     e = rounding_error(line, hull(0, 1))
>>> 2**-24 * 1.1 < upper(e) < 2**-24 * 1.2 + 1e-12
True
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .. import floats
from .balls import arb, hull, precision, upper
from .straight_line import Line

__all__ = ["Running", "adjoint", "precision", "rounding_error", "running"]

# losscc.floats' limits as balls (exact: they are binary numbers)
UNIT = arb(floats.FLOAT32_UNIT)
UNDERFLOW = arb(floats.FLOAT32_MIN_SUBNORMAL) / 2  # a product's absolute error there
OVERFLOW = arb(floats.FLOAT32_MAX) + UNIT * arb(2) ** 127  # rounds to inf from here on
FLOAT32_MAX = arb(floats.FLOAT32_MAX)


def _power_of_two(x: Any) -> bool:
    return isinstance(x, float) and x != 0 and math.frexp(abs(x))[0] == 0.5


def _rounded(z: Any, product: bool) -> Any:
    """A ball holding fl(z) for every z in the ball z (round to nearest: monotone, keeps signs)."""
    lo, hi = z.lower(), z.upper()
    slack = UNDERFLOW if product else arb(0)
    new_lo, new_hi = lo - UNIT * abs(lo) - slack, hi + UNIT * abs(hi) + slack
    if hi <= 0:
        new_hi = arb(0).min(new_hi)
    if lo >= 0:
        new_lo = arb(0).max(new_lo)
    return hull(new_lo, new_hi)


def _exact_rounding(step: Any) -> bool:
    """A Mul by a power of two: exact but for underflow."""
    return step.op == "mul" and any(_power_of_two(a) for a in step.args)


@dataclass
class Running:
    """The running analysis of one ball of d: per operation V, C, e (and z, before rounding)."""

    exact: list  # V
    computed: list  # C
    error: list  # e
    before: list  # z: the exact operation on the computed inputs
    overflow: bool


def running(line: Line, x: Any) -> Running:
    """Higham's running error analysis, with the computed values' enclosures."""
    V: list = []
    C: list = []
    E: list = []
    Z: list = []

    def get(a: Any) -> tuple:
        if isinstance(a, int):
            return V[a], C[a], E[a]
        if isinstance(a, str):
            return x, x, arb(0)
        c = arb(a)
        return c, c, arb(0)

    overflow = False
    for i, step in enumerate(line.steps):
        ops = [get(a) for a in step.args]
        z = None
        if i in line.ramps:
            v_s, c_s, e_s = get(line.ramps[i])
            v = hull(2 * arb(0).max(v_s.lower()), 2 * arb(0).max(v_s.upper()))
            c = hull(2 * arb(0).max(c_s.lower()), 2 * arb(0).max(c_s.upper()))
            exactly_zero = c_s.upper() <= 0 and v_s.upper() <= 0
            e = arb(0) if exactly_zero else 2 * e_s
            if not c.abs_upper() < OVERFLOW:
                overflow = True
        elif step.op in ("abs", "neg"):
            (v0, c0, e0), = ops
            v, c, e = (abs(v0), abs(c0), e0) if step.op == "abs" else (-v0, -c0, e0)
        elif step.op in ("add", "sub"):
            (v0, c0, e0), (v1, c1, e1) = ops
            g = 1 if step.op == "add" else -1
            v, z = v0 + g * v1, c0 + g * c1
            e = e0 + e1 + UNIT * z.abs_upper()
            c = _rounded(z, False)
        else:  # mul, square
            (v0, c0, e0), (v1, c1, e1) = ops * 2 if step.op == "square" else ops
            if step.op == "square":
                v, z = abs(v0) * abs(v0), abs(c0) * abs(c0)
            else:
                v, z = v0 * v1, c0 * c1
            e = v0.abs_upper() * e1 + v1.abs_upper() * e0 + e0 * e1 + UNDERFLOW
            if not _exact_rounding(step):
                e = e + UNIT * z.abs_upper()
            c = _rounded(z, True)
        if z is not None:
            if not z.abs_upper() < OVERFLOW:
                overflow = True
            box = hull(-FLOAT32_MAX, FLOAT32_MAX)
            if c.overlaps(box):
                c = c.intersection(box)
        near = hull(v.lower() - e, v.upper() + e)  # the computed value is within e of V
        if c.overlaps(near):
            c = c.intersection(near)
        V.append(v)
        C.append(c)
        E.append(e)
        Z.append(z)
    return Running(V, C, E, Z, overflow)


def adjoint(line: Line, x: Any, run: Running) -> Any:
    """The first-order (mean value) bound over the box V +- e of ``run``."""
    W = [hull(v.lower() - e, v.upper() + e) for v, e in zip(run.exact, run.error)]

    def box(a: Any) -> Any:
        return W[a] if isinstance(a, int) else x if isinstance(a, str) else arb(a)

    n = len(line.steps)
    adj = [arb(0)] * n
    adj[n - 1] = arb(1)
    total = arb(0)
    for i in range(n - 1, -1, -1):
        step, a = line.steps[i], adj[i]
        ws = [box(b) for b in step.args]
        rounds = step.op in ("add", "sub", "mul", "square") and i not in line.ramps
        if rounds and not _exact_rounding(step):
            if step.op == "square":
                z = abs(ws[0]) * abs(ws[0])
            elif step.op == "mul":
                z = ws[0] * ws[1]
            else:
                z = ws[0] + ws[1] if step.op == "add" else ws[0] - ws[1]
            total = total + UNIT * a.abs_upper() * z.abs_upper()
        if step.op in ("mul", "square"):
            total = total + UNDERFLOW * a.abs_upper()
        if step.op == "abs":
            w = ws[0]
            g = arb(1) if w >= 0 else arb(-1) if w <= 0 else hull(-1, 1)
            grads = [a * g]
        elif step.op == "neg":
            grads = [-a]
        elif step.op == "add":
            grads = [a, a]
        elif step.op == "sub":
            grads = [a, -a]
        elif step.op == "square":
            grads = [2 * a * ws[0]]
        else:
            grads = [a * ws[1], a * ws[0]]
        for b, g in zip(step.args, grads):
            if isinstance(b, int):
                adj[b] = adj[b] + g
    return total


def rounding_error(line: Line, x: Any) -> Any:
    """A bound on |float32 program - exact program| over the ball x (inf on overflow)."""
    run = running(line, x)
    if run.overflow:
        return arb.pos_inf()
    first = run.error[-1]
    second = adjoint(line, x, run)
    if not second.is_finite():
        return first
    return second if upper(second) < upper(first) else first
