"""The compiler's IR: immutable, hash-consed expression nodes.

A Node is an operation (a row of ``losscc.ir.ops.OPS``), its argument nodes and
a value (the number of a ``const``, the name of a ``var``, the exponent of a
``pow``). Nodes are interned: building the same operation on the same
arguments twice returns the same object, so a common subexpression exists
once by construction and identity is equality.

Every walk over the IR here is iterative, so a deeply nested formula cannot
exhaust Python's recursion limit.

>>> d = var("d")
>>> square(d) is square(d)
True
>>> [n.op for n in topological(add(square(d), square(d)))]
['var', 'square', 'add']
"""
from __future__ import annotations

import hashlib
import math
import weakref
from typing import Callable, Optional, Union

from .ops import LEAVES, OPS

Value = Union[None, float, str, int]

# A loss's inputs: d is prediction - target (the formula language also gives
# these other names: see losscc.language.table).
VARIABLES = ("d", "pred", "target")


class Node:
    """One operation in the IR; build with the functions below, not directly."""

    __slots__ = ("op", "args", "value", "digest", "__weakref__")
    _interned: "weakref.WeakValueDictionary[tuple, Node]" = weakref.WeakValueDictionary()

    op: str
    args: tuple["Node", ...]
    value: Value
    digest: bytes  # stable across runs, unlike id(): used to order things

    def __new__(cls, op: str, args: tuple["Node", ...] = (), value: Value = None) -> "Node":
        spec = OPS.get(op)
        if spec is None:
            raise ValueError(f"unknown IR op {op!r}")
        if len(args) != spec.arity:
            raise ValueError(f"op {op!r} takes {spec.arity} arguments, got {len(args)}")
        if op == "const":
            value = float(value) + 0.0  # one node for 0.0 and -0.0
            if not math.isfinite(value):
                raise ValueError(f"non-finite constant {value!r}")
        key = (op, args, value)
        node = cls._interned.get(key)
        if node is None:
            node = object.__new__(cls)
            object.__setattr__(node, "op", op)
            object.__setattr__(node, "args", args)
            object.__setattr__(node, "value", value)
            h = hashlib.blake2b(f"{op}:{value!r}".encode(), digest_size=8)
            for a in args:
                h.update(a.digest)
            object.__setattr__(node, "digest", h.digest())
            cls._interned[key] = node
        return node

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("IR nodes are immutable")

    def __repr__(self) -> str:
        from .interpret import describe

        return f"<Node {describe(self)}>"

    @property
    def is_const(self) -> bool:
        return self.op == "const"


# Builders: the only way the rest of losscc makes nodes.
def const(value: float) -> Node:
    return Node("const", (), value)


def var(name: str) -> Node:
    return Node("var", (), name)


def add(a: Node, b: Node) -> Node:
    return Node("add", (a, b))


def sub(a: Node, b: Node) -> Node:
    return Node("sub", (a, b))


def neg(a: Node) -> Node:
    return Node("neg", (a,))


def mul(a: Node, b: Node) -> Node:
    return Node("mul", (a, b))


def square(a: Node) -> Node:
    return Node("square", (a,))


def abs_(a: Node) -> Node:
    return Node("abs", (a,))


def pow_(a: Node, n: int) -> Node:
    return Node("pow", (a,), int(n))


def min_(a: Node, b: Node) -> Node:
    return Node("min", (a, b))


def max_(a: Node, b: Node) -> Node:
    return Node("max", (a, b))


def clip(a: Node, lo: float, hi: float) -> Node:
    return Node("clip", (a,), (float(lo) + 0.0, float(hi) + 0.0))


def topological(root: Node, stop: Optional[Callable[[Node], bool]] = None) -> list[Node]:
    """Every node reachable from ``root``, each after its arguments, once.

    The order is deterministic: arguments are visited left to right. Nodes
    for which ``stop`` is true are listed but not descended into.
    """
    order: list[Node] = []
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in seen:
            continue
        if expanded or (stop is not None and stop(node)):
            seen.add(id(node))
            order.append(node)
            continue
        stack.append((node, True))
        for arg in reversed(node.args):
            if id(arg) not in seen:
                stack.append((arg, False))
    return order


def variables(root: Node) -> set[str]:
    return {n.value for n in topological(root) if n.op == "var"}  # type: ignore[misc]


def op_counts(root: Node) -> dict[str, int]:
    """How many of each operation ``root`` performs (leaves excluded)."""
    counts: dict[str, int] = {}
    for n in topological(root):
        if n.op not in LEAVES:
            counts[n.op] = counts.get(n.op, 0) + 1
    return counts
