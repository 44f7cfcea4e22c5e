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
MindSpore); ``losscc.source(...)`` the Python source of its module.
"""
from __future__ import annotations

from typing import Any, Optional

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

__all__ = ["LossccError", "Program", "compile", "program", "source", "taylor", "__version__"]
