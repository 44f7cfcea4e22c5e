"""Sparse polynomials over any coefficients, and the polynomial an IR region computes.

One polynomial arithmetic for every part of losscc that needs one: the
compiler's polynomial pass (float coefficients, atoms such as d and abs(d)),
the compile-time analysis screen (exact Fractions), the Taylor route's
Chebyshev basis (mpmath numbers). A monomial is a tuple of (atom, exponent)
pairs in a canonical order; atoms are IR nodes, ordered by digest.

Sizes are bounded: a subclass sets ``MAX_TERMS`` and ``MAX_DEGREE``, and an
operation whose result would exceed them raises ``TooLarge`` (so does one
whose float coefficients overflow).

>>> from losscc import ir
>>> d = Polynomial.atom(ir.var("d"))
>>> p = (d + Polynomial.constant(1.0)) ** 2
>>> sorted(p.univariate().items())
[(0, 1.0), (1, 2.0), (2, 1.0)]
"""
from __future__ import annotations

import math
from fractions import Fraction
from types import SimpleNamespace
from typing import Any, Callable, Optional

from .interpret import interpret
from .nodes import Node, topological

Monomial = tuple[tuple[Node, int], ...]


class TooLarge(Exception):
    """A polynomial beyond the size limits of its class."""


class Polynomial:
    """An immutable sparse polynomial {monomial: coefficient}, zero coefficients dropped."""

    MAX_TERMS: Optional[int] = None
    MAX_DEGREE: Optional[int] = None  # per atom

    __slots__ = ("terms",)

    def __init__(self, terms: dict[Monomial, Any]) -> None:
        self.terms = {m: c for m, c in terms.items() if c != 0}

    @classmethod
    def constant(cls, value: Any) -> "Polynomial":
        return cls({(): value})

    @classmethod
    def atom(cls, node: Node) -> "Polynomial":
        return cls({((node, 1),): 1.0 if cls._float_coefficients() else 1})

    @classmethod
    def _float_coefficients(cls) -> bool:
        return True

    @staticmethod
    def monomial(powers: dict[Node, int]) -> Monomial:
        """Canonical monomial: atoms in digest order, zero exponents dropped."""
        return tuple(sorted(((a, e) for a, e in powers.items() if e), key=lambda i: i[0].digest))

    # Arithmetic -------------------------------------------------------------

    def _add(self, other: "Polynomial", sign: Any) -> "Polynomial":
        out = dict(self.terms)
        for m, c in other.terms.items():
            out[m] = out.get(m, 0) + sign * c
        total = type(self)(out)
        if self.MAX_TERMS is not None and len(total.terms) > self.MAX_TERMS:
            raise TooLarge(f"more than {self.MAX_TERMS} terms")
        return total

    def __add__(self, other: "Polynomial") -> "Polynomial":
        return self._add(other, 1)

    def __sub__(self, other: "Polynomial") -> "Polynomial":
        return self._add(other, -1)

    def __neg__(self) -> "Polynomial":
        return type(self)({m: -c for m, c in self.terms.items()})

    def __mul__(self, other: "Polynomial") -> "Polynomial":
        if self.MAX_TERMS is not None and len(self.terms) * len(other.terms) > self.MAX_TERMS * 8:
            raise TooLarge("the product has too many terms")
        out: dict[Monomial, Any] = {}
        for ma, ca in self.terms.items():
            for mb, cb in other.terms.items():
                powers = dict(ma)
                for atom, e in mb:
                    powers[atom] = powers.get(atom, 0) + e
                if self.MAX_DEGREE is not None and any(e > self.MAX_DEGREE
                                                       for e in powers.values()):
                    raise TooLarge(f"a degree above {self.MAX_DEGREE}")
                m = self.monomial(powers)
                out[m] = out.get(m, 0) + ca * cb
        product = type(self)(out)
        if self.MAX_TERMS is not None and len(product.terms) > self.MAX_TERMS:
            raise TooLarge(f"more than {self.MAX_TERMS} terms")
        if not all(math.isfinite(c) for c in product.terms.values() if isinstance(c, float)):
            raise TooLarge("a coefficient overflows")
        return product

    def scaled(self, factor: Any) -> "Polynomial":
        return type(self)({m: factor * c for m, c in self.terms.items()})

    def __pow__(self, n: int) -> "Polynomial":
        """By repeated squaring."""
        result = type(self).constant(1.0 if self._float_coefficients() else 1)
        base = self
        while n:
            if n & 1:
                result = result * base
            n >>= 1
            if n:
                base = base * base
        return result

    # Reading it ---------------------------------------------------------------

    def atoms(self) -> list[Node]:
        return sorted({a for m in self.terms for a, _ in m}, key=lambda a: a.digest)

    def degree(self, atom: Node) -> int:
        return max((dict(m).get(atom, 0) for m in self.terms), default=0)

    def univariate(self) -> dict[int, Any]:
        """{total degree: coefficient}: the polynomial in one variable (all atoms as one)."""
        out: dict[int, Any] = {}
        for m, c in self.terms.items():
            k = sum(e for _, e in m)
            out[k] = out.get(k, 0) + c
        return out


