"""The options of ``losscc taylor`` / ``approximate``, checked before any work.

>>> default_range(math.pi / 2, 0.0)  # half the radius of log(cosh(d)), 2 digits
0.79
"""
from __future__ import annotations

import math
import numbers
from typing import Optional

from ..errors import LossccError
from ..floats import show
from ..limits import MAX_SERIES_DEGREE

MAX_DEGREE = MAX_SERIES_DEGREE  # highest degree --order takes and --tol tries
DEFAULT_ORDER = 8
METHODS = ("auto", "taylor", "chebyshev")


def resolve_method(method: Optional[str], tol: Optional[float], about: float = 0.0) -> str:
    """The method to run: "auto" (the default) means auto with --tol, Taylor with --order
    (or with --about, which only Taylor has).

    >>> resolve_method(None, 1e-4), resolve_method("auto", None), resolve_method("chebyshev", None)
    ('auto', 'taylor', 'chebyshev')
    >>> resolve_method(None, 1e-4, about=0.5)
    'taylor'
    """
    if method is None or method == "auto":
        return "auto" if tol is not None and about == 0 else "taylor"
    return method


def check_options(order: Optional[int], tol: Optional[float], range: Optional[float],  # noqa: A002
                  about: float, method: str) -> None:
    """Refuse a request that makes no sense, naming the option (exit 2 on the CLI).

    ``method`` is the resolved one (``resolve_method``).
    """
    for name, value in (("tol", tol), ("range", range), ("about", about)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
            raise LossccError(f"{name} must be a number, not {type(value).__name__} {value!r}",
                              source="options")
    if method not in METHODS:
        raise LossccError(f"unknown method {method!r}", hint="use auto, taylor or chebyshev",
                          source="options")
    if order is not None and tol is not None:
        raise LossccError("give --order or --tol, not both", source="options")
    if order is not None and (isinstance(order, bool) or int(order) != order
                              or not 1 <= order <= MAX_DEGREE):
        raise LossccError(f"--order {order} is not a degree losscc takes",
                          hint=f"a whole number from 1 to {MAX_DEGREE}", source="options")
    if tol is not None and not (math.isfinite(tol) and tol > 0):
        raise LossccError(f"--tol {tol} is not a positive number", source="options")
    if range is not None and math.isinf(range) and range > 0:
        if method != "auto":
            raise LossccError(f"--range inf needs --method auto and --tol (not {method})",
                              hint="one polynomial in d cannot hold on all of R; auto builds "
                              "a clipped cell with the loss's own asymptote", source="options")
    elif range is not None and not (math.isfinite(range) and 0 < range <= 1e6):
        raise LossccError(f"--range {range} is not a positive number (up to 1e6, or inf)",
                          source="options")
    if not math.isfinite(about) or abs(about) > 1e6:
        raise LossccError(f"--about {about} is not a finite number (up to 1e6)",
                          source="options")
    if method == "chebyshev" and range is None:
        raise LossccError("--method chebyshev needs --range R",
                          hint="Chebyshev interpolation is near-minimax on [-R, R]",
                          source="options")
    if method in ("chebyshev", "auto") and about != 0:
        raise LossccError("--about applies to --method taylor only", source="options")


def default_range(radius: float, about: float) -> float:
    """R when --range is not given: about half the room the radius leaves, at most 1."""
    room = radius - abs(about)
    if room <= 0:
        raise LossccError(f"--about {show(about)} is beyond the radius of convergence "
                          f"{radius:.5g}", source="options")
    return min(1.0, float(f"{room / 2:.2g}"))
