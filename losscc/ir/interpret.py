"""The meaning of the IR: one interpreter, many number systems.

``interpret`` walks the IR once in topological order (no recursion) and
gives every operation the meaning of its row in ``losscc.ir.ops.OPS``, in the
number system ``lib`` names. The callers only say what a leaf is worth:

- ``fold_scalar``: Python floats (constant folding);
- ``evaluate``: NumPy arrays, the reference every pass and cell is tested against;
- ``to_sympy``: SymPy, the symbolic form analysis and check differentiate;
- ``describe``: text, for messages and ``--ir``;
- ``losscc.ir.polynomial`` and ``losscc.series.rounding`` run it over
  polynomials and over (interval, error) pairs.

>>> import numpy as np
>>> from losscc import ir
>>> evaluate(ir.square(ir.var("d")), d=np.array([1.0, -3.0]))
array([1., 9.])
>>> to_sympy(ir.mul(ir.abs_(ir.var("d")), ir.const(0.5)))
Abs(d)/2
>>> describe(ir.add(ir.square(ir.var("d")), ir.const(1.0)))
'(square(d) + 1.0)'
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Callable, Optional

from ..floats import literal
from .nodes import VARIABLES, Node, topological
from .ops import OPS, SCALARS


def interpret(root: Node, lib: Any, leaf: Callable[[Node], Any],
              stop: Optional[Callable[[Node], bool]] = None) -> Any:
    """``root``'s value in the number system ``lib`` (a namespace with abs and square).

    ``leaf(node)`` gives the value of each const and var, and of every node
    for which ``stop`` is true: those are not looked into (a polynomial's
    atoms, say).
    """
    values: dict[int, Any] = {}
    for node in topological(root, stop):
        if not node.args or (stop is not None and stop(node)):
            values[id(node)] = leaf(node)
        else:
            values[id(node)] = OPS[node.op].meaning(lib, *(values[id(a)] for a in node.args),
                                                    node.value)
    return values[id(root)]


def fold_scalar(node: Node) -> Optional[float]:
    """The value of an operation on constants, in Python floats; None if it overflows."""
    try:
        return interpret(node, SCALARS, lambda n: n.value)
    except OverflowError:
        return None


def describe(root: Node, limit: int = 200) -> str:
    """A readable infix form, for messages and --ir; long forms are cut."""
    text: dict[int, str] = {}
    for n in topological(root):
        if n.op == "const":
            s = literal(n.value)  # type: ignore[arg-type]
        else:
            s = OPS[n.op].text(tuple(text[id(a)] for a in n.args), n.value)
        text[id(n)] = s if len(s) <= limit else s[: limit - 3] + "..."
    return text[id(root)]


def evaluate(
    root: Node,
    d: Optional[Any] = None,
    pred: Optional[Any] = None,
    target: Optional[Any] = None,
    dtype: Any = None,
) -> Any:
    """The element-wise loss for inputs given as arrays (d defaults to pred - target)."""
    import numpy as np

    dtype = np.dtype(dtype or np.float64)
    inputs = {}
    if pred is not None:
        inputs["pred"] = np.asarray(pred, dtype)
    if target is not None:
        inputs["target"] = np.asarray(target, dtype)
    if d is not None:
        inputs["d"] = np.asarray(d, dtype)
    elif "pred" in inputs and "target" in inputs:
        inputs["d"] = inputs["pred"] - inputs["target"]

    def leaf(node: Node) -> Any:
        if node.op == "const":
            return dtype.type(node.value)
        if node.value not in inputs:
            raise ValueError(f"evaluate() needs a value for {node.value!r}")
        return inputs[node.value]

    numbers = SimpleNamespace(abs=np.abs, square=np.square, minimum=np.minimum,
                              maximum=np.maximum, number=dtype.type)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(interpret(root, numbers, leaf), dtype)


def symbols() -> dict[str, Any]:
    """The SymPy symbols for the IR's variables (real-valued)."""
    import sympy as sp

    return {name: sp.Symbol(name, real=True) for name in VARIABLES}


def to_sympy(root: Node, exact: bool = True) -> Any:
    """The loss as a SymPy expression in d, pred and target.

    With ``exact`` the constants are turned into rationals where they are
    short decimals (0.5 -> 1/2), which keeps derivatives readable.
    """
    import sympy as sp

    syms = symbols()

    def leaf(node: Node) -> Any:
        if node.op == "var":
            return syms[node.value]
        # repr is the shortest decimal that reads back as this float
        short = len(repr(node.value)) <= 12
        return sp.Rational(repr(node.value)) if exact and short else sp.Float(node.value)

    number = (lambda v: sp.Rational(repr(float(v)))) if exact else sp.Float
    numbers = SimpleNamespace(abs=sp.Abs, square=lambda x: x**2, minimum=sp.Min,
                              maximum=sp.Max, number=number)
    return interpret(root, numbers, leaf)


def derivative_in_pred(root: Node) -> Callable[[Any, Any], Any]:
    """d loss / d pred as a NumPy function of (pred, target), from SymPy's derivative.

    lambdify runs on losscc's own expression (built from the IR), never on user text.

    >>> import numpy as np
    >>> from losscc import ir
    >>> derivative_in_pred(ir.square(ir.var("d")))(np.array([3.0]), np.array([1.0]))
    array([4.])
    """
    import numpy as np
    import sympy as sp

    names = symbols()
    pred, target = names["pred"], names["target"]
    loss = to_sympy(root).subs(names["d"], pred - target)
    derivative = sp.lambdify((pred, target), sp.diff(loss, pred), "numpy")

    def gradient(p: Any, t: Any) -> Any:
        shape = np.broadcast(np.asarray(p), np.asarray(t)).shape
        return np.broadcast_to(derivative(p, t), shape).astype(np.float64)

    return gradient
