"""A compiled program as the straight line of operations the cell runs, for the certificate.

The certificate works on the *final* IR (after the compiler's passes), so
that what it proves is what MindSpore computes. ``Line`` lists the
operations in the order of the schedule, with their constants rounded to
float32 (as the cell receives them), and knows:

- which Adds are ramps ``s + |s|`` (computed exactly: 0 or 2s);
- the exact affine form k*d + c of each operation that has one (every Abs
  argument in losscc's cells is affine once the earlier Abs signs are
  fixed), so a piece of the domain can be cut where an Abs argument changes
  sign and the program is smooth on each piece;
- whether the program reads d only once, through Abs or Square (then it is
  exactly even in float32 too).

``run`` evaluates the program in exact real arithmetic (balls or ball power
series) with the Abs signs fixed for a piece.

>>> from losscc import ir
>>> d = ir.var("d")
>>> s = ir.sub(ir.const(2.0), ir.abs_(d))
>>> line = Line.of(ir.add(s, ir.abs_(s)))
>>> [step.op for step in line.steps], line.ramps, line.even
(['abs', 'sub', 'abs', 'add'], {3: 1}, True)
>>> line.signs(Fraction(0), Fraction(3))   # |d| - 2 changes sign at d = 2
('split', Fraction(2, 1))
>>> line.signs(Fraction(0), Fraction(2))
{0: 1, 2: 1}
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Optional, Union

from .. import ir
from ..floats import to_float32

INPUT = "d"  # the input among an operation's arguments
Arg = Union[int, float, str]  # an earlier step's index, a float32 constant, or INPUT


@dataclass(frozen=True)
class Step:
    op: str  # abs, neg, square, add, sub, mul
    args: tuple[Arg, ...]


@dataclass(frozen=True)
class Line:
    steps: tuple[Step, ...]
    ramps: dict  # step index -> s (a step's index or INPUT), for s + |s|
    even: bool  # d is read once, by Abs or Square

    @classmethod
    def of(cls, root: ir.Node) -> "Line":
        """The straight line of ``root`` (an IR over d, constants and the six operations)."""
        index: dict[int, Arg] = {}
        steps: list[Step] = []
        for node in ir.topological(root):
            if node.op == "const":
                index[id(node)] = to_float32(float(node.value))  # type: ignore[arg-type]
            elif node.op == "var":
                if node.value != "d":
                    raise ValueError(f"the certificate needs a program in d, not {node.value}")
                index[id(node)] = INPUT
            elif node.op in ("abs", "neg", "square", "add", "sub", "mul"):
                index[id(node)] = len(steps)
                steps.append(Step(node.op, tuple(index[id(a)] for a in node.args)))
            else:
                raise ValueError(f"operation {node.op} left in a compiled program")
        ramps = {}
        for i, step in enumerate(steps):
            if step.op == "add":
                a, b = step.args
                for s, t in ((a, b), (b, a)):
                    if (isinstance(t, int) and not isinstance(s, float) and steps[t].op == "abs"
                            and steps[t].args[0] == s):
                        ramps[i] = s
        readers = [s for s in steps if any(a == INPUT for a in s.args if isinstance(a, str))]
        even = (len(readers) == 1 and readers[0].op in ("abs", "square"))
        return cls(tuple(steps), ramps, even)

    def signs(self, lo: Fraction, hi: Fraction) -> Union[dict, tuple]:
        """The sign of every Abs argument on d in [lo, hi] ({step: +1 or -1}), found from
        exact affine forms; ('split', p) if an affine argument changes sign at p inside;
        a sign is missing where the argument is not affine (``run`` then needs its range)."""
        forms: dict[Arg, Optional[tuple[Fraction, Fraction]]] = {INPUT: (Fraction(1), Fraction(0))}
        out: dict[int, int] = {}

        def form(a: Arg) -> Optional[tuple[Fraction, Fraction]]:
            if isinstance(a, float):
                return Fraction(0), Fraction(a)
            return forms.get(a)  # INPUT, or an earlier step

        for i, step in enumerate(self.steps):
            f = [form(a) for a in step.args]
            forms[i] = None
            if any(x is None for x in f):
                continue
            if step.op == "abs":
                k, c = f[0]  # type: ignore[misc]
                at_lo, at_hi = k * lo + c, k * hi + c
                if at_lo >= 0 and at_hi >= 0:
                    sign = 1
                elif at_lo <= 0 and at_hi <= 0:
                    sign = -1
                else:
                    return ("split", -c / k)
                out[i] = sign
                forms[i] = (sign * k, sign * c)
            elif step.op == "neg":
                k, c = f[0]  # type: ignore[misc]
                forms[i] = (-k, -c)
            elif step.op in ("add", "sub"):
                (k1, c1), (k2, c2) = f  # type: ignore[misc]
                g = 1 if step.op == "add" else -1
                forms[i] = (k1 + g * k2, c1 + g * c2)
            elif step.op == "mul":
                (k1, c1), (k2, c2) = f  # type: ignore[misc]
                if k1 == 0 or k2 == 0:
                    forms[i] = (k1 * c2 + k2 * c1, c1 * c2)
        return out

    def run(self, d: Any, signs: dict, constant: Any) -> Any:
        """The program in exact arithmetic at d (a ball or ball series), Abs by ``signs``.

        ``constant`` turns a float32 constant into the number system's value. An Abs
        whose argument is not affine has no sign in ``signs``: ValueError (the
        certificate then fails, safely; losscc's cells never build one).
        """
        values: list = []
        for i, step in enumerate(self.steps):
            a = [values[x] if isinstance(x, int) else d if isinstance(x, str) else constant(x)
                 for x in step.args]
            if step.op == "abs":
                sign = signs.get(i)
                if sign is None:
                    raise ValueError("an Abs of a non-affine argument: no fixed sign on a piece")
                values.append(a[0] if sign > 0 else -a[0])
            elif step.op == "neg":
                values.append(-a[0])
            elif step.op == "square":
                values.append(a[0] * a[0])
            elif step.op == "add":
                values.append(a[0] + a[1])
            elif step.op == "sub":
                values.append(a[0] - a[1])
            else:
                values.append(a[0] * a[1])
        return values[-1]

