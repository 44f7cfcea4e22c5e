"""The meaning of the IR, outside MindSpore: a NumPy evaluator and a SymPy form.

The evaluator is the reference every pass and every generated cell is tested
against. Both walk the IR in topological order (no recursion) and take each
operation's meaning from the table in ``losscc.ops``.

>>> import numpy as np
>>> from losscc import ir
>>> evaluate(ir.square(ir.var("d")), d=np.array([1.0, -3.0]))
array([1., 9.])
>>> to_sympy(ir.mul(ir.abs_(ir.var("d")), ir.const(0.5)))
Abs(d)/2
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from . import ir
from .ops import OPS


def evaluate(
    root: ir.Node,
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
    values: dict[int, Any] = {}
    with np.errstate(over="ignore", invalid="ignore"):
        for node in ir.topological(root):
            if node.op == "const":
                values[id(node)] = dtype.type(node.value)
            elif node.op == "var":
                if node.value not in inputs:
                    raise ValueError(f"evaluate() needs a value for {node.value!r}")
                values[id(node)] = inputs[node.value]
            else:
                args = [values[id(a)] for a in node.args]
                values[id(node)] = OPS[node.op].numpy(np, *args, node.value)
    return np.asarray(values[id(root)], dtype)


def symbols() -> dict[str, Any]:
    """The SymPy symbols for the IR's variables (real-valued)."""
    import sympy as sp

    return {name: sp.Symbol(name, real=True) for name in ir.VARIABLES}


def to_sympy(root: ir.Node, exact: bool = True) -> Any:
    """The loss as a SymPy expression in d, pred and target.

    With ``exact`` the constants are turned into rationals where they are
    short decimals (0.5 -> 1/2), which keeps derivatives readable.
    """
    import sympy as sp

    syms = symbols()
    values: dict[int, Any] = {}
    for node in ir.topological(root):
        if node.op == "const":
            value = node.value
            # repr is the shortest decimal that reads back as this float
            values[id(node)] = (sp.Rational(repr(value)) if exact and _short(value)
                                else sp.Float(value))
        elif node.op == "var":
            values[id(node)] = syms[node.value]
        else:
            args = [values[id(a)] for a in node.args]
            values[id(node)] = OPS[node.op].sympy(sp, *args, node.value)
    return values[id(root)]


def _short(value: float) -> bool:
    return len(repr(value)) <= 12


def derivative_in_pred(root: ir.Node) -> Callable[[Any, Any], Any]:
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
