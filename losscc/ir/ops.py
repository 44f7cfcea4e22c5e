"""One table: what each IR operation means, how it prints, what MindSpore calls it.

Each row gives an operation's arity, its meaning, its text in messages and
``--ir``, and its MindSpore primitive (the class in ``mindspore.ops`` and the
attribute the generated cell stores it under). Everything that walks the IR
reads this table (``losscc.ir.interpret``, the code emitter, the scheduler),
so adding an operation is adding a row; ``check_table`` below runs at import
and fails loudly on an incomplete row.

The meaning is written once, for any number system: ``meaning(lib, *args,
value)`` uses only ``+ - *``, ``**`` by a whole number and the functions
``lib.abs``, ``lib.square``, ``lib.minimum`` and ``lib.maximum``, with
constants made by ``lib.number`` (exact rationals in SymPy, say). ``lib`` is
the number system's namespace:
Python floats for constant folding, NumPy for evaluation, SymPy for the
symbolic form, intervals for rounding analysis (see ``losscc.ir.interpret``).
Nothing here imports NumPy or SymPy, so compiling a formula to source never does.

>>> OPS["square"].meaning(SCALARS, 3.0, None)
9.0
>>> OPS["sub"].text(("d", "1.0"), None)
'(d - 1.0)'
>>> OPS["huber"].text(("d",), (0.5,))
'huber(d, 0.5)'
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Callable, NamedTuple, Optional

from ..floats import literal

Value = Any  # a const's number, a var's name, a pow's exponent; None otherwise


class Op(NamedTuple):
    name: str
    arity: int
    meaning: Optional[Callable[..., Any]]  # (lib, *args, value) -> result; None for leaves
    text: Callable[[tuple, Value], str]  # (argument texts, value) -> text
    primitive: Optional[str] = None  # mindspore.ops class; None: never emitted
    attr: Optional[str] = None  # the cell attribute holding the primitive


def _call(name: str) -> Callable[[tuple, Value], str]:
    """The text name(args, parameters): the op's value holds its constant parameters."""
    return lambda a, v: f"{name}({', '.join([*a, *(literal(p) for p in (v or ()))])})"


# Python floats: the number system of constant folding.
SCALARS = SimpleNamespace(abs=abs, square=lambda x: x * x, minimum=min, maximum=max,
                          number=float)


# The robust losses, by their definitions (docs/grammar.md gives their sources).
# Each is lowered into Abs/Square/Mul by a float32-stable form before code is
# emitted (losscc.compiler.passes.robust); this is what that form must equal.

def _huber(lib: Any, x: Any, delta: float, scale: float = 1.0) -> Any:
    """0.5 x^2 for |x| <= delta, else delta (|x| - delta/2); divided by ``scale``."""
    half, delta, scale = lib.number(0.5), lib.number(delta), lib.number(scale)
    a = lib.abs(x)
    m = lib.minimum(a, delta)
    # delta * max(a - delta, 0), not delta * (a - m): its derivative does not cancel
    # (1e16 - (1e16 - 3) in float64), where the branches meet or far from there
    return (half * lib.square(m) + delta * lib.maximum(a - delta, lib.number(0.0))) / scale


def _pinball(lib: Any, x: Any, tau: float) -> Any:
    """max(-tau x, (1 - tau) x), for x = prediction - target."""
    tau = lib.number(tau)
    return lib.maximum(-tau * x, (lib.number(1.0) - tau) * x)


def _eps_insensitive(lib: Any, x: Any, eps: float) -> Any:
    """max(|x| - eps, 0)."""
    return lib.maximum(lib.abs(x) - lib.number(eps), lib.number(0.0))


def _tukey(lib: Any, x: Any, c: float) -> Any:
    """c^2/6 (1 - (1 - (x/c)^2)^3) for |x| <= c, else c^2/6."""
    c, three = lib.number(c), lib.number(3.0)
    t = lib.square(lib.minimum(lib.abs(x), c) / c)
    # 1 - (1 - t)^3 = t (3 - t (3 - t)): no cancellation where t is tiny
    return c * c / lib.number(6.0) * (t * (three - t * (three - t)))

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
        # Selections and robust losses: lowered into Abs/Square/Mul/Add/Sub by
        # float32-stable forms before code is emitted. Constant parameters are
        # the value: clip's (lo, hi), huber's (delta,), ...
        Op("min", 2, lambda lib, a, b, v: lib.minimum(a, b), _call("min")),
        Op("max", 2, lambda lib, a, b, v: lib.maximum(a, b), _call("max")),
        Op("clip", 1, lambda lib, a, v: lib.minimum(lib.maximum(a, lib.number(v[0])),
                                                    lib.number(v[1])), _call("clip")),
        Op("huber", 1, lambda lib, a, v: _huber(lib, a, *v), _call("huber")),
        # smooth_l1(x, beta) is huber(x, beta) / beta (the same kinks, the slope 1 far out)
        Op("smooth_l1", 1, lambda lib, a, v: _huber(lib, a, v[0], v[0]), _call("smooth_l1")),
        Op("pinball", 1, lambda lib, a, v: _pinball(lib, a, *v), _call("pinball")),
        Op("eps_insensitive", 1, lambda lib, a, v: _eps_insensitive(lib, a, *v),
           _call("eps_insensitive")),
        Op("tukey", 1, lambda lib, a, v: _tukey(lib, a, *v), _call("tukey")),
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