class ExactPolynomial(Polynomial):
    """Fraction coefficients (exact arithmetic): a float constant is taken exactly."""

    @classmethod
    def constant(cls, value: Any) -> "Polynomial":
        return cls({(): Fraction(value)})

    @classmethod
    def _float_coefficients(cls) -> bool:
        return False


def degree_bound(root: Node, cap: int) -> int:
    """The degree of ``root`` as a polynomial in its variables, counting abs(x) as x.

    An upper bound (cancellation may lower the true degree), computed in one
    iterative pass; it saturates at ``cap + 1``, so the numbers stay small
    however deep squares are nested.

    >>> from losscc import ir
    >>> d = ir.var("d")
    >>> degree_bound(ir.mul(ir.abs_(d), ir.square(ir.add(d, ir.const(1.0)))), 1024)
    3
    >>> x = d
    >>> for _ in range(60):
    ...     x = ir.square(x)
    >>> degree_bound(x, 1024)
    1025
    """
    return degree_bounds(root, cap)[id(root)]


def degree_bounds(root: Node, cap: int) -> dict[int, int]:
    """degree_bound of every node below ``root``, by id."""
    degree: dict[int, int] = {}
    for node in topological(root):
        args = [degree[id(a)] for a in node.args]
        if node.op == "const":
            k = 0
        elif node.op == "var":
            k = 1
        elif node.op == "mul":
            k = args[0] + args[1]
        elif node.op == "square":
            k = 2 * args[0]
        elif node.op == "pow":
            k = int(node.value) * args[0]  # type: ignore[arg-type]
        else:  # add, sub, neg, abs and every operation that keeps the degree
            k = max(args)
        degree[id(node)] = min(k, cap + 1)
    return degree


def check_degree(root: Node, text: str, start: int, end: int) -> None:
    """Refuse a loss whose degree is above MAX_DEGREE (nested squares multiply degrees)."""
    from ..errors import LossccError
    from ..limits import MAX_DEGREE

    if degree_bound(root, MAX_DEGREE) > MAX_DEGREE:
        raise LossccError(
            f"the loss has a degree above {MAX_DEGREE} in its inputs", text=text, start=start,
            end=end, hint="each square(...) doubles the degree and a product adds them up; "
            f"compile takes losses up to degree {MAX_DEGREE}, as it does powers (d^{MAX_DEGREE})")


def of_region(root: Node, kind: type, arithmetic: frozenset,
              abs_: Optional[Callable[[Polynomial], Polynomial]] = None,
              leaf: Optional[Callable[[Node], Polynomial]] = None) -> Polynomial:
    """The polynomial ``root`` computes in the atoms below its ``arithmetic`` operations.

    Nodes outside ``arithmetic`` are atoms (not looked into); ``abs_`` gives
    abs a meaning on polynomials when "abs" is one of the operations.
    Raises TooLarge when ``kind``'s limits are exceeded.
    """
    def leaf_of(node: Node) -> Polynomial:
        if node.op == "const":
            return kind.constant(node.value)
        return leaf(node) if leaf is not None else kind.atom(node)

    lib = SimpleNamespace(square=lambda p: p * p, abs=abs_)
    return interpret(root, lib, leaf_of, stop=lambda n: n.op not in arithmetic)
