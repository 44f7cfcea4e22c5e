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
from .nodes import Node

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


class Shape:
    """Bounds on a piecewise polynomial: its degree, and how many kinks (piece ends) it has.

    A number system for ``interpret``: each operation's meaning in the op
    table, run on Shapes, bounds the shape of its result, so an operation
    added to the table is covered without a change here. abs(x) adds a kink
    at each root of x (at most its degree), min(a, b) and max(a, b) one at
    each root of a - b. Values saturate at SATURATE, so a formula of nested
    squares stays cheap to bound.

    >>> d = Shape(1, 0)
    >>> SHAPES.abs(d * d - Shape(0, 0)) ** 3
    Shape(degree=6, kinks=2)
    """

    SATURATE = 1 << 20

    __slots__ = ("degree", "kinks")

    def __init__(self, degree: int, kinks: int) -> None:
        self.degree = min(degree, self.SATURATE)
        self.kinks = min(kinks, self.SATURATE)

    def __repr__(self) -> str:
        return f"Shape(degree={self.degree}, kinks={self.kinks})"

    def __add__(self, other: Any) -> "Shape":
        other = _shape(other)
        return Shape(max(self.degree, other.degree), self.kinks + other.kinks)

    __radd__ = __sub__ = __rsub__ = __add__

    def __mul__(self, other: Any) -> "Shape":
        other = _shape(other)
        return Shape(self.degree + other.degree, self.kinks + other.kinks)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> "Shape":  # meanings divide by constants only
        return Shape(self.degree, self.kinks + _shape(other).kinks)

    def __neg__(self) -> "Shape":
        return self

    def __pow__(self, n: int) -> "Shape":
        return Shape(n * self.degree, self.kinks)


def _shape(value: Any) -> Shape:
    return value if isinstance(value, Shape) else Shape(0, 0)


def _kinked(a: Any, b: Any) -> Shape:
    """min(a, b) or max(a, b): a kink at each root of a - b."""
    a, b = _shape(a), _shape(b)
    degree = max(a.degree, b.degree)
    return Shape(degree, a.kinks + b.kinks + degree)


SHAPES = SimpleNamespace(abs=lambda a: Shape(a.degree, a.kinks + a.degree),
                         square=lambda a: a * a, minimum=_kinked, maximum=_kinked,
                         number=lambda value: Shape(0, 0))


def shape_of(root: Node) -> Shape:
    """The Shape of ``root`` as a function of its variables (each of degree 1), in one pass."""
    return interpret(root, SHAPES, lambda node: Shape(0 if node.op == "const" else 1, 0))


def degree_bound(root: Node, cap: int) -> int:
    """The degree of ``root`` as a polynomial in its variables, counting abs(x) as x.

    An upper bound (cancellation may lower the true degree); it saturates at
    ``cap + 1``, so the numbers stay small however deep squares are nested.

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
    return min(shape_of(root).degree, cap + 1)


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
