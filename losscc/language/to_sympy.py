"""Parse tree → SymPy expression, for the Taylor route (``losscc taylor``).

The same grammar as ``losscc compile`` (grammar/loss.lark), a different
meaning: here every function of the language table (analytic ones too),
division by any expression and real exponents are welcome, because
``losscc.series`` turns the result into a polynomial. A flat table of small
methods, one per grammar alias, like ``losscc.language.to_ir``.

Strings are never given to ``sympify``, ``parse_expr`` or ``eval`` (which run
arbitrary code): only our parser reads them, and only the builders of the
language table make SymPy objects.

>>> formula_to_sympy("log(cosh(d)) / 2").expr
log(cosh(d))/2
>>> formula_to_sympy("sqrt(1 + square(pred - target))").expr
sqrt((pred - target)**2 + 1)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Optional

import sympy as sp
from lark import Token, v_args

from ..errors import LossccError
from ..floats import show
from ..ir.interpret import symbols
from ..limits import MAX_EXPONENT, MAX_SYMBOLIC_DEPTH, MAX_SYMBOLIC_NODES
from .parse import parse
from .table import Constant, Function
from .transformer import FormulaTransformer, transform


@dataclass(frozen=True)
class Term:
    expr: Any  # SymPy expression
    start: int
    end: int
    depth: int = 0  # nesting, as SymPy will hold it
    kind: str = "atom"  # "sum", "product" or "atom": which chains flatten
    nodes: int = 1


@dataclass(frozen=True)
class Parsed:
    """A formula's SymPy expression, with where each call came from in the text."""

    text: str
    expr: Any
    spans: dict = field(default_factory=dict)  # SymPy call -> (start, end)

    def error(self, message: str, at: Any = None, hint: Optional[str] = None) -> LossccError:
        """A LossccError pointing at the call ``at`` (or the whole formula)."""
        start, end = self.spans.get(at, (0, len(self.text.rstrip())))
        return LossccError(message, text=self.text, start=start, end=end, hint=hint)


def formula_to_sympy(text: str) -> Parsed:
    """Parse ``text`` (the formula language with analytic functions) into SymPy."""
    builder = _ToSymPy(text)
    term = transform(builder, parse(text))
    return Parsed(text, term.expr, builder.spans)


