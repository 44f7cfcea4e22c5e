"""Losses and their gradients over d, side by side in one PNG (matplotlib, optional).

The loss curves come from losscc's NumPy evaluator, the gradients from
SymPy's derivative of the same compiled loss, so the figure shows what the
cell computes: a kink (abs) is a jump in the gradient, a steep power a
gradient that explodes at the edges. A loss in pred and target is drawn
along pred with target = 0 (the legend says so).

matplotlib is an optional dependency (``pip install 'losscc[plot]'``); it is
imported only here, and without pyplot, so no display or global state is used.

Example::

    plot_losses([losscc.program("abs(d)"), losscc.program("square(d)")], "losses.png")
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from ..errors import LossccError
from ..files import VERSION, checked_output, write_atomic_with
from ..language.grammar import one_line

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The tEXt chunk save_png writes (before the image data): how a later run knows the file.
PNG_MARK = b"tEXtSoftware\x00losscc"
POINTS = 1201  # samples over [-span, span]; odd, so d = 0 is one of them
FIGSIZE, DPI = (11, 4.5), 100  # 1100 x 450 pixels
# When one curve's range exceeds another's by this factor, a linear axis would
# flatten the small ones into a line: switch to a symmetric log scale (linear
# within +-1). Below it linear axes stay, which show shapes as they are.
SPREAD_FOR_LOG = 200.0


def require_matplotlib() -> None:
    """A LossccError that says how to install matplotlib, if it is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise LossccError("plots need matplotlib, which is not installed",
                          hint="pip install 'losscc[plot]'", source="options") from None


def check_png_path(path: str, force: bool = False) -> None:
    """``path`` can take a PNG: it is named .png, its directory exists, and it is no file of
    the user's.

    losscc draws PNGs only (a .jpg name would get PNG bytes). A PNG that losscc
    drew (marked in its metadata) may be replaced; any other file only with ``force``.
    """
    if not str(path).lower().endswith(".png"):
        raise LossccError(f"{path}: losscc draws PNG images, so the file name must end in .png",
                          hint="e.g. -o losses.png", source="options")
    checked_output(path, force, is_ours=_is_losscc_png, example="losses.png")


def _is_losscc_png(path: Any) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return head.startswith(PNG_SIGNATURE) and PNG_MARK in head


def plot_losses(programs: Sequence[Any], path: str, span: float = 3.0,
                force: bool = False) -> None:
    """Draw each program's element-wise loss and gradient over d in [-span, span] to ``path``."""
    require_matplotlib()
    check_png_path(path, force)
    if not (math.isfinite(span) and span > 0):
        raise LossccError(f"the range must be a positive number, not {span!r}", source="options",
                          hint="e.g. --range 3 plots d from -3 to 3")
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    d = np.linspace(-span, span, POINTS)
    curves = [(_label(p), *_loss_and_gradient(p, d)) for p in programs]
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    loss_axes, grad_axes = fig.subplots(1, 2)
    for label, loss, grad in curves:
        line, = loss_axes.plot(d, loss, label=label, linewidth=1.4)
        grad_axes.plot(d, grad, color=line.get_color(), linewidth=1.4)
    for axes, column, title in ((loss_axes, 1, "loss"), (grad_axes, 2, "gradient d loss / d pred")):
        _scale(axes, [curve[column] for curve in curves])
        axes.axhline(0, color="grey", linewidth=0.6)
        axes.axvline(0, color="grey", linewidth=0.6)
        axes.set_xlabel("d = pred - target")
        axes.set_title(title)
        axes.grid(True, alpha=0.3)
    loss_axes.legend(fontsize=8)
    fig.tight_layout()
    save_png(fig, path)


def save_png(fig: Any, path: str) -> None:
    """Through a temporary file and a rename: never half a PNG."""
    metadata = {"Software": f"losscc {VERSION}"}
    write_atomic_with(path, lambda f: fig.savefig(f, format="png", metadata=metadata))


def _loss_and_gradient(program: Any, d: Any) -> tuple[Any, Any]:
    """The loss (NumPy evaluator) and its derivative in pred (SymPy) along d, target = 0."""
    import numpy as np

    from ..ir.interpret import derivative_in_pred

    target_zero = np.zeros_like(d)
    loss = program.evaluate(d=d, pred=d, target=target_zero)
    return loss, derivative_in_pred(program.root)(d, target_zero)


def _scale(axes: Any, columns: list) -> None:
    """Linear axes, unless the curves' sizes differ so much that small ones would vanish."""
    import numpy as np

    sizes = [float(np.max(np.abs(c))) for c in columns]
    positive = [s for s in sizes if s > 0]
    if positive and max(positive) > SPREAD_FOR_LOG * min(positive):
        axes.set_yscale("symlog", linthresh=1.0)


def _label(program: Any) -> str:
    from .. import ir

    text = one_line(program.formula)
    if "target" in ir.variables(program.root):
        text += "  (target = 0)"
    return text
