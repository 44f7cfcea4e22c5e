"""The three number systems ("kits") the power-series recurrences run on.

The recurrences (``recurrences.py``) are written once, over a kit that gives
the values of the elementary functions at a series' constant term and turns
constant SymPy subexpressions (pi, log(2), 1/3) into its own numbers:

- ``MpfKit``: mpmath floats of DPS digits, for the coefficients;
- ``IntervalKit``: mpmath intervals enclosing the true values, for the certified bound;
- ``NumpyKit``: float64 arrays (order 0 only), to evaluate f on the grid.

>>> float(MpfKit().const(sp.pi))
3.141592653589793
>>> x = IntervalKit().tanh(iv.mpf([0, 1]))
>>> x.a <= 0 and x.b >= 0.7615941559557649
True
"""
from __future__ import annotations

import functools
import math
from typing import Any, Callable

import numpy as np
import sympy as sp
from mpmath import iv
from mpmath.ctx_mp import MPContext
from mpmath.libmp import round_ceiling, round_floor, to_float

DPS = 40  # digits of the coefficient arithmetic (float32 needs 8)

HIGH = MPContext()  # a context of its own: the user's mpmath.mp.dps stays theirs
HIGH.dps = DPS


class DomainError(Exception):
    """f is not analytic (or not real) where a series was asked for."""

    def __init__(self, node: Any, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


class _Kit:
    """What every kit shares: its constants, each converted once."""

    def __init__(self) -> None:
        self.constants: dict = {}

    def const(self, expr: Any) -> Any:
        """The constant SymPy expression ``expr`` as this kit's number."""
        if expr not in self.constants:
            self.constants[expr] = self._constant(expr)
        return self.constants[expr]

    def _constant(self, expr: Any) -> Any:
        raise NotImplementedError


class MpfKit(_Kit):
    """mpmath floats of DPS digits: the coefficients. Domain errors raise DomainError."""

    def _constant(self, expr: Any) -> Any:
        return HIGH.make_mpf(_real_constant(expr, DPS + 10))

    def log(self, x: Any, node: Any = None) -> Any:
        """log(x), refused where x <= 0 (``node`` is the expression to point at)."""
        if x <= 0:
            raise DomainError(node, "the logarithm of a value <= 0")
        return HIGH.log(x)

    def power(self, x: Any, alpha: Any, node: Any = None) -> Any:
        """x^alpha for a fractional or negative alpha, refused where x <= 0."""
        if x <= 0:
            raise DomainError(node, "a fractional power of a value <= 0" if x < 0 else
                              "a fractional or negative power of 0")
        return HIGH.power(x, alpha)

    def divide_check(self, b0: Any, node: Any = None) -> None:
        """Refuse a series divided by one whose constant term ``b0`` is 0."""
        if b0 == 0:
            raise DomainError(node, "a division by 0")

    exp, sin, cos, sinh, cosh, tanh, atan, erf = (
        staticmethod(getattr(HIGH, name))
        for name in ("exp", "sin", "cos", "sinh", "cosh", "tanh", "atan", "erf"))


def _monotone(fn: Callable, x: Any) -> Any:
    """The range of the increasing ``fn`` over the interval x, outward rounded."""
    low = _widen(fn(HIGH.make_mpf(x._mpi_[0])))
    high = _widen(fn(HIGH.make_mpf(x._mpi_[1])))
    return iv.mpf([low.a, high.b])


def _widen(value: Any) -> Any:
    """An interval around a DPS-digit value, wide enough for its rounding error."""
    slack = abs(value) * HIGH.mpf(10) ** (10 - DPS) + HIGH.mpf(10) ** -300
    return iv.mpf([value - slack, value + slack])


class IntervalKit(_Kit):
    """mpmath intervals: every result encloses the true value (the bound's kit).

    mpmath.iv has rigorous exp, log, sin, cos and powers. sinh, tanh, atan and
    erf are monotone and cosh is monotone on each side of 0, so their ranges
    come from the endpoints, evaluated with DPS digits and widened by far more
    than mpmath's error there. Where f is not defined (log of an interval that
    reaches 0) the enclosure is everything, and the bound says so.
    """

    EVERYTHING = iv.mpf(["-inf", "+inf"])

    def _constant(self, expr: Any) -> Any:
        if expr.is_Rational:
            return iv.mpf(int(expr.p)) / int(expr.q)
        return _widen(HIGH.make_mpf(_real_constant(expr, DPS + 10)))

    def log(self, x: Any, node: Any = None) -> Any:
        """An enclosure of log over the interval x; everything if x reaches 0."""
        return iv.log(x) if x.a > 0 else self.EVERYTHING

    def power(self, x: Any, alpha: Any, node: Any = None) -> Any:
        """An enclosure of x^alpha over the interval x; everything if x reaches 0."""
        return iv.exp(alpha * iv.log(x)) if x.a > 0 else self.EVERYTHING

    def divide_check(self, b0: Any, node: Any = None) -> None:
        """Nothing to refuse: iv's division by an interval holding 0 is [-inf, inf]."""

    exp, sin, cos = (staticmethod(f) for f in (iv.exp, iv.sin, iv.cos))
    sinh, tanh, atan, erf = (staticmethod(functools.partial(_monotone, getattr(HIGH, name)))
                             for name in ("sinh", "tanh", "atan", "erf"))  # increasing

    def cosh(self, x: Any) -> Any:
        """An enclosure of cosh over the interval x (monotone on each side of 0)."""
        if x.a >= 0:
            return _monotone(HIGH.cosh, x)
        if x.b <= 0:
            return _monotone(HIGH.cosh, -x)
        top = _widen(HIGH.cosh(HIGH.make_mpf(abs(x)._mpi_[1])))
        return iv.mpf([1, top.b])


class NumpyKit(_Kit):
    """float64 arrays, order 0 only: f on the grid. Domain errors give NaN."""

    def _constant(self, expr: Any) -> Any:
        return to_float(_real_constant(expr, 20))

    def log(self, x: Any, node: Any = None) -> Any:
        """np.log (NaN or -inf outside its domain: the caller checks)."""
        return np.log(x)

    def power(self, x: Any, alpha: Any, node: Any = None) -> Any:
        """np.power (NaN outside its domain: the caller checks)."""
        return np.power(x, alpha)

    def divide_check(self, b0: Any, node: Any = None) -> None:
        """Nothing to refuse: a division by 0 gives inf, which the caller checks."""

    exp, sin, cos, sinh, cosh, tanh, atan = (
        staticmethod(f) for f in (np.exp, np.sin, np.cos, np.sinh, np.cosh, np.tanh, np.arctan))
    erf = staticmethod(np.vectorize(math.erf, otypes=[float]))


def upper_float(x: Any) -> float:
    """A float >= every value of the interval x.

    >>> x = iv.mpf("0.1")  # the floats either side of 1/10
    >>> lower_float(x) < 0.1 == upper_float(x)  # Python's 0.1 is the one above
    True
    """
    return to_float(x._mpi_[1], rnd=round_ceiling)


def lower_float(x: Any) -> float:
    """A float <= every value of the interval x."""
    return to_float(x._mpi_[0], rnd=round_floor)


def _real_constant(expr: Any, digits: int) -> Any:
    """The value of a constant SymPy expression as an mpmath mpf tuple; it must be real."""
    value = expr.evalf(digits)
    if not value.is_Float or not value.is_finite:
        raise DomainError(expr, f"the constant {sp.sstr(expr)} is not a finite real number")
    return value._mpf_
