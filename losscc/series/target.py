"""What to approximate: a formula or SymPy expression → f of one variable (d, or abs(d)).

``prepare`` checks, before any series is computed, that every operation on
the variable has a series rule, and finds f's parity (an even f keeps only
even powers, an odd f only odd ones).

>>> prepare("log(cosh(pred - target))").parity
2
>>> prepare("log(1 + abs(d))").atom_text
'abs(d)'
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

import sympy as sp

from .. import ir
from ..errors import LossccError, closest
from ..ir.interpret import symbols
from ..language.table import FUNCTIONS, VARIABLE_NAMES
from ..language.to_sympy import Parsed, formula_to_sympy
from ..limits import MAX_EXPONENT, MAX_SYMBOLIC_BITS, MAX_SYMBOLIC_DEPTH, MAX_SYMBOLIC_NODES
from .number_systems import DPS, HIGH, DomainError, MpfKit
from .recurrences import RULES, power_series

# What a series expands anywhere: the smooth functions, and abs, square, mul (the
# selections and robust losses only on a range inside one piece).
ANALYTIC = [name for name, f in FUNCTIONS.items()
            if not f.exact or name in ("abs", "square", "mul")]


@dataclass(frozen=True)
class Target:
    """f as a function of one variable x: d, or a = abs(d) for the Abs route."""

    label: str  # the formula as the user gave it
    expr: Any  # SymPy, in x
    x: Any
    through_abs: bool  # x = abs(d): the program computes abs(d) once
    parity: int  # 0 none, 1 odd, 2 even (in d; 0 on the Abs route)
    parsed: Optional[Parsed]

    @property
    def atom(self) -> ir.Node:
        """x as IR: the program's polynomial is in this node."""
        d = ir.var("d")
        return ir.abs_(d) if self.through_abs else d

    @property
    def atom_text(self) -> str:
        """x as the report writes it."""
        return "abs(d)" if self.through_abs else "d"

    def error(self, message: str, at: Any = None, hint: Optional[str] = None) -> LossccError:
        """A LossccError about f, positioned in the formula (at ``at``) when there is one."""
        if self.parsed is not None:
            return self.parsed.error(message, at, hint)
        return LossccError(message, hint=hint, source="expression")


ABS_VARIABLE = sp.Symbol("a", nonnegative=True)


def prepare(expr: Any, span: Optional[float] = None) -> Target:
    """A formula string or SymPy expression → the Target to approximate.

    ``span``: the finite range [-span, span] the approximation is for, if known. A
    selection or robust loss (huber, min, clip, ...) whose one piece holds on all of it
    is replaced by that piece: huber(d, 1) on [-1, 1] is d^2/2, analytic there.
    """
    parsed = None
    if isinstance(expr, str):
        parsed = formula_to_sympy(expr)
        label, f = expr, parsed.expr
    elif isinstance(expr, sp.Basic):
        check_expression(expr)  # before anything walks it: SymPy recurses
        label, f = sp.sstr(expr), _own_symbols(expr)
    else:
        raise LossccError(f"expected a formula (a string) or a SymPy expression, "
                          f"got {type(expr).__name__}", source="expression")

    def fail(message: str, at: Any = None, hint: Optional[str] = None) -> LossccError:
        return Target(label, f, None, False, 0, parsed).error(message, at, hint)

    s = symbols()
    d, pred, target = s["d"], s["pred"], s["target"]
    if f.free_symbols & {pred, target}:
        f = f.subs(pred, target + d)
        if target in f.free_symbols:
            f = sp.expand(f)
        if target in f.free_symbols:
            raise fail("the loss depends on pred and target separately, not only on their "
                       "difference", hint="losscc taylor approximates a function of "
                       "d = pred - target; write the loss in d")
    if span is not None and math.isfinite(span) and f.has(sp.Piecewise, sp.Min, sp.Max, sp.Abs):
        f = _one_piece(f, d, sp.Interval.open(-sp.Rational(span), sp.Rational(span)))
    if d not in f.free_symbols:
        raise fail("the loss does not depend on the prediction",
                   hint="a loss must use d or pred (its gradient would be zero)")
    for bad in f.atoms(sp.Abs):
        if bad.args[0] != d:
            raise fail(f"abs({sp.sstr(bad.args[0])}) cannot be expanded", at=bad,
                       hint="a truncated series needs a smooth function of d, or one of "
                       "abs(d) alone (expanded in a = |d|, e.g. log(1 + abs(d)))")
    if f.atoms(sp.Abs):
        g = f.subs(sp.Abs(d), ABS_VARIABLE)
        if d in g.free_symbols:
            if _parity(f, d) != 2:
                raise fail("the loss uses abs(d) and also d on its own",
                           hint="the Abs route expands in a = |d| and needs f(-d) = f(d); "
                           "write d^2 as abs(d)^2, or use a smooth loss")
            g = g.subs(d, ABS_VARIABLE)
        _check_expandable(g, ABS_VARIABLE, fail)
        return Target(label, g, ABS_VARIABLE, True, 0, parsed)
    _check_expandable(f, d, fail)
    return Target(label, f, d, False, _parity(f, d), parsed)


