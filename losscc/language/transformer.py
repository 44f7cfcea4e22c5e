"""What both front ends of the formula grammar share: the table, and one set of errors.

``losscc.language.to_ir`` gives a parse tree the compiler's meaning (IR) and
``losscc.language.to_sympy`` the Taylor route's (SymPy). Both look names up
in ``losscc.language.table``, both report the same mistakes (unknown names,
wrong arguments, numbers that under- or overflow) the same way, at the same
place in the formula, and both must let their LossccErrors through lark's
VisitError wrapper (``transform``).
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple, Optional

from lark import Token, Transformer_NonRecursive, v_args
from lark.exceptions import VisitError

from ..errors import LossccError, closest
from ..floats import show
from .table import CONSTANTS, FUNCTIONS, INPUTS_HINT, VARIABLE_NAMES, Constant, Function


class Keyword(NamedTuple):
    """An argument given by name: huber(d, delta=0.5)."""

    name: Token
    value: Any  # the front end's term
    start: int
    end: int


@v_args(meta=True)  # lark wraps a class's own methods only: subclasses say it again
class FormulaTransformer(Transformer_NonRecursive):
    """Base class of the front ends; subclasses decorate themselves with v_args(meta=True).

    A subclass says how to build a variable (``variable_term``), a named
    constant (``constant_term``) and a number (``number_term``), and which
    functions it takes (``accepts``).
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def _error(self, message: str, start: int, end: int, hint: Optional[str] = None) -> LossccError:
        return LossccError(message, text=self.text, start=start, end=end, hint=hint)

    # What a subclass provides.

    def accepts(self, function: Function) -> bool:
        return True

    def variable_term(self, name: str, token: Token) -> Any:
        raise NotImplementedError

    def constant_term(self, constant: Constant, token: Token) -> Any:
        raise NotImplementedError

    def number_term(self, value: float, token: Token) -> Any:
        raise NotImplementedError

    def refused_function(self, function: Function, token: Token) -> LossccError:
        """The error for a function of the table that this front end does not take."""
        raise NotImplementedError

    # Leaves, shared.

    def arguments(self, meta: Any, children: list) -> list:
        return children

    def number(self, meta: Any, children: list) -> Any:
        (token,) = children
        value = float(token)
        where = (token.start_pos, token.end_pos)
        if not math.isfinite(value):
            raise self._error("this constant overflows a 64-bit float", *where)
        if value == 0 and any(ch in "123456789" for ch in token.lower().split("e")[0]):
            raise self._error("this constant underflows to 0", *where,
                              hint="write 0 if you mean zero")
        return self.number_term(value, token)

    def variable(self, meta: Any, children: list) -> Any:
        (token,) = children
        name = str(token)
        where = (token.start_pos, token.end_pos)
        if name in VARIABLE_NAMES:
            return self.variable_term(VARIABLE_NAMES[name], token)
        if name in CONSTANTS:
            return self.constant_term(CONSTANTS[name], token)
        if name in FUNCTIONS:
            raise self._error(f"'{name}' is a function, not a variable", *where,
                              hint=f"call it: {name}(d)")
        guess = closest(name, [*VARIABLE_NAMES, *CONSTANTS])
        raise self._error(
            f"unknown variable '{name}'", *where,
            hint=(f"did you mean '{guess}'? " if guess else "") + INPUTS_HINT
            + "; the constants are " + " and ".join(CONSTANTS),
        )

    def keyword(self, meta: Any, children: list) -> "Keyword":
        name, value = children
        return Keyword(name, value, meta.start_pos, meta.end_pos)

    def constant_of(self, term: Any) -> Optional[float]:
        """The value of a term that is a constant, else None."""
        raise NotImplementedError

    def checked_call(self, meta: Any, children: list) -> tuple[Function, list, dict]:
        """A call to a function this front end takes, rightly called.

        Returns the function, the terms of its expression parameters (in order)
        and the values of its constant parameters, by name, each checked.
        """
        token, args = children
        args = args or []
        name = str(token)
        where = (token.start_pos, token.end_pos)
        function = FUNCTIONS.get(name)
        if function is None:
            if name in VARIABLE_NAMES:
                raise self._error(f"'{name}' is a variable, not a function", *where,
                                  hint=f"multiply with '*': {name}*(...)")
            known = [f for f in FUNCTIONS.values() if self.accepts(f)]
            guess = closest(name, [f.name for f in FUNCTIONS.values()])
            raise self._error(
                f"unknown function '{name}'", *where,
                hint=(f"did you mean '{guess}'? " if guess else "") + self.knows(known),
            )
        if not self.accepts(function):
            raise self.refused_function(function, token)
        bound = self._bind(function, args, meta)
        terms, constants = [], {}
        for param in function.params:
            term = bound.get(param.name)
            if not param.constant:
                terms.append(term)
                continue
            value = param.default if term is None else self.constant_of(term)
            if value is None:
                raise self._error(
                    f"{function.name}'s {param.name} must be a constant", term.start, term.end,
                    hint=f"a parameter is a number (or arithmetic on numbers): "
                    f"{function.signature}")
            why = param.check(value) if param.check else None
            if why:
                at = (term.start, term.end) if term is not None else where
                raise self._error(f"{function.name}'s {param.name} {why}, got {show(value)}",
                                  *at, hint=f"write {function.signature}"
                                  + (f": {function.doc}" if function.doc else ""))
            constants[param.name] = value
        why = function.check(**constants) if function.check else None
        if why:
            raise self._error(f"{function.name} {why}", meta.start_pos, meta.end_pos,
                              hint=f"write {function.signature}")
        return function, terms, constants

    def _bind(self, function: Function, args: list, meta: Any) -> dict:
        """Each argument to its parameter, by position then by name (as Python does)."""
        name, params = function.name, function.params
        positional = [a for a in args if not isinstance(a, Keyword)]
        keywords = [a for a in args if isinstance(a, Keyword)]
        simple = not keywords and function.required == function.arity
        if simple and len(positional) != function.arity:
            arity = function.arity
            raise self._error(
                f"{name} takes {arity} argument{'s' if arity > 1 else ''}, got {len(args)}",
                meta.start_pos, meta.end_pos, hint=f"write {function.signature}",
            )
        first_keyword = next((i for i, a in enumerate(args) if isinstance(a, Keyword)), len(args))
        late = [a for a in args[first_keyword:] if not isinstance(a, Keyword)]
        if late:
            raise self._error("an argument by position after one by name", late[0].start,
                              late[0].end, hint=f"write {function.signature}")
        if len(positional) > function.arity:
            extra = positional[function.arity]
            raise self._error(f"{name} takes at most {function.arity} arguments, got "
                              f"{len(positional)}", extra.start, positional[-1].end,
                              hint=f"write {function.signature}")
        bound = {p.name: a for p, a in zip(params, positional)}
        names = [p.name for p in params]
        for k in keywords:
            key = str(k.name)
            if key not in names:
                guess = closest(key, names)
                raise self._error(
                    f"{name} has no parameter '{key}'", k.name.start_pos, k.name.end_pos,
                    hint=(f"did you mean '{guess}'? " if guess else "")
                    + f"write {function.signature}")
            if key in bound:
                raise self._error(f"{name}'s {key} is given twice", k.start, k.end,
                                  hint=f"write {function.signature}")
            bound[key] = k.value
        missing = [p.name for p in params if p.name not in bound and p.default is None]
        if missing:
            raise self._error(
                f"{name} needs {' and '.join(missing)}", meta.start_pos, meta.end_pos,
                hint=f"write {function.signature}"
                + (f": {function.doc}" if function.doc else ""))
        return bound

    def knows(self, functions: list[Function]) -> str:
        """The hint that lists the functions this front end takes."""
        raise NotImplementedError


def transform(transformer: Transformer_NonRecursive, tree: Any) -> Any:
    """Run ``transformer``, letting its LossccErrors through unwrapped."""
    try:
        return transformer.transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, LossccError):
            raise e.orig_exc from None
        raise
