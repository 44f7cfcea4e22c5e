"""Polynomial coefficients → float32 → the IR sum of c_k * x^k → a compiled Program.

The ``polynomials`` pass of ``Program.from_ir`` then picks Horner or parity
evaluation.

>>> from losscc.language.reduction import parse_reduction
>>> from losscc.series.target import prepare
>>> target = prepare("exp(-d^2)")
>>> coefficients = float32_coefficients([1, 0, -1, 0, 0.5], target, 4)
>>> to_program(target, coefficients, parse_reduction("mean")).summary
'((1.0 - square(d)) + 0.5*square(square(d)))'
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ir
from ..compiler.program import Program
from .target import Target


def float32_coefficients(high: list, target: Target, degree: int) -> list[float]:
    """The coefficients up to ``degree``, rounded to float32 (the program's numbers)."""
    with np.errstate(over="ignore"):
        coefficients = [float(np.float32(float(c))) for c in high[: degree + 1]]
    if not all(math.isfinite(c) for c in coefficients):
        raise target.error("a coefficient of the polynomial overflows float32",
                           hint="use a smaller --range or --order, or scale the loss")
    return coefficients


def to_program(target: Target, coefficients: list[float], reduction: Any) -> Program:
    """The compiled Program of sum c_k x^k (x = d, or abs(d) computed once)."""
    terms = [ir.mul(ir.const(c), ir.pow_(target.atom, k)) if k else ir.const(c)
             for k, c in enumerate(coefficients) if c != 0]
    if not terms:
        raise target.error(f"every coefficient up to degree {len(coefficients) - 1} is 0 "
                           "in float32", hint="ask for a higher --order, or scale the loss "
                           "(float32 holds no number below 1.4e-45)")
    raw = terms[0]
    for term in terms[1:]:
        raw = ir.add(raw, term)
    return Program.from_ir(target.label, raw, reduction, command="taylor")
