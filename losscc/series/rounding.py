"""A proven bound on the float32 rounding error of a compiled polynomial.

>>> from losscc import ir
>>> bound = rounding_bound(ir.mul(ir.const(0.1), ir.var("d")), 1.0)
>>> 1.4e-9 < bound < 1e-8  # float32(0.1) is 1.5e-9 off, and the product rounds
True
"""
from __future__ import annotations

from typing import Any

import numpy as np
from mpmath import iv

from .. import ir
from .number_systems import upper_float

FLOAT32_UNIT = 2.0**-24  # unit roundoff of float32
FLOAT32_TINY = 2.0**-149  # smallest subnormal: the absolute error of an underflow
ROUNDING_PIECES = 8  # the bound is the worst over this many pieces of [-r, r]


def rounding_bound(root: ir.Node, r: float) -> float:
    """A bound on |float32 program - exact program| for |d| <= r.

    A running error analysis (Higham's standard model): for each operation,
    an interval V holding its exact value and a bound e on the error of the
    computed one; each operation adds u * (|V| + e) (u = 2^-24), a product
    also FLOAT32_TINY for underflow, a constant its rounding to float32. On
    pieces of the range V is tight, so the bound follows the program's real
    intermediate values rather than the sum of |c_k| r^k.
    """
    u = iv.mpf(FLOAT32_UNIT)
    edges = np.linspace(-r, r, ROUNDING_PIECES + 1)
    worst = 0.0
    for a, b in zip(edges, edges[1:]):
        done: dict[int, tuple[Any, Any]] = {}
        for node in ir.topological(root):
            args = [done[id(x)] for x in node.args]
            if node.op == "const":
                c = float(node.value)
                value, err = iv.mpf(c), iv.mpf(abs(float(np.float32(c)) - c))
            elif node.op == "var":
                value, err = iv.mpf([float(a), float(b)]), iv.mpf(0)
            elif node.op == "abs":
                value, err = abs(args[0][0]), args[0][1]
            elif node.op == "neg":
                value, err = -args[0][0], args[0][1]
            elif node.op in ("add", "sub"):
                (v1, e1), (v2, e2) = args
                value = v1 + v2 if node.op == "add" else v1 - v2
                err = e1 + e2 + u * (abs(value).b + e1 + e2)
            elif node.op in ("mul", "square"):
                (v1, e1), (v2, e2) = args if node.op == "mul" else (args[0], args[0])
                value = v1 * v2 if node.op == "mul" else v1**2
                err = abs(v1).b * e2 + abs(v2).b * e1 + e1 * e2
                err = err + u * (abs(value).b + err) + FLOAT32_TINY
            else:
                raise AssertionError(f"op {node.op!r} left in a compiled polynomial")
            done[id(node)] = (value, err)
        worst = max(worst, upper_float(done[id(root)][1]))
    return worst
