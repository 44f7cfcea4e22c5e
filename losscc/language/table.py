"""The formula language in one table: its functions, variables and constants.

Both front ends read this table and nothing else: ``losscc.language.to_ir``
(what ``losscc compile`` lowers exactly) and ``losscc.language.to_sympy``
(what ``losscc taylor`` approximates). A function with an IR builder is
compiled exactly; one without is analytic, for the Taylor route only.
Adding a function is adding a row (and, for compile, an IR builder).

SymPy builders take the ``sympy`` module as their first argument, so that
this table, like the compile path, never imports SymPy itself.

>>> FUNCTIONS["square"].signature
'square(x)'
>>> sorted(name for name, f in FUNCTIONS.items() if f.to_ir is not None)
['abs', 'mul', 'square']
>>> VARIABLE_NAMES["logits"]
'pred'
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

from ..ir import nodes as ir


@dataclass(frozen=True)
class Param:
    """One parameter of a function."""

    name: str


@dataclass(frozen=True)
class Function:
    name: str
    params: tuple[Param, ...]
    to_sympy: Callable[..., Any]  # (sympy, *args) -> expression
    to_ir: Optional[Callable[..., ir.Node]] = None  # (*args) -> IR; None: analytic only

    @property
    def arity(self) -> int:
        return len(self.params)

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(p.name for p in self.params)})"

    @property
    def exact(self) -> bool:
        """Compiled exactly by ``losscc compile`` (otherwise: ``losscc taylor`` only)."""
        return self.to_ir is not None


X, Y = Param("x"), Param("y")


def _analytic(name: str) -> Function:
    """A function SymPy knows by the same name, of one argument."""
    return Function(name, (X,), lambda sp, x: getattr(sp, name)(x))


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in [
        Function("abs", (X,), lambda sp, x: sp.Abs(x), ir.abs_),
        Function("square", (X,), lambda sp, x: x**2, ir.square),
        Function("mul", (X, Y), lambda sp, x, y: x * y, ir.mul),
        *(_analytic(name) for name in ("exp", "log", "sqrt", "cosh", "sinh", "tanh", "sin",
                                        "cos", "atan", "erf")),
    ]
}

# Every name a formula may give an input, and the IR variable it means: d is
# prediction - target; the others are the names MindSpore and the seed article
# give the two inputs.
VARIABLE_NAMES = {
    "d": "d", "pred": "pred", "target": "target",
    "logits": "pred", "base": "pred", "labels": "target", "label": "target",
}


@dataclass(frozen=True)
class Constant:
    name: str
    value: float
    to_sympy: Callable[[Any], Any]  # (sympy) -> the exact constant


CONSTANTS = {c.name: c for c in [
    Constant("pi", math.pi, lambda sp: sp.pi),
    Constant("E", math.e, lambda sp: sp.E),
]}

INPUTS_HINT = ("the inputs are d (= pred - target), pred (or logits, base) and target "
               "(or labels, label)")


def check_table() -> None:
    """Every name means one thing, and every variable name is an IR variable."""
    kinds = [set(FUNCTIONS), set(VARIABLE_NAMES), set(CONSTANTS)]
    for i, a in enumerate(kinds):
        for b in kinds[i + 1:]:
            assert not a & b, f"names with two meanings: {sorted(a & b)}"
    assert set(VARIABLE_NAMES.values()) == set(ir.VARIABLES)


check_table()
