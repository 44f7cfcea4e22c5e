"""What every transformer of the formula grammar shares.

``losscc.lower`` gives a parse tree the compiler's meaning (IR) and
``losscc.symbolic`` the Taylor route's (SymPy). Both keep the formula text
for positioned errors, both check calls against a table of
``name -> (arity, builder, signature)``, and both must let their LossccErrors
through lark's VisitError wrapper.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from lark import Token, Transformer_NonRecursive, v_args
from lark.exceptions import VisitError

from .errors import LossccError

FunctionTable = dict[str, tuple[int, Callable[..., Any], str]]


@v_args(meta=True)  # lark wraps a class's own methods only: subclasses say it again
class FormulaTransformer(Transformer_NonRecursive):
    """Base class: subclasses set FUNCTIONS and decorate themselves with v_args(meta=True)."""

    FUNCTIONS: FunctionTable = {}

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def _error(self, message: str, start: int, end: int, hint: Optional[str] = None) -> LossccError:
        return LossccError(message, text=self.text, start=start, end=end, hint=hint)

    def arguments(self, meta: Any, children: list) -> list:
        return children

    def _checked_call(self, meta: Any, children: list) -> tuple[str, Callable[..., Any], list]:
        """(name, builder, arguments) of a call to a known function with the right arity."""
        token, args = children
        args = args or []
        name = str(token)
        if name not in self.FUNCTIONS:
            raise self._unknown_function(name, token)
        arity, build, signature = self.FUNCTIONS[name]
        if len(args) != arity:
            raise self._error(
                f"{name} takes {arity} argument{'s' if arity > 1 else ''}, got {len(args)}",
                meta.start_pos, meta.end_pos, hint=f"write {signature}",
            )
        return name, build, args

    def _unknown_function(self, name: str, token: Token) -> LossccError:
        raise NotImplementedError


def transform(transformer: Transformer_NonRecursive, tree: Any) -> Any:
    """Run ``transformer``, letting its LossccErrors through unwrapped."""
    try:
        return transformer.transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, LossccError):
            raise e.orig_exc from None
        raise
