"""One table: what each IR operation means, in every language losscc speaks.

Each row gives an operation's arity, its MindSpore primitive (the class in
``mindspore.ops`` and the attribute the generated cell stores it under), its
NumPy meaning and its SymPy meaning. The evaluator, the SymPy printer and the
code emitter all read this table and nothing else, so adding an operation is
adding a row; the check at the bottom fails at import if a row is incomplete.

Library modules are passed in (``np``, ``sp``) rather than imported here, so
that compiling a formula to source never imports NumPy or SymPy.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    numpy: Callable[..., Any]  # (np, *args, value) -> array
    sympy: Callable[..., Any]  # (sp, *args, value) -> expression
    primitive: Optional[str] = None  # mindspore.ops class; None: never emitted
    attr: Optional[str] = None  # the cell attribute holding the primitive


# Leaves (const, var) are evaluated by the callers, who know the inputs.
OPS: dict[str, Op] = {
    op.name: op
    for op in [
        Op("const", 0, numpy=lambda np, v: v, sympy=lambda sp, v: sp.Float(v)),
        Op("var", 0, numpy=lambda np, v: v, sympy=lambda sp, v: v),
        Op("add", 2, lambda np, a, b, v: a + b, lambda sp, a, b, v: a + b, "Add", "add"),
        Op("sub", 2, lambda np, a, b, v: a - b, lambda sp, a, b, v: a - b, "Sub", "sub"),
        Op("neg", 1, lambda np, a, v: -a, lambda sp, a, v: -a, "Neg", "neg"),
        Op("mul", 2, lambda np, a, b, v: a * b, lambda sp, a, b, v: a * b, "Mul", "mul"),
        Op("square", 1, lambda np, a, v: a * a, lambda sp, a, v: a**2, "Square", "square"),
        Op("abs", 1, lambda np, a, v: np.abs(a), lambda sp, a, v: sp.Abs(a), "Abs", "abs"),
        # Integer power: the compiler's own shorthand, lowered to Square/Mul
        # addition chains before code is emitted (there is no ops.Pow here).
        Op("pow", 1, lambda np, a, v: a**v, lambda sp, a, v: a**v),
    ]
}

LEAVES = frozenset({"const", "var"})


def _check_table() -> None:
    for name, op in OPS.items():
        if name in LEAVES:
            assert op.arity == 0, name
            continue
        assert op.arity in (1, 2), f"op {name!r}: arity {op.arity}"
        assert callable(op.numpy) and callable(op.sympy), f"op {name!r}: missing meaning"
        assert (op.primitive is None) == (op.attr is None), f"op {name!r}: primitive xor attr"


_check_table()
