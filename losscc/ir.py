"""The compiler's IR: immutable, hash-consed expression nodes.

A Node is an operation (a row of ``losscc.ops.OPS``), its argument nodes and
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

# The input variables. `d` is prediction - target; the aliases are the names
# MindSpore and the seed article give the two inputs.
VARIABLES = ("d", "pred", "target")
ALIASES = {"logits": "pred", "base": "pred", "labels": "target", "label": "target"}


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

    def __reduce__(self):  # pickling rebuilds through the interning table
        return (Node, (self.op, self.args, self.value))

    def __repr__(self) -> str:
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


def topological(root: Node) -> list[Node]:
    """Every node reachable from ``root``, each after its arguments, once.

    The order is deterministic: arguments are visited left to right.
    """
    order: list[Node] = []
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in seen:
            continue
        if expanded:
            seen.add(id(node))
            order.append(node)
            continue
        stack.append((node, True))
        for arg in reversed(node.args):
            if id(arg) not in seen:
                stack.append((arg, False))
    return order


def rewrite(root: Node, rule: Callable[[Node], Optional[Node]]) -> Node:
    """Rebuild ``root`` bottom-up, giving ``rule`` each node after its arguments.

    ``rule`` returns a replacement or None to keep the node. A replacement is
    offered to ``rule`` again, so a pass reaches its fixpoint at every node.
    """
    done: dict[int, Node] = {}
    for node in topological(root):
        args = tuple(done[id(a)] for a in node.args)
        new = node if args == node.args else Node(node.op, args, node.value)
        for _ in range(1000):  # a rule set that cycles is a bug: stop, loudly
            replaced = rule(new)
            if replaced is None or replaced is new:
                break
            new = replaced
        else:
            raise RuntimeError(f"rewrite did not converge at {describe(new)}")
        done[id(node)] = new
    return done[id(root)]


def variables(root: Node) -> set[str]:
    return {n.value for n in topological(root) if n.op == "var"}  # type: ignore[misc]


def op_counts(root: Node) -> dict[str, int]:
    """How many of each operation ``root`` performs (leaves excluded)."""
    counts: dict[str, int] = {}
    for n in topological(root):
        if n.op not in LEAVES:
            counts[n.op] = counts.get(n.op, 0) + 1
    return counts


def describe(root: Node, limit: int = 200) -> str:
    """A readable infix form, for messages and --ir; long forms are cut."""
    text: dict[int, str] = {}
    for n in topological(root):
        a = [text[id(x)] for x in n.args]
        if n.op == "const":
            s = format_number(n.value)  # type: ignore[arg-type]
        elif n.op == "var":
            s = str(n.value)
        elif n.op == "add":
            s = f"({a[0]} + {a[1]})"
        elif n.op == "sub":
            s = f"({a[0]} - {a[1]})"
        elif n.op == "neg":
            s = f"-{a[0]}"
        elif n.op == "mul":
            s = f"{a[0]}*{a[1]}"
        elif n.op == "pow":
            s = f"{a[0]}^{n.value}"
        else:
            s = f"{n.op}({a[0]})"
        text[id(n)] = s if len(s) <= limit else s[: limit - 3] + "..."
    return text[id(root)]


# MindSpore's losses compute in float32 (LossBase.get_loss casts to it): a constant
# beyond its largest finite number is inf there, one below its smallest is 0.
FLOAT32_MAX = 3.4028234663852886e38
FLOAT32_TINY = 1.401298464324817e-45


def float32_trouble(value: float) -> Optional[str]:
    """Why ``value`` cannot be a loss's constant in float32, or None if it can."""
    if value != 0 and abs(value) > FLOAT32_MAX:
        return "beyond float32's range (at most about 3.4e38)"
    if value != 0 and abs(value) < FLOAT32_TINY:
        return "0 in float32 (nothing below about 1.4e-45)"
    return None


def format_number(value: float) -> str:
    """The shortest text that reads back as the same float (deterministic)."""
    if value == int(value) and abs(value) < 1e16:
        return f"{int(value)}.0"
    return repr(float(value))
