"""Rewrite rules as data: patterns with named captures, and one rewrite driver.

A ``Pat`` matches IR nodes by operation and arguments and captures the
nodes it names; a ``Rule`` pairs a pattern with what replaces a match
(built from the captures) and prints as ``name: pattern -> replacement``.
``rewrite`` is the one driver every pass runs through: bottom up, each node
after its arguments, the first matching rule applied and its result offered
to the rules again, until none fires.

>>> from losscc import ir
>>> x = Pat.any("x")
>>> rule = Rule("abs-of-abs", Pat("abs", (Pat("abs", (x,)),)), lambda x: ir.abs_(x), "abs(x)")
>>> print(rule)
abs-of-abs: abs(abs(x)) -> abs(x)
>>> d = ir.var("d")
>>> rewrite(ir.square(ir.abs_(ir.abs_(d))), [rule]) is ir.square(ir.abs_(d))
True
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, NamedTuple, Optional, Sequence, Union

from ..floats import literal
from .nodes import Node, topological
from .ops import OPS

Ops = Union[None, str, frozenset]


class Pat(NamedTuple):
    """A pattern: ``op`` (one name, a set of names, or None for any), its argument patterns.

    ``name`` captures the matched node (a name used twice must match the same
    node, as in x - x); ``value`` requires a const's number (or a pow's
    exponent); ``where`` is a test on the node, printed as ``shown``.
    """

    op: Ops = None
    args: Optional[tuple["Pat", ...]] = None
    name: Optional[str] = None
    value: Any = None
    where: Optional[Callable[[Node], bool]] = None
    shown: Optional[str] = None  # how the pattern prints, when it is not op(args)

    @staticmethod
    def any(name: str) -> "Pat":
        """Any node, captured as ``name``."""
        return Pat(name=name)

    @staticmethod
    def const(name: Optional[str] = None, value: Optional[float] = None) -> "Pat":
        """A constant (the number ``value``, if given), captured as ``name``."""
        return Pat("const", name=name, value=value)

    def match(self, node: Node, captures: dict[str, Node]) -> bool:
        if self.op is not None and (node.op != self.op if isinstance(self.op, str)
                                    else node.op not in self.op):
            return False
        if self.value is not None and node.value != self.value:
            return False
        if self.where is not None and not self.where(node):
            return False
        if self.args is not None:
            if len(self.args) != len(node.args):
                return False
            if not all(p.match(a, captures) for p, a in zip(self.args, node.args)):
                return False
        if self.name is not None:
            bound = captures.setdefault(self.name, node)
            if bound is not node:
                return False
        return True

    def __str__(self) -> str:
        if self.shown is not None:
            return self.shown
        if self.op == "const":
            return self.name or literal(self.value)
        if self.op is None or not isinstance(self.op, str):
            return self.name or "_"
        if self.args is None:
            args = ("_",) * OPS[self.op].arity
        else:
            args = tuple(f"({a})" if self.op in _TIGHT and a.op in _TIGHT else str(a)
                         for a in self.args)
        value = self.value if self.value is not None else ("n" if self.op == "pow" else None)
        return OPS[self.op].text(args, value)


# Operations whose text binds tightly (-x, x*y, x^n): an argument of the same
# kind is printed in parentheses, so that a*(b*x) does not read as a*b*x.
_TIGHT = frozenset({"neg", "mul", "pow"})


class Rule(NamedTuple):
    """``pattern`` -> ``build(**captures)``; ``build`` may return None (the rule does not apply)."""

    name: str
    pattern: Pat
    build: Callable[..., Optional[Node]]
    replacement: str  # the right-hand side, as it prints

    def apply(self, node: Node) -> Optional[Node]:
        captures: dict[str, Node] = {}
        if not self.pattern.match(node, captures):
            return None
        return self.build(**captures)

    def __str__(self) -> str:
        return f"{self.name}: {self.pattern} -> {self.replacement}"


class RuleSet:
    """Rules indexed by the operation their pattern matches, tried in order."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = tuple(rules)
        names = [r.name for r in self.rules]
        duplicated = {n for n in names if names.count(n) > 1}
        if duplicated:
            raise ValueError(f"rule names used twice: {sorted(duplicated)}")
        wildcard = tuple(r for r in self.rules if r.pattern.op is None)
        self._by_op: dict[str, tuple[Rule, ...]] = {
            op: tuple(r for r in self.rules if r.pattern.op is None or op == r.pattern.op
                      or (not isinstance(r.pattern.op, str) and op in r.pattern.op))
            for op in OPS
        }
        self._wildcard = wildcard

    def __getitem__(self, name: str) -> Rule:
        return next(r for r in self.rules if r.name == name)

    def __iter__(self):
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def first(self, node: Node) -> Optional[Node]:
        """The result of the first rule that fires on ``node``, or None."""
        for rule in self._by_op.get(node.op, self._wildcard):
            new = rule.apply(node)
            if new is not None and new is not node:
                return new
        return None


MAX_STEPS_AT_A_NODE = 1000  # a rule set that cycles is a bug: stop, loudly


def rewrite(root: Node, rules: Union[RuleSet, Sequence[Rule]],
            at: Optional[Callable[[Node], bool]] = None, fixpoint: bool = True,
            after: Optional[Callable[[Node, Node], None]] = None) -> Node:
    """Rebuild ``root`` bottom-up, applying ``rules`` at every node to a fixpoint.

    ``at`` limits the rules to the original nodes for which it is true (the
    nodes above are still rebuilt on the new arguments); without ``fixpoint``
    a node's replacement is not offered to the rules again. ``after(node, new)``
    learns each original node's result before its users are rebuilt.
    """
    ruleset = rules if isinstance(rules, RuleSet) else RuleSet(rules)
    done: dict[int, Node] = {}
    for node in topological(root):
        args = tuple(done[id(a)] for a in node.args)
        new = node if args == node.args else Node(node.op, args, node.value)
        if at is None or at(node):
            for _ in range(MAX_STEPS_AT_A_NODE):
                replaced = ruleset.first(new)
                if replaced is None:
                    break
                new = replaced
                if not fixpoint:
                    break
            else:
                from .interpret import describe

                raise RuntimeError(f"rewrite did not converge at {describe(new)}")
        done[id(node)] = new
        if after is not None:
            after(node, new)
    return done[id(root)]
