"""A screen for ``losscc compile``: the warnings decidable without SymPy or NumPy.

On each tail (d -> -oo, d -> +oo) every abs has a fixed sign, so the loss
is one exact polynomial there (Python's fractions: huge coefficients such as
(3e38*d + 1)^15 stay exact); its degree and leading coefficient decide
whether minimising the loss diverges. The full analysis (``losscc.analysis.analyze``)
decides everything else.

>>> import losscc
>>> quick_warnings(losscc.program("square(d)", "-mean"))[0][:47]
'bounded below: no: the loss falls without bound'
>>> quick_warnings(losscc.program("square(square(d))"))
[]
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any, Optional

from .. import ir
from ..ir.polynomial import ExactPolynomial, Polynomial, TooLarge, of_region

MAX_TAIL_DEGREE = 256  # beyond this the screen gives up (the full analysis still decides)

IGNORES_TARGET = ("the loss uses the prediction but not the target: minimising it pulls every "
                  "prediction towards the same values whatever the labels say")


def quick_warnings(program: Any) -> list[str]:
    """Warnings decidable without SymPy: an unbounded loss, a loss that ignores the target."""
    variables = ir.variables(program.root)
    out = []
    if variables == {"pred"}:
        out.append(f"target: {IGNORES_TARGET}")
    if "target" in variables or (variables & {"pred"} and "d" in variables):
        return out  # a function of d and the target: for the full analysis
    x = "pred" if variables == {"pred"} else "d"
    scale = program.reduction.scale
    falls, grows = [], []  # the sides where the element loss times scale -> -oo, where |.| -> oo
    for direction, side in ((-1, f"{x} -> -oo"), (1, f"{x} -> +oo")):
        tail = _tail(program.root, direction)
        if tail is None:
            return out
        degree = max(tail, default=0)
        # exact: huge coefficients ((3e38*d + 1)^15) would overflow a float
        lead = tail.get(degree, 0) * direction ** degree * Fraction(scale)
        if degree > 0:
            grows.append(side)
            if lead < 0:
                falls.append(side)
    if program.reduction.kind == "prod":
        # A product is unbounded below when a negative factor scales a factor that grows
        # (as in analyze's _bounded_prod); one that grows while staying >= 0 needs the
        # full analysis.
        if scale < 0 and grows:
            out.append("bounded below: no, for batches of 2 or more: the product of factors "
                       "that grow without bound is scaled by a negative number: minimising it "
                       "diverges; see `losscc analyze`")
        elif falls:
            out.append("bounded below: no, for batches of 2 or more: a factor falls without "
                       "bound: minimising it diverges; see `losscc analyze`")
    elif falls:
        out.append(f"bounded below: no: the loss falls without bound as |{x}| grows (to -oo as "
                   f"{' and as '.join(falls)}): minimising it diverges; see `losscc analyze`")
    return out


class _TailPolynomial(ExactPolynomial):
    MAX_DEGREE = MAX_TAIL_DEGREE


_X = ir.var("d")  # the loss's one variable (d, or pred when the loss ignores the target)
# The operations the screen follows; a loss with any other gets no screen warning.
_ARITHMETIC = frozenset({"const", "add", "sub", "neg", "mul", "square", "pow", "abs"})


def _tail(root: ir.Node, direction: int) -> Optional[dict[int, Fraction]]:
    """The loss as an exact polynomial {degree: coefficient} for x beyond all its kinks."""
    def sign_fixed(p: Polynomial) -> Polynomial:
        terms = p.univariate()
        degree = max(terms, default=0)
        return -p if terms and terms[degree] * direction ** degree < 0 else p

    def variable(node: ir.Node) -> Polynomial:
        if node.op != "var":
            raise TooLarge(f"an operation the screen does not follow: {node.op}")
        return _TailPolynomial.atom(_X)

    try:
        poly = of_region(root, _TailPolynomial, _ARITHMETIC, abs_=sign_fixed, leaf=variable)
    except TooLarge:
        return None
    return poly.univariate()
