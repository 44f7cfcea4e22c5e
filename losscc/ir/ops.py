"""One table: what each IR operation means, how it prints, what MindSpore calls it.

Each row gives an operation's arity, its meaning, its text in messages and
``--ir``, and its MindSpore primitive (the class in ``mindspore.ops`` and the
attribute the generated cell stores it under). Everything that walks the IR
reads this table (``losscc.ir.interpret``, the code emitter, the scheduler),
so adding an operation is adding a row; ``check_table`` below runs at import
and fails loudly on an incomplete row.

The meaning is written once, for any number system: ``meaning(lib, *args,
value)`` uses only ``+ - *``, ``**`` by a whole number and the two functions
``lib.abs`` and ``lib.square``. ``lib`` is the number system's namespace:
Python floats for constant folding, NumPy for evaluation, SymPy for the
symbolic form, intervals for rounding analysis (see ``losscc.ir.interpret``).
Nothing here imports NumPy or SymPy, so compiling a formula to source never does.

>>> OPS["square"].meaning(SCALARS, 3.0, None)
9.0
>>> OPS["sub"].text(("d", "1.0"), None)
'(d - 1.0)'
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable, Optional

Value = Any  # a const's number, a var's name, a pow's exponent; None otherwise


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    meaning: Optional[Callable[..., Any]]  # (lib, *args, value) -> result; None for leaves
    text: Callable[[tuple, Value], str]  # (argument texts, value) -> text
    primitive: Optional[str] = None  # mindspore.ops class; None: never emitted
    attr: Optional[str] = None  # the cell attribute holding the primitive


def _call(name: str) -> Callable[[tuple, Value], str]:
    return lambda a, v: f"{name}({', '.join(a)})"


# Python floats: the number system of constant folding.
SCALARS = SimpleNamespace(abs=abs, square=lambda x: x * x)

OPS: dict[str, Op] = {
    op.name: op
    for op in [
        # Leaves: their values come from the caller (a constant's number, an input array).
        Op("const", 0, None, lambda a, v: f"{v!r}"),
        Op("var", 0, None, lambda a, v: str(v)),
        Op("add", 2, lambda lib, a, b, v: a + b, lambda a, v: f"({a[0]} + {a[1]})", "Add", "add"),
        Op("sub", 2, lambda lib, a, b, v: a - b, lambda a, v: f"({a[0]} - {a[1]})", "Sub", "sub"),
        Op("neg", 1, lambda lib, a, v: -a, lambda a, v: f"-{a[0]}", "Neg", "neg"),
        Op("mul", 2, lambda lib, a, b, v: a * b, lambda a, v: f"{a[0]}*{a[1]}", "Mul", "mul"),
        Op("square", 1, lambda lib, a, v: lib.square(a), _call("square"), "Square", "square"),
        Op("abs", 1, lambda lib, a, v: lib.abs(a), _call("abs"), "Abs", "abs"),
        # Integer power: the compiler's own shorthand, lowered to Square/Mul along
        # addition chains before code is emitted (there is no ops.Pow here).
        Op("pow", 1, lambda lib, a, v: a**v, lambda a, v: f"{a[0]}^{v}"),
    ]
}

LEAVES = frozenset(name for name, op in OPS.items() if op.arity == 0)


def check_table() -> None:
    """Every row complete: leaves have no meaning, operations have one, primitives an attribute."""
    for name, op in OPS.items():
        assert op.name == name, name
        if op.arity == 0:
            assert op.meaning is None and op.primitive is None, f"leaf {name!r} with a meaning"
            continue
        assert op.arity in (1, 2), f"op {name!r}: arity {op.arity}"
        assert callable(op.meaning) and callable(op.text), f"op {name!r}: missing meaning or text"
        assert (op.primitive is None) == (op.attr is None), f"op {name!r}: primitive xor attr"


check_table()
