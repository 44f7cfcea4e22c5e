"""Reductions: how a loss's element-wise values become the training loss.

LossBase itself knows "mean", "sum" and "none". losscc adds "prod" (the
product of all elements, which the seed article mentions) and a constant
factor before any of them: "-mean" is the article's section 6 reduction
(the mean, negated), "0.5*sum" halves a sum. Such reductions are emitted the
way the article writes them: by overriding ``get_loss``.

>>> parse_reduction("-mean")
Reduction(kind='mean', scale=-1.0)
>>> str(parse_reduction(" 0.5 * sum "))
'0.5*sum'
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import LossccError, closest
from ..floats import float32_trouble, literal
from .parse import parse

KINDS = ("mean", "sum", "none", "prod")


@dataclass(frozen=True)
class Reduction:
    kind: str
    scale: float = 1.0

    @property
    def is_native(self) -> bool:
        """LossBase's own get_loss computes it: mean, sum or none, unscaled."""
        return self.scale == 1.0 and self.kind != "prod"

    def __str__(self) -> str:
        if self.scale == 1.0:
            return self.kind
        if self.scale == -1.0:
            return f"-{self.kind}"
        return f"{literal(self.scale).removesuffix('.0')}*{self.kind}"


def parse_reduction(text: "str | Reduction") -> Reduction:
    """Read a reduction such as ``mean``, ``-mean``, ``0.5*sum`` or ``prod``."""
    if isinstance(text, Reduction):
        return text
    tree = parse(text, start="reduction", source="reduction")
    negate, scale, name = tree.children
    kind = str(name)
    if kind not in KINDS:
        guess = closest(kind, list(KINDS))
        raise LossccError(
            f"unknown reduction '{kind}'", text=text, start=name.start_pos, end=name.end_pos,
            hint=(f"did you mean '{guess}'? " if guess else "")
            + "reductions are mean, sum, none and prod, optionally negated or scaled: "
            "-mean, 0.5*sum",
            source="reduction",
        )
    factor = float(scale.children[0]) if scale is not None else 1.0
    if not math.isfinite(factor) or factor == 0.0 or float32_trouble(factor):
        token = scale.children[0]
        raise LossccError(
            "the reduction's factor must be a nonzero number within float32's range", text=text,
            start=token.start_pos, end=token.end_pos, source="reduction",
        )
    return Reduction(kind, -factor if negate is not None else factor)