def check_expression(expr: Any) -> None:
    """Refuse a SymPy expression beyond the limits a formula string has, or not a real function.

    One iterative walk, stopped at the first problem: at most MAX_SYMBOLIC_NODES
    nodes, nested at most MAX_SYMBOLIC_DEPTH deep, integers and rationals of at
    most MAX_SYMBOLIC_BITS bits, and every constant part a finite real number.

    >>> check_expression(sp.exp(-sp.Symbol("d")**2))
    >>> check_expression(sp.I * sp.Symbol("d"))
    Traceback (most recent call last):
    ...
    losscc.errors.LossccError: error: the constant I is not a finite real number
    hint: a loss takes real values
    """
    seen = 0
    stack = [(expr, 1)]
    while stack:  # sizes first: SymPy's own walks (free_symbols, sstr) recurse
        node, depth = stack.pop()
        seen += 1
        if seen > MAX_SYMBOLIC_NODES:
            raise _too_big(f"the expression has more than {MAX_SYMBOLIC_NODES} parts",
                           f"losscc takes expressions of at most {MAX_SYMBOLIC_NODES} parts")
        if depth > MAX_SYMBOLIC_DEPTH:
            raise _too_big(f"the expression is nested more than {MAX_SYMBOLIC_DEPTH} deep",
                           f"losscc takes at most {MAX_SYMBOLIC_DEPTH} nested calls and powers")
        if not isinstance(node, sp.Basic):
            raise _too_big(f"the expression holds a {type(node).__name__}, not SymPy terms",
                           "give a SymPy expression in d")
        if node.is_Pow and node.exp.is_Number and abs(node.exp) > MAX_EXPONENT:
            # 2**(10**300) unevaluated: anything that evaluates it never returns
            power = sp.sstr(node.exp)
            shown = power if len(power) <= 20 else f"{power[:8]}... ({len(power)} characters)"
            raise _too_big(f"the expression raises to the power {shown}",
                           f"losscc takes exponents up to {MAX_EXPONENT}")
        bits = max(abs(node.p).bit_length(), node.q.bit_length()) if node.is_Rational else 0
        if bits > MAX_SYMBOLIC_BITS:
            raise _too_big(f"the expression holds a number of more than {MAX_SYMBOLIC_BITS} bits",
                           "float32 holds nothing that large or that fine: round it")
        stack.extend((arg, depth + 1) for arg in node.args)
    stack = [expr]
    while stack:
        node = stack.pop()
        if node.free_symbols:
            stack.extend(node.args)
        else:
            _check_constant(node)


def _check_constant(node: Any) -> None:
    """A part without variables must be a finite real number (not I, oo, nan, AccumBounds)."""
    finite_real = node.is_number and node.is_extended_real and node.is_finite
    if finite_real is None:  # SymPy cannot tell: evaluate it
        value = node.evalf(15)
        finite_real = value.is_Float and value.is_finite
    if not finite_real:
        raise LossccError(f"the constant {sp.sstr(node)} is not a finite real number",
                          hint="a loss takes real values", source="expression")


def _too_big(message: str, hint: str) -> LossccError:
    return LossccError(message, hint=hint, source="expression")


