"""Polynomials: expand, then evaluate by Horner's rule when that is shorter.

An arithmetic region of the IR (add, sub, neg, mul, square, pow and
constants over "atoms": variables, abs(...) nodes and anything else) is a
polynomial in its atoms. This pass expands each region to its polynomial and
lowers that again, choosing the cheapest of a few evaluation schemes:

- Horner's rule in one atom x, whose steps multiply by x^gap: an even
  polynomial steps by x^2 (one Square, shared, then Horner in d^2), an odd
  one ends with one multiplication by x (d * q(d^2));
- a plain sum of monomials, each power along its addition chain;
- the region as written, which wins whenever expansion does not pay
  (square(d + 1) is 2 operations; d^2 + 2d + 1 is 3), and whenever the
  lowering would be less accurate in float32 (``accuracy``: expanding
  square(d-100)*square(d+100) cancels catastrophically near d = 100).

Powers of an absolute value may also be reduced, abs(y)^2k = y^2k, which
writes a polynomial in a = abs(d) as E(d^2) + a*O(d^2), with one Abs; that
is one more candidate, next to Horner's rule in a itself.

>>> from losscc import ir
>>> d = ir.var("d")
>>> p = ir.add(ir.add(ir.mul(ir.const(3.0), ir.pow_(d, 4)),
...                  ir.mul(ir.const(2.0), ir.square(d))), ir.const(1.0))
>>> ir.describe(polynomials(p))                     # 3d^4 + 2d^2 + 1
'((3.0*d^2 + 2.0)*d^2 + 1.0)'
"""
from __future__ import annotations

from functools import reduce
from typing import Any, Callable, Optional

from ... import ir
from ...ir.patterns import MAX_STEPS_AT_A_NODE, Pat, Rule, RuleSet, rewrite
from ...ir.polynomial import Polynomial, TooLarge, of_region
from ...limits import MAX_POLY_CANDIDATES, MAX_POLY_DEGREE, MAX_POLY_TERMS
from .powers import count_ops, power
from .rules import RULES

ARITHMETIC = frozenset({"const", "add", "sub", "neg", "mul", "square", "pow"})

Terms = dict  # a Polynomial's {monomial: coefficient}


class RegionPolynomial(Polynomial):
    """What a region expands to; beyond these sizes it stays as written."""

    MAX_TERMS = MAX_POLY_TERMS
    MAX_DEGREE = MAX_POLY_DEGREE


MAX_GATE_WORK = 4_000_000  # node evaluations the accuracy gate may spend on one loss


def cheapest(region: ir.Node, gate: Optional["_Gate"] = None) -> ir.Node:
    """``region`` or its Horner/monomial lowering: the lowering if it is shorter and as accurate.

    A form's cost is the operations of the region itself, with its atoms'
    arguments taken as given: they are computed whichever form is chosen
    (abs(y)^2 = y^2 still needs y), and counting them again for every region
    would take time quadratic in the loss (nested abs(d + abs(d + ...)), where
    each region holds all the others).
    """
    poly = to_poly(region)
    if poly is None:
        return region
    given = frozenset(id(arg) for atom in poly.atoms() for arg in atom.args)
    cost: Callable[[ir.Node], int] = lambda node: _local_ops(node, given)  # noqa: E731
    candidate = lower_poly(poly.terms, cost=cost)
    if cost(candidate) >= cost(region):
        return region
    return candidate if (gate or _Gate()).keeps_accuracy(region, candidate) else region


class _Gate:
    """The accuracy gate for one loss: one budget for all its regions (bounded time).

    ``accuracy`` is imported at the first region that needs it: most losses
    have none, and ``losscc compile`` stays as fast as it was.
    """

    def __init__(self) -> None:
        self.budget: Any = None

    def keeps_accuracy(self, written: ir.Node, candidate: ir.Node) -> bool:
        from .accuracy import Budget, keeps_accuracy

        if self.budget is None:
            self.budget = Budget(MAX_GATE_WORK)
        return keeps_accuracy(written, candidate, self.budget)


def _region_rule(build: Callable[[ir.Node], ir.Node]) -> Rule:
    return Rule("polynomial", Pat(ARITHMETIC - {"const"}, name="region",
                                  shown="an arithmetic region"),
                build, "its cheapest evaluation scheme")


LOWER_REGION = RuleSet([_region_rule(cheapest)])


def polynomials(root: ir.Node) -> ir.Node:
    """Lower every maximal arithmetic region by its cheapest scheme (once each).

    Each region is costed on its own, but regions can share nodes (a lowered
    min uses d - c both inside and outside an abs): rewriting one region
    keeps the shared nodes alive for the others and can lengthen the whole.
    So the whole is compared at the end, and the loss kept as it was if the
    rewritten one would take more operations.
    """
    region_roots = {id(root)} | {
        id(arg) for n in ir.topological(root) if n.op not in ARITHMETIC for arg in n.args
    }
    gate = _Gate()
    rules = RuleSet([_region_rule(lambda region: cheapest(region, gate))])
    result = rewrite(root, rules, at=lambda node: id(node) in region_roots, fixpoint=False)
    if result is root or count_ops(result) <= count_ops(root):
        return result
    return root


