"""losscc: a symbolic loss compiler for MindSpore.

Write a loss as a formula in d = prediction - target; get a ready
``mindspore.nn.LossBase`` cell that computes it with the fewest Abs, Square
and Mul operations.

>>> import losscc
>>> print(losscc.program("square(square(d))").listing())
# square(square(d)), reduction mean: 2 element-wise operations (Square 2)
d = logits - labels
d2 = square(d)
d4 = square(d2)
loss = mean(d4)

``losscc.compile("square(square(d))")`` returns the cell itself (it imports
MindSpore), for ``Model(net, loss, optimizer)``; ``losscc.function(...)`` a
plain function ``loss_fn(input, target, weight=None)`` for MindSpore 2.x's
``ms.value_and_grad`` / ``@ms.jit`` training loops; ``losscc.source(...)`` the
Python source of the cell's module.
"""
from __future__ import annotations

from typing import Any, Callable, Optional

from .errors import LossccError
from .files import VERSION as __version__


def program(formula: str, reduction: str = "mean") -> "Program":
    """Parse and optimise ``formula``: the inspectable compiled program."""
    from .compiler.program import build

    return build(formula, reduction)


def source(formula: str, reduction: str = "mean", name: Optional[str] = None,
           fuse: bool = False, shapes: Optional[str] = None) -> str:
    """The Python source of a module with the compiled LossBase subclass.

    >>> "self.square = ops.Square()" in source("square(d)")
    True
    """
    return program(formula, reduction).source(name, fuse=fuse, shapes=shapes)


def compile(formula: str, reduction: str = "mean", name: Optional[str] = None,  # noqa: A001
            fuse: bool = False, shapes: Optional[str] = None) -> Any:
    """A ready ``mindspore.nn.LossBase`` instance computing ``formula``.

    ``fuse=True`` turns on MindSpore's graph-kernel fusion (process-wide; needs
    ``pip install losscc[fuse]``; see losscc.compiler.fuse). ``shapes`` is what the cell
    does when logits and labels differ in shape: "warn" (default), "strict"
    (raise ValueError) or "allow" (MindSpore's silent broadcasting).

    Example (imports MindSpore)::

        loss = losscc.compile("square(square(d))")          # the 4th-power loss
        model = mindspore.train.Model(net, loss, optimizer)
    """
    return program(formula, reduction).load(name, fuse=fuse, shapes=shapes)


def function(formula: str, reduction: str = "mean", name: Optional[str] = None,
             shapes: Optional[str] = None) -> Callable[..., Any]:
    """A plain function ``loss_fn(input, target, weight=None)`` computing ``formula``.

    For MindSpore 2.x's functional training loops: call it inside the forward
    function that ``ms.value_and_grad`` differentiates, jitted with ``@ms.jit``
    or not, in GRAPH_MODE or PyNative. It calls the compiled cell
    (``loss_fn.cell``), whose source is in a file, which GRAPH_MODE needs.

    Example (imports MindSpore)::

        loss_fn = losscc.function("huber(d, 1)")

        def forward(x, y):
            return loss_fn(net(x), y)

        grad_fn = ms.value_and_grad(forward, None, optimizer.parameters)

        @ms.jit
        def train_step(x, y):
            loss, grads = grad_fn(x, y)
            optimizer(grads)
            return loss
    """
    cell = compile(formula, reduction, name=name, shapes=shapes)

    def loss_fn(input, target, weight=None):  # noqa: A002 - MindSpore's own argument names
        if weight is None:
            return cell(input, target)
        return cell(input, target, weight)

    loss_fn.cell = cell  # type: ignore[attr-defined]
    loss_fn.__doc__ = f"The loss {formula.strip()!r}, reduced by {reduction}: a losscc cell."
    return loss_fn


def taylor(expr: Any, order: Optional[int] = None, tol: Optional[float] = None,
           range: Optional[float] = None, about: float = 0.0,  # noqa: A002
           method: str = "auto", reduction: str = "mean", name: Optional[str] = None) -> Any:
    """Any analytic loss as a certified polynomial or cell: a ready LossBase cell.

    ``expr`` is a formula string (exp, log, tanh, ... allowed) or a SymPy
    expression in d. Give ``order`` (highest power kept, default 8: a Taylor
    polynomial) or ``tol``: with ``method="auto"`` (the default) the cheapest
    of Taylor, Chebyshev and structured or piecewise cells whose certified
    mixed error |cell - f| / max(1, |f|) on [-range, range] is <= tol.
    ``range=math.inf`` is all of R: a loss with a linear or constant
    asymptote (log(cosh(d)), log(1 + exp(d)), 1 - exp(-d^2/2)) is its
    asymptote plus a polynomial of a clipped |d|, certified for every float32
    d. ``method="taylor"`` or ``"chebyshev"`` asks for one route. The cell
    carries ``.report`` (what it is, measured and certified error;
    ``.report.to_json()``) and ``.source_code``. ``losscc.series.approximate``
    gives the same without importing MindSpore.

    Example (imports MindSpore)::

        loss = losscc.taylor("log(cosh(d))", tol=1e-5, range=math.inf)
        print(loss.report.text())
    """
    from .series import approximate

    return approximate(expr, order=order, tol=tol, range=range, about=about, method=method,
                       reduction=reduction).load(name)


from .compiler.program import Program  # noqa: E402

__all__ = ["LossccError", "Program", "compile", "function", "program", "source", "taylor",
           "__version__"]
