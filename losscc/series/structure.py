"""The structure of a loss on all of R: f(d) = alpha*d + beta*|d| + gamma + R(d), R -> 0.

A polynomial cannot follow a loss on all of R, but a polynomial of a
*clipped* variable plus the loss's exact linear asymptote can, when the
remainder R decays. This module finds that form from the SymPy expression,
or says why there is none:

- the slopes k_s = lim f(s*u)/u and offsets b_s = lim f(s*u) - k_s*u as
  u -> +oo on each side s = +1, -1, by SymPy's ``limit`` (Gruntz's
  algorithm decides limits of exp-log expressions; an undecided or
  oscillating limit is refused);
- alpha = (k_+ - k_-)/2, beta = (k_+ + k_-)/2; the offsets must agree
  (gamma), and the odd part of f must be exactly alpha*d;
- the remainder on each side, r_s(u) = f(s*u) - k_s*u - b_s, in its stable
  form (``stable.py``), which interval arithmetic can enclose up to 3.4e38.

Refused, each with its reason: growth faster than linear (exp(d), d^2),
unbounded sublinear growth (log(1 + d^2)), an oscillating or undecided
limit (sin(d)), different constant asymptotes on the two sides (atan(d),
tanh(d)), an odd part that is not linear.

>>> from losscc.series.target import prepare
>>> s = analyze(prepare("log(cosh(d))"))
>>> s.alpha, s.beta, s.gamma, s.route
(0, 1, -log(2), 'u')
>>> describe(s.sides[1].stable)
'log1p(exp(-2*u))'
>>> analyze(prepare("1 - exp(-d^2/2)")).route
'v'
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from ..floats import FLOAT32_MAX
from .stable import MPMATH_FUNCTIONS, U, Unstable, check_identity, describe, stabilize
from .target import Target


class NoStructure(Exception):
    """f has no polynomial-plus-linear form on R: ``reason`` says why."""

    def __init__(self, reason: str, hint: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


@dataclass(frozen=True)
class Side:
    """f on one side of 0, in u = |d| > 0: f(s*u) = k*u + b + remainder(u)."""

    sign: int  # +1: d -> +oo, -1: d -> -oo
    slope: Any  # k (SymPy)
    offset: Any  # b
    remainder: Any  # r(u), as written
    stable: Any  # r(u), stable form (Log1p, Powm1)
    decay: str  # "exponential (rate 2)", "faster than exponential", "algebraic (u^-1)"

    @property
    def tail(self) -> Any:
        """f(s*u) = k*u + b + r(u), stable: what the certificate encloses beyond the clip."""
        return self.slope * U + self.offset + self.stable


@dataclass(frozen=True)
class Structure:
    """f(d) = alpha*d + beta*|d| + gamma + R(d) on R, R decaying on both sides."""

    alpha: Any
    beta: Any
    gamma: Any
    sides: dict = field(default_factory=dict)  # sign -> Side
    route: str = "u"  # "u": polynomial in min(|d|, U); "v": in min(|d|, U)^2 (smooth even R)

    def scaled(self, k: Any) -> "Structure":
        """The structure of k*f (k a nonzero number)."""
        sides = {s: Side(side.sign, k * side.slope, k * side.offset, k * side.remainder,
                         k * side.stable, side.decay) for s, side in self.sides.items()}
        return Structure(k * self.alpha, k * self.beta, k * self.gamma, sides, self.route)

    def asymptote(self) -> str:
        """alpha*d + beta*|d| + gamma, as text.

        >>> Structure(sp.Rational(1, 2), sp.Rational(1, 2), 0).asymptote()
        'd/2 + |d|/2'
        >>> Structure(sp.Rational(-1, 2), sp.Rational(1, 2), -sp.log(2)).asymptote()
        '-d/2 + |d|/2 - log(2)'
        """
        terms = []
        for coefficient, atom in ((self.alpha, "d"), (self.beta, "|d|")):
            if coefficient == 0:
                continue
            sign, size = ("-", -coefficient) if coefficient < 0 else ("", coefficient)
            text = atom if size == 1 else (f"{atom}/{sp.sstr(1 / size)}" if (1 / size).is_Integer
                                           else f"{sp.sstr(size)}*{atom}")
            terms.append(sign + text)
        if self.gamma != 0:
            terms.append(sp.sstr(self.gamma))
        text = " + ".join(terms) or "0"
        return text.replace("+ -", "- ")

    def edge(self) -> float:
        """The largest |d| where f stays within float32's range (with a margin of 2^-20):
        float32's largest number for slopes up to 1, less for steeper asymptotes.

        >>> Structure(0, sp.pi / 2, -1).edge() < 2.2e38
        True
        """
        steepest = max(abs(float(self.alpha + self.beta)), abs(float(self.beta - self.alpha)))
        if steepest <= 1:
            return FLOAT32_MAX
        return float(np.float32(FLOAT32_MAX * (1 - 2.0**-20) / steepest))

    def remainder(self) -> str:
        """The decaying remainder, in u = |d| (one text if both sides agree)."""
        plus, minus = self.sides[1], self.sides[-1]
        if sp.simplify(plus.stable - minus.stable) == 0:
            return f"{describe(plus.stable)}, decaying {plus.decay}"
        return (f"{describe(plus.stable)} for d > 0 ({plus.decay}), "
                f"{describe(minus.stable)} for d < 0 ({minus.decay})")


def side_functions(target: Target) -> dict[int, Any]:
    """f(s*u) for s = +1, -1, as SymPy expressions in u > 0."""
    if target.through_abs:
        g = target.expr.subs(target.x, U)
        return {1: g, -1: g}
    return {s: target.expr.subs(target.x, s * U) for s in (1, -1)}


def proven_even(target: Target) -> bool:
    """f(-d) = f(d), proven symbolically (the Abs route is even by construction)."""
    if target.through_abs:
        return True
    mirrored = target.expr.subs(target.x, -target.x)
    return mirrored == target.expr or _zero(mirrored - target.expr)


def proven_odd(target: Target) -> bool:
    """f(-d) = -f(d), proven symbolically.

    >>> from losscc.series.target import prepare
    >>> proven_odd(prepare("atan(d)")), proven_odd(prepare("log(cosh(d))"))
    (True, False)
    """
    if target.through_abs:
        return False
    mirrored = target.expr.subs(target.x, -target.x)
    return mirrored == -target.expr or _zero(mirrored + target.expr)


# Points where a claimed identity is tried numerically before SymPy is asked to prove it.
PROBES = ("0.3183098861", "0.7071067812", "1.6180339887")


def _zero(expr: Any) -> bool:
    """``expr`` is 0 identically, proven by SymPy, unless a numeric probe refutes it first:
    simplify can take forever (2 log(cosh(10^10 d)) has it expand cosh(10^10 d) as a
    multinomial), and most claims it would be asked to prove are false."""
    symbols = sorted(expr.free_symbols, key=str)
    for point in PROBES:
        try:
            value = expr.subs({s: sp.Float(point, 30) for s in symbols}).evalf(30)
        except (ValueError, TypeError, ArithmeticError):
            continue
        if value.is_number and value.is_finite and abs(value) > 1e-20:
            return False
    if any(abs(n) > MAX_STRUCTURE_CONSTANT for n in expr.atoms(sp.Number)):
        return False  # not proven: SymPy's proof could blow up
    return sp.simplify(expr) == 0


# SymPy's simplification combines K*log(2) into log(2^K): for a whole K of 1e5 that is
# a 30,000-digit integer, for 1e10 it never ends. A common factor is taken out before
# (its structure is the rest's, scaled); a larger constant left inside is refused.
MAX_STRUCTURE_CONSTANT = 10_000


def analyze(target: Target) -> Structure:
    """The structure of f on R, or NoStructure with the reason."""
    content, rest = target.expr.as_content_primitive()
    if content != 1 and content.is_Rational and rest.free_symbols:
        try:
            return analyze(replace(target, expr=rest)).scaled(content)
        except NoStructure as e:
            raise NoStructure(f"{e.reason} (for the loss divided by {sp.sstr(content)})",
                              e.hint) from None
    big = [n for n in target.expr.atoms(sp.Number) if abs(n) > MAX_STRUCTURE_CONSTANT]
    if big:
        raise NoStructure(
            f"it holds the constant {sp.sstr(max(big, key=abs))}: losscc looks for structure "
            f"only with constants of at most {MAX_STRUCTURE_CONSTANT} in magnitude (beyond a "
            "common factor), as SymPy's simplification can build numbers like 2^K from them",
            "rescale the variable or the terms, or approximate it on a finite --range")
    return _analyze(target)


def _analyze(target: Target) -> Structure:
    x = target.x
    if target.expr.is_polynomial(x):
        degree = sp.degree(target.expr, x)
        raise NoStructure(
            f"the loss is a polynomial of degree {degree}" + (
                ": it grows faster than linearly, so no clipped approximation holds on R"
                if degree > 1 else ""),
            "compile it exactly with `losscc compile`, no approximation needed")
    functions = side_functions(target)
    sides = {}
    for s, f in functions.items():
        where = "+oo" if s > 0 else "-oo"
        k = _limit(f / U, where)
        if not k.is_finite:
            raise NoStructure(
                f"the loss grows faster than linearly as d -> {where} (f/d -> {sp.sstr(s * k)}): "
                "no polynomial plus linear asymptote, so a clipped approximation has an "
                "unbounded relative error there",
                "approximate it on a finite --range instead")
        b = _limit(f - k * U, where)
        if not b.is_finite:
            raise NoStructure(
                f"the loss grows without bound but more slowly than linearly as d -> {where}"
                f" ({'f' if k == 0 else f'f - {sp.sstr(k)}*|d|'} -> {sp.sstr(b)}, "
                "logarithmically, say): "
                "no linear-plus-constant asymptote, so clipping costs a relative error that "
                "tends to 1",
                "approximate it on a finite --range instead")
        remainder = sp.simplify(f - k * U - b)
        try:
            stable = sp.expand(stabilize(f) - k * U - b)
            check_identity(remainder, stable)
        except Unstable as e:
            raise NoStructure(f"its remainder beyond the asymptote cannot be enclosed: {e}",
                              "approximate it on a finite --range instead") from None
        sides[s] = Side(s, k, b, remainder, stable, _decay(stable))
    plus, minus = sides[1], sides[-1]
    if sp.simplify(plus.offset - minus.offset) != 0:
        raise NoStructure(
            f"the constant terms of its asymptotes differ ({sp.sstr(plus.offset)} as d -> +oo, "
            f"{sp.sstr(minus.offset)} as d -> -oo): that needs a two-sided clip, which losscc "
            "does not build", "approximate it on a finite --range instead")
    alpha = sp.nsimplify((plus.slope - minus.slope) / 2)
    beta = sp.nsimplify((plus.slope + minus.slope) / 2)
    odd = functions[1] - functions[-1] - 2 * alpha * U  # f(u) - f(-u) - 2 alpha u
    if not (sp.simplify(odd) == 0 or _vanishes(odd)):
        raise NoStructure(
            f"its odd part f(d) - f(-d) is not linear ({sp.sstr(sp.simplify(odd))} at d = u > 0): "
            "that needs a two-sided clip, which losscc does not build",
            "approximate it on a finite --range instead")
    # beta = 0 and f smooth in d: f - alpha*d is a smooth even function, a polynomial in
    # min(|d|, U)^2 follows it. Otherwise the remainder has a kink at 0 (g'(0) != 0) that
    # cancels beta*|d|'s, and only a polynomial in min(|d|, U) can follow it.
    route = "v" if beta == 0 and not target.through_abs else "u"
    return Structure(alpha, beta, plus.offset, sides, route)


def _limit(e: Any, where: str) -> Any:
    try:
        value = sp.limit(e, U, sp.oo)
    except (NotImplementedError, ValueError, TypeError, RecursionError) as exc:
        raise NoStructure(f"SymPy cannot decide the limit as d -> {where} ({exc})",
                          "approximate it on a finite --range instead") from None
    if isinstance(value, sp.AccumBounds) or value.has(sp.Limit) or value is sp.nan:
        raise NoStructure(f"the loss has no limit behaviour as d -> {where} (it oscillates, or "
                          f"SymPy cannot decide: {sp.sstr(value)})",
                          "approximate it on a finite --range instead")
    return value


def _vanishes(e: Any) -> bool:
    """e(u) = 0 at a few points to 40 digits (the odd part where simplify gives up)."""
    fn = sp.lambdify(U, e, MPMATH_FUNCTIONS)
    with mpmath.workdps(50):
        return all(abs(fn(mpmath.mpf(x))) < mpmath.mpf(10) ** -40 for x in ("0.3", "1.7", "23"))


def _decay(stable: Any) -> str:
    """How the remainder decays, read off its values at u = 1e3, 2e3, 4e3, 8e3 (60 digits):
    exponentially (rate), faster, or algebraically (order). Descriptive only: the
    certificate encloses the remainder itself."""
    fn = sp.lambdify(U, stable, MPMATH_FUNCTIONS)
    with mpmath.workdps(60):
        try:
            logs = [mpmath.log(abs(fn(mpmath.mpf(u)))) for u in (1000, 2000, 4000, 8000)]
        except (ValueError, ZeroDivisionError, TypeError):
            return "(rate unknown)"
        steps = [b - a for a, b in zip(logs, logs[1:])]
        orders = [float(step / mpmath.log(2)) for step in steps]
        rates = [float(-step / u) for step, u in zip(steps, (1000, 2000, 4000))]
    steady = all(math.isfinite(p) for p in orders) and abs(orders[2] - orders[1]) < 0.02
    if steady and orders[2] < 0:
        return f"algebraically (like u^{orders[2]:.3g})"
    if all(math.isfinite(r) for r in rates) and rates[2] > 0:
        if abs(rates[2] - rates[1]) < 0.02 * rates[2]:
            rate = f"{rates[2]:.3g}"
            return f"exponentially (like exp(-{'' if rate == '1' else rate + '*'}u))"
        if rates[2] > 1.5 * rates[1]:
            return "faster than exponentially"
    return "(rate unknown)"