def _local_ops(root: ir.Node, given: frozenset) -> int:
    """The operations of ``root`` once its powers are lowered, the ``given`` nodes (ids) free."""
    stop = lambda node: id(node) in given  # noqa: E731
    lowered: dict[int, ir.Node] = {}
    for node in ir.topological(root, stop):
        if stop(node) or not node.args:
            lowered[id(node)] = node
        elif node.op == "pow":
            base = lowered[id(node.args[0])]
            lowered[id(node)] = power(base, node.value)  # type: ignore[arg-type]
        else:
            lowered[id(node)] = ir.Node(node.op, tuple(lowered[id(a)] for a in node.args),
                                        node.value)
    return sum(1 for node in ir.topological(lowered[id(root)], stop)
               if node.args and not stop(node))


# Expansion ----------------------------------------------------------------

def to_poly(region: ir.Node) -> Optional[Polynomial]:
    """The polynomial ``region`` computes in its atoms, or None if it is too large to expand."""
    try:
        return of_region(region, RegionPolynomial, ARITHMETIC)
    except TooLarge:
        return None


def _reduce_abs(poly: Terms, a: ir.Node) -> Terms:
    """``poly`` with abs(y)^e written abs(y)^(e mod 2) * y^(e - e mod 2)."""
    out: Terms = {}
    for m, c in poly.items():
        powers = dict(m)
        e = powers.pop(a, 0)
        inner = a.args[0]
        powers[inner] = powers.get(inner, 0) + e - e % 2
        powers[a] = e % 2
        key = Polynomial.monomial(powers)
        out[key] = out.get(key, 0.0) + c
    return {m: c for m, c in out.items() if c != 0.0}


def _lift_abs(poly: Terms, a: ir.Node) -> Optional[Terms]:
    """``poly`` with y^2k written abs(y)^2k, if y = a's argument has only even powers."""
    inner = a.args[0]
    if not any(atom is inner for m in poly for atom, _ in m):
        return None
    out: Terms = {}
    for m, c in poly.items():
        powers = dict(m)
        e = powers.pop(inner, 0)
        if e % 2:
            return None
        powers[a] = powers.get(a, 0) + e
        key = Polynomial.monomial(powers)
        out[key] = out.get(key, 0.0) + c
    return {m: c for m, c in out.items() if c != 0.0}


# Lowering -----------------------------------------------------------------
#
# A polynomial is lowered pivot by pivot: split by the powers of one atom
# (an Abs first: it appears at most to the first power once reduced, so
# abs(d) is split off once; else the atom of highest degree), lower each
# coefficient polynomial the same way, and join them by Horner's rule or as
# a sum of monomials, whichever is shorter. A pivot abs(y) may also be
# rewritten through abs(y)^2 = y^2 (both ways), and each form is lowered and
# counted. That search is exponential in the number of Abs atoms, so it has
# a budget: after MAX_POLY_CANDIDATES polynomials, only the plain splits are
# made. The work is a loop over a stack of tasks (no recursion), each
# polynomial lowered once (a memo), so neither depth nor time grows with the
# number of atoms faster than their product with the terms.


def lower_poly(poly: Terms, rewrite_abs: bool = True,
               cost: Callable[[ir.Node], int] = count_ops) -> ir.Node:
    """IR (with pow nodes) evaluating ``poly`` by its cheapest scheme.

    With ``rewrite_abs``, a polynomial with an atom a = abs(y) is also tried
    in the two other forms of a^2 = y^2: every a^2k as y^2k (E(y^2) + a O(y^2)),
    and, when y has only even powers, every y^2k as a^2k (Horner in a alone).
    """
    return _Lowering(cost).run(_Task(poly, rewrite_abs))