def _check_expandable(f: Any, x: Any, fail: Callable) -> None:
    """Every operation on x must have a series rule (a SymPy input may hold any function)."""
    node = _unexpandable(f, x)
    if node is not None:
        if isinstance(node, (sp.Piecewise, sp.Min, sp.Max)):
            raise fail("this part of the loss changes piece (a kink of a selection or robust "
                       "loss) inside the range: no series holds across a kink", at=node,
                       hint="give a --range inside one piece (huber(d, delta): --range delta), "
                       "or compile the loss exactly with `losscc compile`")
        name = getattr(node.func, "__name__", type(node).__name__)
        raise fail(f"losscc taylor cannot expand {name}(...)", at=node,
                   hint=f"it expands {', '.join(ANALYTIC)}, sums, products, quotients and "
                   "powers, and a selection or robust loss on a --range inside one of its "
                   "pieces")


def _one_piece(f: Any, d: Any, interval: Any) -> Any:
    """``f`` with each selection (Piecewise, Min, Max, and Abs of anything but d itself,
    in d alone) replaced by the piece that holds on all of the open ``interval``; one
    that changes piece inside is left as it is. The selections are continuous, so a
    piece that only touches the interval's ends (min(d^2, 1) on [-1, 1]) changes
    nothing there."""
    def choose(node: Any) -> Any:
        if isinstance(node, sp.Abs) and node.args[0] == d:
            return node  # the Abs route expands in |d|
        pieces = (node.rewrite(sp.Piecewise) if isinstance(node, (sp.Min, sp.Max))
                  else sp.Piecewise((node.args[0], node.args[0] >= 0), (-node.args[0], True))
                  if isinstance(node, sp.Abs) else node)
        if not isinstance(pieces, sp.Piecewise) or pieces.free_symbols != {d}:
            return node
        for value, condition in pieces.args:
            try:
                where = sp.S.Reals if condition is sp.true else condition.as_set()
            except (NotImplementedError, TypeError, ValueError):
                return node
            if where.is_superset(interval) is True:
                return value
            if where.intersect(interval) is not sp.S.EmptySet:
                return node  # the piece changes inside the range (or SymPy cannot tell)
        return node

    return f.replace(lambda n: isinstance(n, (sp.Piecewise, sp.Min, sp.Max, sp.Abs)), choose)


def _unexpandable(f: Any, x: Any) -> Any:
    """The first operation on x without a series rule, or None."""
    for node in sp.preorder_traversal(f):
        if node != x and x in node.free_symbols and type(node) not in RULES:
            return node
    return None


def _own_symbols(expr: Any) -> Any:
    """A user's SymPy expression with its symbols replaced by ours (by name)."""
    s = symbols()
    mapping = {}
    for sym in expr.free_symbols:
        name = VARIABLE_NAMES.get(sym.name, sym.name)
        if name not in s:
            guess = closest(sym.name, list(VARIABLE_NAMES))
            raise LossccError(f"unknown variable '{sym.name}' in the expression",
                              hint=(f"did you mean '{guess}'? " if guess else "")
                              + "the variables are d, pred and target", source="expression")
        mapping[sym] = s[name]
    return expr.xreplace(mapping)


def _parity(f: Any, x: Any) -> int:
    """2 if f(-x) = f(x), 1 if f(-x) = -f(x), else 0: structurally, else at sample points."""
    mirrored = f.subs(x, -x)
    if mirrored == f:
        return 2
    if mirrored == -f:
        return 1
    for parity, combined in ((2, mirrored - f), (1, mirrored + f)):
        if _vanishes(combined, f, x):
            return parity
    return 0


def _vanishes(g: Any, f: Any, x: Any) -> bool:
    """g = 0 at a few points (to DPS digits): f(-x) -/+ f(x) that SymPy did not cancel."""
    if _unexpandable(f, x) is not None:
        return False
    kit = MpfKit()
    for point in ("0.3141", "0.7071", "1.1892", "-0.5772", "0.0917"):
        at = HIGH.mpf(point)
        try:
            value = power_series(g, x, at, 0, kit)[0]
            scale = abs(power_series(f, x, at, 0, kit)[0])
        except (DomainError, ZeroDivisionError):
            return False
        if abs(value) > (1 + scale) * HIGH.mpf(10) ** (10 - DPS):
            return False
    return True
