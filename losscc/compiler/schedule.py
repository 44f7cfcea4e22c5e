"""IR → a straight-line program: one named step per operation, in order.

Steps are named after what they hold where that is clear (d2 and d4 are
powers of d), and t1, t2, ... otherwise. MindSpore's GRAPH_MODE wants
straight-line code in ``construct`` (no loops, no list.pop()), and so does a
person reading it.

>>> from losscc import ir
>>> d = ir.var("d")
>>> [str(s) for s in schedule(ir.add(ir.square(ir.square(d)), ir.const(1.0))).steps]
['d2 = square(d)', 'd4 = square(d2)', 't1 = add(d4, 1.0)']
"""
from __future__ import annotations

from typing import NamedTuple, Optional

from .. import ir
from ..floats import literal

# What the generated construct() calls its inputs.
INPUT_NAMES = {"d": "d", "pred": "logits", "target": "labels"}


class Step(NamedTuple):
    name: str
    op: str
    args: tuple[str, ...]  # earlier steps' names, input names or number literals

    def __str__(self) -> str:
        return f"{self.name} = {self.op}({', '.join(self.args)})"


class Schedule(NamedTuple):
    steps: tuple[Step, ...]
    result: str  # the name holding the element-wise loss
    inputs: frozenset[str]  # the IR variables used: d, pred, target


def schedule(root: ir.Node) -> Schedule:
    names: dict[int, str] = {}
    taken: set[str] = set(INPUT_NAMES.values())
    powers: dict[int, tuple[ir.Node, int]] = {}  # node -> (variable, exponent)
    steps: list[Step] = []
    temporaries = 0
    for node in ir.topological(root):
        if node.op == "const":
            names[id(node)] = literal(node.value)  # type: ignore[arg-type]
            continue
        if node.op == "var":
            names[id(node)] = INPUT_NAMES[node.value]  # type: ignore[index]
            powers[id(node)] = (node, 1)
            continue
        power = _power_of(node, powers)
        name: Optional[str] = None
        if power is not None:
            powers[id(node)] = power
            name = f"{names[id(power[0])]}{power[1]}"
        elif node.op == "abs" and node.args[0].op == "var":
            name = f"abs_{names[id(node.args[0])]}"
        if name is None or name in taken:
            temporaries += 1
            name = f"t{temporaries}"
        taken.add(name)
        names[id(node)] = name
        args = tuple(names[id(a)] for a in node.args)
        if node.op == "mul" and node.args[0].is_const:  # the IR puts constants first;
            args = args[::-1]                            # d2 * 0.5 reads better
        steps.append(Step(name, node.op, args))
    return Schedule(tuple(steps), names[id(root)], frozenset(ir.variables(root)))


def _power_of(node: ir.Node, powers: dict) -> Optional[tuple[ir.Node, int]]:
    """(x, n) when ``node`` computes x^n from x by squares and products."""
    if node.op == "square" and id(node.args[0]) in powers:
        base, n = powers[id(node.args[0])]
        return base, 2 * n
    if node.op == "mul" and all(id(a) in powers for a in node.args):
        (b1, n1), (b2, n2) = (powers[id(a)] for a in node.args)
        if b1 is b2:
            return b1, n1 + n2
    return None
