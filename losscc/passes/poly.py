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
  (square(d + 1) is 2 operations; d^2 + 2d + 1 is 3).

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

import math
from functools import reduce
from typing import Optional

from .. import ir
from .powers import count_ops
from .rules import identities

ARITHMETIC = frozenset({"const", "add", "sub", "neg", "mul", "square", "pow"})
MAX_DEGREE = 1024  # per atom; beyond it a region stays as written
MAX_TERMS = 512

Monomial = tuple[tuple[ir.Node, int], ...]  # (atom, exponent), atoms in digest order
Poly = dict[Monomial, float]


def polynomials(root: ir.Node) -> ir.Node:
    """Lower every maximal arithmetic region by its cheapest scheme."""
    region_roots = {id(root)} | {
        id(arg) for n in ir.topological(root) if n.op not in ARITHMETIC for arg in n.args
    }
    done: dict[int, ir.Node] = {}
    for node in ir.topological(root):
        args = tuple(done[id(a)] for a in node.args)
        new = node if args == node.args else ir.Node(node.op, args, node.value)
        if id(node) in region_roots and new.op in ARITHMETIC and not new.is_const:
            new = cheapest(new)
        done[id(node)] = new
    return done[id(root)]


def cheapest(region: ir.Node) -> ir.Node:
    """``region`` or its Horner/monomial lowering, whichever takes fewer operations."""
    poly = to_poly(region)
    if poly is None:
        return region
    candidate = lower_poly(poly)
    return candidate if count_ops(candidate) < count_ops(region) else region


# Expansion ----------------------------------------------------------------

def to_poly(region: ir.Node) -> Optional[Poly]:
    """The polynomial ``region`` computes, or None if it is too large to expand."""
    polys: dict[int, Optional[Poly]] = {}
    for node in _region_order(region):
        if node.op not in ARITHMETIC:
            polys[id(node)] = {_monomial({node: 1}): 1.0}
            continue
        args = [polys[id(a)] for a in node.args]
        if any(a is None for a in args):
            polys[id(node)] = None
            continue
        if node.op == "const":
            p: Optional[Poly] = {(): node.value} if node.value else {}
        elif node.op == "add":
            p = _add(args[0], args[1], 1.0)
        elif node.op == "sub":
            p = _add(args[0], args[1], -1.0)
        elif node.op == "neg":
            p = {m: -c for m, c in args[0].items()}
        elif node.op == "mul":
            p = _mul(args[0], args[1])
        elif node.op == "square":
            p = _mul(args[0], args[0])
        else:  # pow
            p = _power(args[0], node.value)
        polys[id(node)] = p
    return polys[id(region)]