class _Task:
    """One polynomial to lower; ``plan`` finds the lowerings it waits for."""

    __slots__ = ("key", "poly", "rewrite_abs", "pivot", "coefficients", "alternatives",
                 "planned")

    def __init__(self, poly: Terms, rewrite_abs: bool) -> None:
        self.poly = poly
        self.rewrite_abs = rewrite_abs
        self.key = (frozenset(poly.items()), rewrite_abs)
        self.pivot: Optional[ir.Node] = None
        self.coefficients: dict[int, _Task] = {}
        self.alternatives: list[_Task] = []
        self.planned = False

    def plan(self, may_try_forms: bool) -> None:
        self.planned = True
        poly = self.poly
        atoms = sorted({atom for m in poly for atom, _ in m}, key=lambda a: a.digest)
        if not atoms:
            return
        degree = _degrees(poly)
        self.pivot = pivot = max(atoms, key=lambda a: (a.op == "abs", degree[a]))
        by_power: dict[int, Terms] = {}
        for m, c in poly.items():
            e = dict(m).get(pivot, 0)
            rest = tuple(item for item in m if item[0] is not pivot)
            by_power.setdefault(e, {})[rest] = c
        self.coefficients = {e: _Task(q, True) for e, q in by_power.items()}
        if self.rewrite_abs and pivot.op == "abs" and may_try_forms:
            forms = [_reduce_abs(poly, pivot) if max(by_power) >= 2 else None,
                     _lift_abs(poly, pivot)]
            self.alternatives = [_Task(f, False) for f in forms if f is not None]

    def needs(self) -> list["_Task"]:
        return [*self.coefficients.values(), *self.alternatives]

    def lower(self, done: dict, cost: Callable[[ir.Node], int]) -> ir.Node:
        if self.pivot is None:
            return ir.const(self.poly.get((), 0.0))
        coefficients = {e: done[t.key] for e, t in self.coefficients.items()}
        candidates = [_horner(self.pivot, coefficients), _monomials(self.pivot, coefficients)]
        candidates += [done[t.key] for t in self.alternatives]
        if len(candidates) == 2 and candidates[0] is candidates[1]:
            return candidates[0]  # exponents 0 and 1 only: one form, nothing to count
        return min(candidates, key=cost)  # first of the cheapest: deterministic


class _Lowering:
    """One lower_poly call: a stack of tasks, the memo of lowered polynomials, the budget."""

    def __init__(self, cost: Callable[[ir.Node], int]) -> None:
        self.cost = cost
        self.done: dict = {}
        self.planned = 0

    def run(self, root: _Task) -> ir.Node:
        stack = [root]
        while stack:
            task = stack[-1]
            if task.key in self.done:
                stack.pop()
                continue
            if not task.planned:
                self.planned += 1
                task.plan(may_try_forms=self.planned <= MAX_POLY_CANDIDATES)
                pending = [t for t in task.needs() if t.key not in self.done]
                if pending:
                    stack.extend(pending)
                    continue
            elif any(t.key not in self.done for t in task.needs()):
                # Everything a task waits for is lowered before it is seen again, unless it
                # waits for itself: a bug.
                raise RuntimeError("the polynomial lowering waits on itself")
            self.done[task.key] = task.lower(self.done, self.cost)
            stack.pop()
        return self.done[root.key]


def _degrees(poly: Terms) -> dict[ir.Node, int]:
    """Each atom's highest power in ``poly``."""
    degree: dict[ir.Node, int] = {}
    for m in poly:
        for atom, e in m:
            degree[atom] = max(degree.get(atom, 0), e)
    return degree


def _settled(node: ir.Node) -> ir.Node:
    """``node`` with the identities applied at its top, its arguments being settled already.

    What ``identities`` would do to a tree whose only unsettled nodes are the
    ones Horner's rule just built, without walking the settled rest again.
    """
    for _ in range(MAX_STEPS_AT_A_NODE):
        new = RULES.first(node)
        if new is None:
            return node
        node = new
    raise RuntimeError(f"the identities do not converge at {ir.describe(node)}")


def _times(c: ir.Node, x: ir.Node) -> ir.Node:
    """c * x, without multiplying by a constant 1 or -1 (x settled; the result is too)."""
    if c.is_const and c.value == 1.0:
        return x
    if c.is_const and c.value == -1.0:
        return _settled(ir.neg(x))
    return _settled(ir.mul(c, x))


def _power(x: ir.Node, n: int) -> ir.Node:
    return _settled(ir.pow_(x, n))


def _sum(a: ir.Node, b: ir.Node) -> ir.Node:
    return _settled(ir.add(a, b))


def _horner(x: ir.Node, coefficients: dict[int, ir.Node]) -> ir.Node:
    """((c1 x^g1 + c2) x^g2 + c3) ... x^emin, each x^g along its addition chain."""
    exps = sorted(coefficients, reverse=True)
    acc = coefficients[exps[0]]
    for high, low in zip(exps, exps[1:]):
        acc = _sum(_times(acc, _power(x, high - low)), coefficients[low])
    if exps[-1] > 0:
        acc = _times(acc, _power(x, exps[-1]))
    return acc


def _monomials(x: ir.Node, coefficients: dict[int, ir.Node]) -> ir.Node:
    """c1 x^e1 + c2 x^e2 + ...: no multiplications between terms."""
    terms = [_times(coefficients[e], _power(x, e)) if e else coefficients[e]
             for e in sorted(coefficients, reverse=True)]
    return reduce(_sum, terms)