@v_args(meta=True)
class _ToSymPy(FormulaTransformer):
    def knows(self, functions: list[Function]) -> str:
        return "losscc taylor knows " + ", ".join(f.name for f in functions)

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.symbols = symbols()
        self.spans: dict = {}

    def _term(self, expr: Any, meta: Any, children: list, kind: str = "atom") -> Term:
        depth = max((c.depth + (c.kind != kind or kind == "atom") for c in children), default=0)
        nodes = 1 + sum(c.nodes for c in children)
        if depth > MAX_SYMBOLIC_DEPTH:
            raise self._error("the formula is nested too deeply", meta.start_pos, meta.end_pos,
                              hint=f"losscc takes at most {MAX_SYMBOLIC_DEPTH} nested calls "
                              "and powers")
        if nodes > MAX_SYMBOLIC_NODES:
            raise self._error("the formula is too large", meta.start_pos, meta.end_pos,
                              hint=f"losscc takes formulas of at most {MAX_SYMBOLIC_NODES} terms")
        if expr.is_number and not (expr.is_real and expr.is_finite):
            raise self._error("this is not a finite real number", meta.start_pos, meta.end_pos,
                              hint="a loss takes real values: check the signs of logarithms, "
                              "roots and divisions of constants")
        return Term(expr, meta.start_pos, meta.end_pos, depth, kind, nodes)

    # Leaves
    def number_term(self, value: float, token: Token) -> Term:
        exact = Fraction(str(token))  # the decimal as written, exactly: 0.1 is 1/10
        return Term(sp.Rational(exact.numerator, exact.denominator), token.start_pos,
                    token.end_pos)

    def variable_term(self, name: str, token: Token) -> Term:
        return Term(self.symbols[name], token.start_pos, token.end_pos)

    def constant_term(self, constant: Constant, token: Token) -> Term:
        return Term(constant.to_sympy(sp), token.start_pos, token.end_pos)

    # Arithmetic
    def add(self, meta: Any, children: list) -> Term:
        a, b = children
        return self._term(a.expr + b.expr, meta, children, "sum")

    def sub(self, meta: Any, children: list) -> Term:
        a, b = children
        return self._term(a.expr - b.expr, meta, children, "sum")

    def mul(self, meta: Any, children: list) -> Term:
        a, b = children
        return self._term(a.expr * b.expr, meta, children, "product")

    def neg(self, meta: Any, children: list) -> Term:
        (a,) = children
        return self._term(-a.expr, meta, children, "product")

    def div(self, meta: Any, children: list) -> Term:
        a, b = children
        if b.expr.is_zero:
            raise self._error("division by zero", b.start, b.end)
        return self._term(a.expr / b.expr, meta, children, "product")

    def pow(self, meta: Any, children: list) -> Term:
        base, _op, exponent = children
        n = exponent.expr
        if n.is_number:
            where = (exponent.start, exponent.end)
            if not n.is_real:
                raise self._error("the exponent is not a real number", *where)
            value = float(n)
            if abs(value) > MAX_EXPONENT:
                raise self._error(f"exponent {show(value)} is too large", *where,
                                  hint=f"losscc takes exponents up to {MAX_EXPONENT} in size")
            if base.expr.is_number:
                self._check_constant_power(base, n, meta)
        return self._term(base.expr**n, meta, [base, exponent])

    def _check_constant_power(self, base: Term, n: Any, meta: Any) -> None:
        """A power of two numbers must stay a finite real (10^300^2 does not)."""
        b = float(sp.N(base.expr, 20))
        if b == 0 and float(n) < 0:
            raise self._error("division by zero: zero to a negative power",
                              meta.start_pos, meta.end_pos)
        if b < 0 and not n.is_integer:
            raise self._error("a negative number to a fractional power is not real",
                              meta.start_pos, meta.end_pos)
        try:
            value = abs(b) ** float(n)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            raise self._error("this power overflows a 64-bit float", meta.start_pos,
                              meta.end_pos)

    # Calls
    def constant_of(self, term: Term) -> Optional[float]:
        return float(term.expr) if term.expr.is_number else None

    def call(self, meta: Any, children: list) -> Term:
        function, args, constants = self.checked_call(meta, children)
        if all(a.expr.is_number for a in args):
            self._check_constant_call(function, args, constants, meta)
        kind = "product" if function.name in ("mul", "square") else "atom"
        expr = function.to_sympy(sp, *[a.expr for a in args], **constants)
        term = self._term(expr, meta, args, kind)
        self.spans.setdefault(term.expr, (meta.start_pos, meta.end_pos))
        return term

    def _check_constant_call(self, function: Function, args: list, constants: dict,
                             meta: Any) -> None:
        """A function of numbers must be a float, found in float arithmetic.

        SymPy would keep exp(exp(exp(100))) exact and later spend hours
        evaluating it; with floats the overflow shows at once. Every constant
        argument was checked when it was built, so float() of it is quick.
        """
        try:
            value = float(function.to_sympy(sp, *[sp.Float(float(a.expr)) for a in args],
                                            **constants))
        except TypeError:  # a complex number: log(-1), sqrt(-2)
            raise self._error("this is not a finite real number", meta.start_pos, meta.end_pos,
                              hint="a loss takes real values: check the signs of logarithms "
                              "and roots of constants") from None
        except (OverflowError, ValueError):
            value = math.inf
        if not math.isfinite(value):
            raise self._error("this constant overflows a 64-bit float", meta.start_pos,
                              meta.end_pos, hint="a loss's constants must stay below about 1.8e308")
