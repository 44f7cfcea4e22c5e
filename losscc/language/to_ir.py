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
from typing import Any, NamedTuple, Optional

from lark import Token, v_args

from .. import ir
from ..errors import LossccError
from ..floats import float32_trouble, show
from ..ir.interpret import fold_scalar
from ..ir.polynomial import check_degree
from ..limits import MAX_EXPONENT
from .parse import parse
from .table import FUNCTIONS, Constant, Function
from .transformer import FormulaTransformer, transform


class Term(NamedTuple):
    node: ir.Node
    start: int
    end: int
    literal: Optional[float] = None  # the value, when the term is a constant


def formula_to_ir(text: str) -> ir.Node:
    """Parse a compile formula into (unoptimised) IR; raise LossccError if it is bad."""
    term = transform(_ToIR(text), parse(text))
    check_degree(term.node, text, term.start, term.end)
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
    def accepts(self, function: Function) -> bool:
        return function.exact

    def knows(self, functions: list[Function]) -> str:
        names = [f.name for f in functions]
        return f"compile knows {', '.join(names[:-1])} and {names[-1]} (docs/grammar.md)"

    def refused_function(self, function: Function, token: Token) -> LossccError:
        return self._error(
            f"'{function.name}' is an analytic function, which compile does not take",
            token.start_pos, token.end_pos,
            hint=f"compile lowers {', '.join(f.name for f in FUNCTIONS.values() if f.exact)} "
            "and whole powers "
            f"exactly; truncate {function.name} to a polynomial with "
            f"`losscc taylor \"{self.text.strip()}\"`",
        )

    def _constant(self, value: float, start: int, end: int) -> Term:
        if not math.isfinite(value):
            raise self._error("this constant overflows a 64-bit float", start, end)
        trouble = float32_trouble(value)
        if trouble:
            raise self._error(f"the constant {value:.3g} is {trouble}", start, end,
                              hint="MindSpore computes losses in float32: scale the loss instead")
        return Term(ir.const(value), start, end, value)

    def _arith(self, meta: Any, a: Term, b: Term, build) -> Term:
        node = build(a.node, b.node)
        if a.literal is not None and b.literal is not None:
            return self._folded(node, meta)
        return Term(node, meta.start_pos, meta.end_pos)

    def _folded(self, node: ir.Node, meta: Any) -> Term:
        value = fold_scalar(node)
        return self._constant(math.inf if value is None else value, meta.start_pos, meta.end_pos)

    # Leaves
    def number_term(self, value: float, token: Token) -> Term:
        return self._constant(value, token.start_pos, token.end_pos)

    def variable_term(self, name: str, token: Token) -> Term:
        return Term(ir.var(name), token.start_pos, token.end_pos)

    def constant_term(self, constant: Constant, token: Token) -> Term:
        return self._constant(constant.value, token.start_pos, token.end_pos)

    # Arithmetic
    def add(self, meta: Any, children: list) -> Term:
        return self._arith(meta, *children, ir.add)

    def sub(self, meta: Any, children: list) -> Term:
        return self._arith(meta, *children, ir.sub)

    def mul(self, meta: Any, children: list) -> Term:
        return self._arith(meta, *children, ir.mul)

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
        return self._arith(meta, a, self._constant(1.0 / b.literal, b.start, b.end), ir.mul)

    def pow(self, meta: Any, children: list) -> Term:
        base, _op, exponent = children
        n = exponent.literal
        where = (exponent.start, exponent.end)
        if n is None:
            raise self._error("the exponent must be a constant whole number", *where,
                              hint="write the power out, e.g. d^4; for exp(...) or a^d "
                              "use `losscc taylor`")
        if n < 0:
            raise self._error(f"negative exponent {show(n)}", *where,
                              hint="1/d^k is not a polynomial: use `losscc taylor`")
        if n != int(n):
            raise self._error(f"fractional exponent {show(n)}", *where,
                              hint="compile takes whole powers; for roots such as "
                              "sqrt(1 + d^2) use `losscc taylor`")
        if n > MAX_EXPONENT:
            raise self._error(f"exponent {show(n)} is too large", *where,
                              hint=f"the largest power compile takes is {MAX_EXPONENT}")
        node = ir.pow_(base.node, int(n))
        if base.literal is not None:
            return self._folded(node, meta)
        return Term(node, meta.start_pos, meta.end_pos)

    # Calls
    def constant_of(self, term: Term) -> Optional[float]:
        return term.literal

    def call(self, meta: Any, children: list) -> Term:
        function, args, constants = self.checked_call(meta, children)
        node = function.to_ir(*[a.node for a in args], **constants)
        if all(a.literal is not None for a in args):
            return self._folded(node, meta)
        return Term(node, meta.start_pos, meta.end_pos)