def _region_order(region: ir.Node) -> list[ir.Node]:
    """The region's nodes, arguments first, not descending into atoms."""
    order: list[ir.Node] = []
    seen: set[int] = set()
    stack = [(region, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in seen:
            continue
        if expanded or node.op not in ARITHMETIC:
            seen.add(id(node))
            order.append(node)
            continue
        stack.append((node, True))
        stack.extend((a, False) for a in reversed(node.args) if id(a) not in seen)
    return order


def _monomial(powers: dict[ir.Node, int]) -> Monomial:
    """Canonical monomial: atoms in digest order, zero exponents dropped."""
    items = [(atom, e) for atom, e in powers.items() if e]
    return tuple(sorted(items, key=lambda item: item[0].digest))


def _reduce_abs(poly: Poly, a: ir.Node) -> Poly:
    """``poly`` with abs(y)^e written abs(y)^(e mod 2) * y^(e - e mod 2)."""
    out: Poly = {}
    for m, c in poly.items():
        powers = dict(m)
        e = powers.pop(a, 0)
        inner = a.args[0]
        powers[inner] = powers.get(inner, 0) + e - e % 2
        powers[a] = e % 2
        key = _monomial(powers)
        out[key] = out.get(key, 0.0) + c
    return {m: c for m, c in out.items() if c != 0.0}


def _lift_abs(poly: Poly, a: ir.Node) -> Optional[Poly]:
    """``poly`` with y^2k written abs(y)^2k, if y = a's argument has only even powers."""
    inner = a.args[0]
    if not any(atom is inner for m in poly for atom, _ in m):
        return None
    out: Poly = {}
    for m, c in poly.items():
        powers = dict(m)
        e = powers.pop(inner, 0)
        if e % 2:
            return None
        powers[a] = powers.get(a, 0) + e
        key = _monomial(powers)
        out[key] = out.get(key, 0.0) + c
    return {m: c for m, c in out.items() if c != 0.0}


def _add(a: Poly, b: Poly, sign: float) -> Poly:
    out = dict(a)
    for m, c in b.items():
        out[m] = out.get(m, 0.0) + sign * c
    return {m: c for m, c in out.items() if c != 0.0}


def _mul(a: Optional[Poly], b: Optional[Poly]) -> Optional[Poly]:
    if a is None or b is None or len(a) * len(b) > MAX_TERMS * 8:
        return None
    out: Poly = {}
    for ma, ca in a.items():
        for mb, cb in b.items():
            powers = dict(ma)
            for atom, e in mb:
                powers[atom] = powers.get(atom, 0) + e
            if any(e > MAX_DEGREE for e in powers.values()):
                return None
            m = _monomial(powers)
            out[m] = out.get(m, 0.0) + ca * cb
    out = {m: c for m, c in out.items() if c != 0.0}
    if len(out) > MAX_TERMS or not all(math.isfinite(c) for c in out.values()):
        return None
    return out


def _power(p: Poly, n: int) -> Optional[Poly]:
    result: Optional[Poly] = {(): 1.0}
    base: Optional[Poly] = p
    while n and result is not None:
        if n & 1:
            result = _mul(result, base)
        n >>= 1
        if n:
            base = _mul(base, base)
    return result


# Lowering -----------------------------------------------------------------

def lower_poly(poly: Poly, rewrite_abs: bool = True) -> ir.Node:
    """IR (with pow nodes) evaluating ``poly`` by its cheapest scheme.

    With ``rewrite_abs``, a polynomial with an atom a = abs(y) is also tried
    in the two other forms of a^2 = y^2: every a^2k as y^2k (E(y^2) + a O(y^2)),
    and, when y has only even powers, every y^2k as a^2k (Horner in a alone).
    """
    atoms = sorted({atom for m in poly for atom, _ in m}, key=lambda a: a.digest)
    if not atoms:
        return ir.const(poly.get((), 0.0))
    # Pivot on an Abs atom first (it appears at most to the first power), so
    # abs(d) is split off once; then on the atom of highest degree.
    pivot = max(atoms, key=lambda a: (a.op == "abs", _degree(poly, a)))
    by_power: dict[int, Poly] = {}
    for m, c in poly.items():
        e = dict(m).get(pivot, 0)
        rest = tuple(item for item in m if item[0] is not pivot)
        by_power.setdefault(e, {})[rest] = c
    coefficients = {e: lower_poly(q) for e, q in by_power.items()}
    candidates = [_horner(pivot, coefficients), _monomials(pivot, coefficients)]
    if rewrite_abs and pivot.op == "abs":
        if max(by_power) >= 2:
            candidates.append(lower_poly(_reduce_abs(poly, pivot), rewrite_abs=False))
        lifted = _lift_abs(poly, pivot)
        if lifted is not None:
            candidates.append(lower_poly(lifted, rewrite_abs=False))
    return min(candidates, key=count_ops)  # first of the cheapest: deterministic


def _degree(poly: Poly, atom: ir.Node) -> int:
    return max(dict(m).get(atom, 0) for m in poly)


def _times(c: ir.Node, x: ir.Node) -> ir.Node:
    """c * x, without multiplying by a constant 1 or -1."""
    if c.is_const and c.value == 1.0:
        return x
    if c.is_const and c.value == -1.0:
        return ir.neg(x)
    return ir.mul(c, x)


def _horner(x: ir.Node, coefficients: dict[int, ir.Node]) -> ir.Node:
    """((c1 x^g1 + c2) x^g2 + c3) ... x^emin, each x^g along its addition chain."""
    exps = sorted(coefficients, reverse=True)
    acc = coefficients[exps[0]]
    for high, low in zip(exps, exps[1:]):
        acc = ir.add(_times(acc, ir.pow_(x, high - low)), coefficients[low])
    if exps[-1] > 0:
        acc = _times(acc, ir.pow_(x, exps[-1]))
    return identities(acc)


def _monomials(x: ir.Node, coefficients: dict[int, ir.Node]) -> ir.Node:
    """c1 x^e1 + c2 x^e2 + ...: no multiplications between terms."""
    terms = [_times(coefficients[e], ir.pow_(x, e)) if e else coefficients[e]
             for e in sorted(coefficients, reverse=True)]
    return identities(reduce(ir.add, terms))
