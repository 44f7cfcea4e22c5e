"""A proven bound on the float32 rounding error of a compiled polynomial.

>>> from losscc import ir
>>> bound = rounding_bound(ir.mul(ir.const(0.1), ir.var("d")), 1.0)
>>> 1.4e-9 < bound < 1e-8  # float32(0.1) is 1.5e-9 off, and the product rounds
True
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
from mpmath import iv

from .. import ir
from ..floats import FLOAT32_MIN_SUBNORMAL, FLOAT32_UNIT
from ..ir.interpret import interpret
from .number_systems import upper_float

ROUNDING_PIECES = 8  # the bound is the worst over this many pieces of [-r, r]
U = iv.mpf(FLOAT32_UNIT)


class Rounded:
    """An interval holding an operation's exact value, and a bound on the computed one's error.

    Each operation adds u * (|V| + e) (Higham's standard model, u = 2^-24); a
    product also the smallest subnormal, for underflow; abs and negation are exact.
    """

    __slots__ = ("value", "error")

    def __init__(self, value: Any, error: Any) -> None:
        self.value, self.error = value, error

    def _sum(self, other: "Rounded", value: Any) -> "Rounded":
        e1, e2 = self.error, other.error
        return Rounded(value, e1 + e2 + U * (abs(value).b + e1 + e2))

    def __add__(self, other: "Rounded") -> "Rounded":
        return self._sum(other, self.value + other.value)

    def __sub__(self, other: "Rounded") -> "Rounded":
        return self._sum(other, self.value - other.value)

    def __neg__(self) -> "Rounded":
        return Rounded(-self.value, self.error)

    def __abs__(self) -> "Rounded":
        return Rounded(abs(self.value), self.error)

    def _product(self, other: "Rounded", value: Any) -> "Rounded":
        (v1, e1), (v2, e2) = (self.value, self.error), (other.value, other.error)
        err = abs(v1).b * e2 + abs(v2).b * e1 + e1 * e2
        return Rounded(value, err + U * (abs(value).b + err) + FLOAT32_MIN_SUBNORMAL)

    def __mul__(self, other: "Rounded") -> "Rounded":
        return self._product(other, self.value * other.value)

    def __pow__(self, n: int) -> "Rounded":
        raise AssertionError("a power left in a compiled polynomial: lower it first")


ROUNDED = SimpleNamespace(abs=abs, square=lambda x: x._product(x, x.value**2))


def rounding_bound(root: ir.Node, r: float) -> float:
    """A bound on |float32 program - exact program| for |d| <= r.

    A running error analysis (``Rounded``) of the program's operations, with
    each constant's rounding to float32 as its initial error. On pieces of
    the range V is tight, so the bound follows the program's real
    intermediate values rather than the sum of |c_k| r^k.
    """
    edges = np.linspace(-r, r, ROUNDING_PIECES + 1)
    worst = 0.0
    for a, b in zip(edges, edges[1:]):
        def leaf(node: ir.Node, a: float = float(a), b: float = float(b)) -> Rounded:
            if node.op == "var":
                return Rounded(iv.mpf([a, b]), iv.mpf(0))
            c = float(node.value)
            return Rounded(iv.mpf(c), iv.mpf(abs(float(np.float32(c)) - c)))

        worst = max(worst, upper_float(interpret(root, ROUNDED, leaf).error))
    return worst
