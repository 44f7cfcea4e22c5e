"""Parse tree → IR, checking everything ``losscc compile`` cannot take.

A flat table of small methods, one per grammar alias (see grammar/loss.lark).
Each returns a Term: the IR node, where it came from in the text (for error
messages) and, when the term is a constant, its value, so that ``/ 2`` and
``^ (2*2)`` can be checked before any IR pass runs.

>>> from losscc.ir import describe
>>> describe(formula_to_ir("square(d) / 2"))
'square(d)*0.5'
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

from lark import Token, v_args

from . import ir
from .errors import LossccError, closest
from .parse import parse
from .transformer import FormulaTransformer, transform

MAX_EXPONENT = 1024

# name -> (arity, builder, how to call it)
FUNCTIONS = {
    "abs": (1, ir.abs_, "abs(x)"),
    "square": (1, ir.square, "square(x)"),
    "mul": (2, ir.mul, "mul(x, y)"),
}
CONSTANTS = {"pi": math.pi, "E": math.e}
# Functions of the Taylor route (losscc.symbolic); compile names them to help.
ANALYTIC = ("exp", "log", "sqrt", "cosh", "sinh", "tanh", "sin", "cos", "atan", "erf")


@dataclass(frozen=True)
class Term:
    node: ir.Node
    start: int
    end: int
    literal: Optional[float] = None  # the value, when the term is a constant


def formula_to_ir(text: str) -> ir.Node:
    """Parse a compile formula into (unoptimised) IR; raise LossccError if it is bad."""
    term = transform(_ToIR(text), parse(text))
    variables = ir.variables(term.node)
    if not variables & {"d", "pred"}:
        depends = " and ".join(sorted(variables)) if variables else "nothing"
        raise LossccError(
            "the loss does not depend on the prediction", text=text, start=term.start,
            end=term.end, hint=f"it depends on {depends}: a loss must use d or pred "
            "(gradients with respect to the prediction would be zero)",
        )
    return term.node


@v_args(meta=True)
class _ToIR(FormulaTransformer):
    FUNCTIONS = FUNCTIONS

    def _constant(self, value: float, start: int, end: int) -> Term:
        if not math.isfinite(value):
            raise self._error("this constant overflows a 64-bit float", start, end)
        trouble = ir.float32_trouble(value)
        if trouble:
            raise self._error(f"the constant {value:.3g} is {trouble}", start, end,
                              hint="MindSpore computes losses in float32: scale the loss instead")
        return Term(ir.const(value), start, end, value)

    def _arith(self, meta: Any, a: Term, b: Term, build, fold) -> Term:
        if a.literal is not None and b.literal is not None:
            return self._constant(fold(a.literal, b.literal), meta.start_pos, meta.end_pos)
        return Term(build(a.node, b.node), meta.start_pos, meta.end_pos)

    # Leaves
    def number(self, meta: Any, children: list) -> Term:
        (token,) = children
        value = float(token)
        if value == 0 and any(ch in "123456789" for ch in token.lower().split("e")[0]):
            raise self._error("this constant underflows to 0", token.start_pos, token.end_pos,
                              hint="write 0 if you mean zero")
        return self._constant(value, token.start_pos, token.end_pos)

    def variable(self, meta: Any, children: list) -> Term:
        (token,) = children
        name = ir.ALIASES.get(str(token), str(token))
        if name in ir.VARIABLES:
            return Term(ir.var(name), token.start_pos, token.end_pos)
        if name in CONSTANTS:
            return self._constant(CONSTANTS[name], token.start_pos, token.end_pos)
        if name in FUNCTIONS or name in ANALYTIC:
            raise self._error(f"'{name}' is a function, not a variable", token.start_pos,
                              token.end_pos, hint=f"call it: {name}(d)")
        known = [*ir.VARIABLES, *ir.ALIASES, *CONSTANTS]
        guess = closest(name, known)
        raise self._error(
            f"unknown variable '{name}'", token.start_pos, token.end_pos,
            hint=(f"did you mean '{guess}'? " if guess else "")
            + "the inputs are d (= pred - target), pred (or logits, base) and "
            "target (or labels, label)",
        )

    # Arithmetic
    def add(self, meta: Any, children: list) -> Term:
        return self._arith(meta, *children, ir.add, lambda x, y: x + y)

    def sub(self, meta: Any, children: list) -> Term:
        return self._arith(meta, *children, ir.sub, lambda x, y: x - y)

    def mul(self, meta: Any, children: list) -> Term:
        return self._arith(meta, *children, ir.mul, lambda x, y: x * y)

    def neg(self, meta: Any, children: list) -> Term:
        (a,) = children
        if a.literal is not None:
            return self._constant(-a.literal, meta.start_pos, meta.end_pos)
        return Term(ir.neg(a.node), meta.start_pos, meta.end_pos)

    def div(self, meta: Any, children: list) -> Term:
        a, b = children
        if b.literal is None:
            raise self._error(
                "division by an expression that is not a constant", b.start, b.end,
                hint="compile divides only by numbers (a polynomial stays a polynomial); "
                "for rational losses such as d^2/(1+d^2) use `losscc taylor`",
            )
        if b.literal == 0:
            raise self._error("division by zero", b.start, b.end)
        return self._arith(meta, a, self._constant(1.0 / b.literal, b.start, b.end),
                           ir.mul, lambda x, y: x * y)

    def pow(self, meta: Any, children: list) -> Term:
        base, _op, exponent = children
        n = exponent.literal
        where = (exponent.start, exponent.end)
        if n is None:
            raise self._error("the exponent must be a constant whole number", *where,
                              hint="write the power out, e.g. d^4; for exp(...) or a^d "
                              "use `losscc taylor`")
        if n < 0:
            raise self._error(f"negative exponent {_show(n)}", *where,
                              hint="1/d^k is not a polynomial: use `losscc taylor`")
        if n != int(n):
            raise self._error(f"fractional exponent {_show(n)}", *where,
                              hint="compile takes whole powers; for roots such as "
                              "sqrt(1 + d^2) use `losscc taylor`")
        if n > MAX_EXPONENT:
            raise self._error(f"exponent {_show(n)} is too large", *where,
                              hint=f"the largest power compile takes is {MAX_EXPONENT}")
        if base.literal is not None:
            try:
                value = base.literal ** int(n)
            except OverflowError:
                value = math.inf
            return self._constant(value, meta.start_pos, meta.end_pos)
        return Term(ir.pow_(base.node, int(n)), meta.start_pos, meta.end_pos)

    # Calls
    def call(self, meta: Any, children: list) -> Term:
        name, build, args = self._checked_call(meta, children)
        if all(a.literal is not None for a in args):
            value = {"abs": lambda x: abs(x), "square": lambda x: x * x,
                     "mul": lambda x, y: x * y}[name](*[a.literal for a in args])
            return self._constant(value, meta.start_pos, meta.end_pos)
        return Term(build(*[a.node for a in args]), meta.start_pos, meta.end_pos)

    def _unknown_function(self, name: str, token: Token) -> LossccError:
        where = (token.start_pos, token.end_pos)
        if name in ANALYTIC:
            return self._error(
                f"'{name}' is an analytic function, which compile does not take", *where,
                hint=f"compile lowers abs, square, mul and whole powers exactly; truncate "
                f"{name} to a polynomial with `losscc taylor \"{self.text.strip()}\"`",
            )
        if name in ir.VARIABLES or name in ir.ALIASES:
            return self._error(f"'{name}' is a variable, not a function", *where,
                               hint=f"multiply with '*': {name}*(...)")
        guess = closest(name, [*FUNCTIONS, *ANALYTIC])
        return self._error(
            f"unknown function '{name}'", *where,
            hint=(f"did you mean '{guess}'? " if guess else "")
            + "compile knows abs(x), square(x) and mul(x, y)",
        )


def _show(x: float) -> str:
    return str(int(x)) if x == int(x) and abs(x) < 1e16 else repr(x)
