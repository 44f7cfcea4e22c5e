"""Cells in Abs/Square/Mul/Add/Sub that clip, centre and evaluate polynomials robustly.

A ``Layout`` says how the cell turns d into the variables of its
polynomials, and what linear part it adds:

    cell(d) = alpha*d + beta*|d| + P_0(w_0) + P_1(w_1) + ...

- route "u": w is a centred, clipped |d| (a polynomial in min(|d|, U)),
  for a remainder with a kink at 0 that beta*|d| cancels (log(cosh(d)));
- route "v": w is a centred min(|d|, U)^2, for a smooth even remainder
  (1 - exp(-d^2/2));
- route "d": w = d on a finite range, no structure (a plain polynomial in d);
- route "o": d * P(d^2 - R^2/2) on a finite range, for an odd f (atan(d)).

The clip is ``m = s + |s|`` with ``s = U - x``: 0 when s <= 0 and 2s
otherwise, both *exactly*, whatever the rounding of s. For every x >= U the
computed m is exactly 0, so the polynomial is evaluated at exactly its end,
even at x = 3.4e38. (``|x| - |x - U|``, the textbook clip, cancels
catastrophically for huge x.) The clip comes before the Square on route v:
d^2 overflows for |d| > 1.8e19. The gradient beyond the clip is the
asymptote's (MindSpore's Abs'(0) = 0 makes d(s + |s|)/ds = 0 for s < 0).

Pieces (route u): knots 0 < a_1 < ... < U; piece j's variable is
``clip(x, a_j, a_(j+1)) - a_j``, made from ``r_j = z_j + |z_j|`` with
``z_j`` = 2(min(x, U) - a_j), exact for huge x as above; each piece's
polynomial vanishes at its left end, so the sum is continuous.

Polynomials are evaluated by Horner's rule in the centred variable (its
coefficients in powers of w, conditioned because w is centred), or by
Clenshaw's recurrence in the Chebyshev basis (t = w / half).

>>> layout = Layout("u", clip=6.5, reach=6.5, alpha=0.0, beta=1.0)
>>> [(v.lo, v.hi) for v in layout.variables()]
[(-6.5, 6.5)]
>>> from losscc import ir
>>> ir.describe(layout.build([[-0.5, 0.25]]))
'(abs(d) + ((6.5 - ((6.5 - abs(d)) + abs((6.5 - abs(d)))))*0.25 + -0.5))'
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from .. import ir
from ..floats import show, to_float32


@dataclass(frozen=True)
class Variable:
    """A polynomial's variable w in [lo, hi], and u = |d| (d on route d) as a function of w."""

    lo: float
    hi: float
    to_u: Callable[[np.ndarray], np.ndarray]
    left: bool  # the polynomial must vanish at w = lo (a piece after the first)
    rate: Callable[[np.ndarray], np.ndarray]  # dw/du, as a function of u


@dataclass(frozen=True)
class Layout:
    """How the cell is laid out: route, clip point or range, knots, linear part."""

    route: str
    clip: Optional[float]  # U, in units of x = kappa*|d| (None: a finite range)
    reach: float  # the range R (or U) in |d|
    alpha: float = 0.0  # float32 numbers
    beta: float = 0.0
    knots: tuple[float, ...] = ()  # interior knots, in units of x
    scheme: str = "horner"  # or "clenshaw"

    @property
    def relu(self) -> bool:
        """alpha*d + beta*|d| with beta = |alpha|: h + |h|, h = alpha*d (one Mul, one Add)."""
        return self.route == "u" and self.alpha != 0 and self.beta == abs(self.alpha)

    @property
    def kappa(self) -> float:
        """x = kappa*|d|: the variable the clip and the knots are in."""
        return abs(self.alpha) if self.relu else 1.0

    @property
    def top(self) -> float:
        """The end of the approximated part, in units of x."""
        return self.clip if self.clip is not None else to_float32(self.kappa * self.reach)

    @property
    def edges(self) -> list[float]:
        return [0.0, *self.knots, self.top]

    def slope(self, side: int) -> float:
        """The linear part's slope in u = |d| on side ``side`` (exactly, in reals)."""
        return side * self.alpha + (self.beta if self.route == "u" else 0.0)

    def linear_text(self) -> str:
        """The linear part, as text ("" if none)."""
        if self.relu:
            return f"{show(self.alpha)}*d + {show(self.beta)}*|d|"
        terms = []
        if self.alpha:
            terms.append(f"{show(self.alpha)}*d")
        if self.beta and self.route == "u":
            terms.append("|d|" if self.beta == 1 else f"{show(self.beta)}*|d|")
        return " + ".join(terms)

    def variable_texts(self) -> list[str]:
        """Each polynomial's variable, as text.

        >>> Layout("u", clip=6.5, reach=6.5, beta=1.0, knots=(2.0,)).variable_texts()
        ['w0 = 4*(min(|d|, 2)) - 4', 'w1 = 4*(clip(|d|, 2, 6.5) - 2) - 9']
        """
        x = "|d|" if self.kappa == 1 else f"{show(self.kappa)}*|d|"
        if self.route == "d":
            return ["w = d"]
        if self.route == "o":
            return [f"w = d^2 - {show(_centre(self.reach ** 2 / 2))} (the cell is d*p(w))"]
        if self.route == "v":
            if self.clip is not None:
                return [f"w = (2*min(|d|, {show(self.clip)}))^2 - {show(2 * self.clip ** 2)}"]
            return [f"w = d^2 - {show(_centre(self.reach ** 2 / 2))}"]
        if not self.knots:
            if self.clip is not None:
                return [f"w = 2*min({x}, {show(self.clip)}) - {show(self.clip)}"]
            return [f"w = {x} - {show(_centre(self.top / 2))}"]
        sigma = 4 if self.clip is not None else 2
        out = []
        for j, (a, b) in enumerate(zip(self.edges, self.edges[1:])):
            part = (f"min({x}, {show(b)})" if a == 0
                    else f"clip({x}, {show(a)}, {show(b)}) - {show(a)}")
            out.append(f"w{j} = {sigma}*({part}) - {show(sigma * (b - a) / 2)}")
        return out

    def variables(self) -> list[Variable]:
        """The polynomials' variables, in order."""
        k = self.kappa

        def constant(rate: float) -> Callable[[np.ndarray], np.ndarray]:
            return lambda u: np.full(np.shape(u), rate)

        if self.route == "d":
            return [Variable(-self.reach, self.reach, lambda w: w, False, constant(1.0))]
        if self.route == "o":  # y = d^2 - c; the polynomial approximates f(u)/u
            c = _centre(self.reach**2 / 2)
            return [Variable(-c, self.reach**2 - c, lambda y: np.sqrt(np.maximum(y + c, 0)),
                             False, lambda u: 2 * u)]
        if self.route == "v":
            if self.clip is not None:
                c = 2 * self.clip**2  # y = (2u)^2 - c
                return [Variable(-c, c, lambda y: np.sqrt(np.maximum(y + c, 0) / 4), False,
                                 lambda u: 8 * u)]
            c = _centre(self.reach**2 / 2)  # y = u^2 - c
            return [Variable(-c, self.reach**2 - c, lambda y: np.sqrt(np.maximum(y + c, 0)),
                             False, lambda u: 2 * u)]
        if not self.knots:
            if self.clip is not None:
                top = self.clip  # w = 2 k u - top
                return [Variable(-top, top, lambda w: (w + top) / (2 * k), False,
                                 constant(2 * k))]
            c = _centre(self.top / 2)  # w = k u - c
            return [Variable(-c, self.top - c, lambda w: (w + c) / k, False, constant(k))]
        # pieces: v_j in [0, sigma*L_j] (sigma = 4 clipped, 2 on a finite range),
        # w_j = v_j - sigma*L_j/2
        sigma = 4.0 if self.clip is not None else 2.0
        out = []
        for j, (a, b) in enumerate(zip(self.edges, self.edges[1:])):
            half = sigma * (b - a) / 2

            def to_u(w: np.ndarray, a: float = a, half: float = half) -> np.ndarray:
                return ((w + half) / sigma + a) / k

            out.append(Variable(-half, half, to_u, j > 0, constant(sigma * k)))
        return out

    def build(self, polynomials: Sequence[Sequence[float]]) -> ir.Node:
        """The cell's IR: the polynomials (coefficients of powers of w, or Chebyshev
        coefficients for Clenshaw) in the variables of ``variables``, plus the linear part."""
        d = ir.var("d")
        lin: Optional[ir.Node] = None
        if self.relu:
            h = ir.mul(_c(self.alpha), d)  # before the Add: h + |h| cannot overflow
            x = ir.abs_(h)
            lin = ir.add(h, x)
        else:
            x = ir.abs_(d)
            terms = []
            if self.alpha != 0:
                terms.append(ir.mul(_c(self.alpha), d))
            if self.beta != 0 and self.route == "u":
                terms.append(x if self.beta == 1 else ir.mul(_c(self.beta), x))
            for t in terms:
                lin = t if lin is None else ir.add(lin, t)
        variables = self.variables()
        nodes = self._variable_nodes(d, x)
        total: Optional[ir.Node] = None
        for var, node, coefficients in zip(variables, nodes, polynomials):
            p = (clenshaw(node, coefficients, var.lo, var.hi) if self.scheme == "clenshaw"
                 else horner(node, coefficients))
            total = p if total is None else ir.add(total, p)
        assert total is not None
        if self.route == "o":
            return ir.mul(d, total)
        return total if lin is None else ir.add(lin, total)

    def _variable_nodes(self, d: ir.Node, x: ir.Node) -> list[ir.Node]:
        if self.route == "d":
            return [d]
        if self.route == "o":
            return [ir.sub(ir.square(d), _c(_centre(self.reach**2 / 2)))]
        if self.route == "v":
            if self.clip is not None:
                m = _clip_gap(x, self.clip)
                q = ir.square(ir.sub(_c(2 * self.clip), m))  # (2 min(|d|, U))^2
                return [ir.sub(q, _c(2 * self.clip**2))]
            return [ir.sub(ir.square(d), _c(_centre(self.reach**2 / 2)))]
        if not self.knots:
            if self.clip is not None:
                return [ir.sub(_c(self.clip), _clip_gap(x, self.clip))]  # 2 min(x, U) - U
            return [ir.sub(x, _c(_centre(self.top / 2)))]
        edges = self.edges
        if self.clip is not None:
            m = _clip_gap(x, self.clip)
            double = ir.sub(_c(2 * self.clip), m)  # 2 min(x, U)
            first = ir.add(double, double)  # 4 min(x, U)
            ramps = [_ramp(ir.sub(_c(2 * (self.clip - a)), m)) for a in edges[1:-1]]
            sigma = 4.0
        else:
            first = ir.add(x, x)
            ramps = [_ramp(ir.sub(x, _c(a))) for a in edges[1:-1]]
            sigma = 2.0
        out = []
        for j, (a, b) in enumerate(zip(edges, edges[1:])):
            v = first if j == 0 else ramps[j - 1]
            if j < len(ramps):
                v = ir.sub(v, ramps[j])  # clip(x, a_j, a_(j+1)) - a_j, times sigma
            out.append(ir.sub(v, _c(sigma * (b - a) / 2)))
        return out


def _c(value: float) -> ir.Node:
    exact = to_float32(value)
    if exact != value:
        raise AssertionError(f"a cell constant that float32 does not hold: {value!r}")
    return ir.const(value)


def _centre(value: float) -> float:
    return to_float32(value)


def _clip_gap(x: ir.Node, top: float) -> ir.Node:
    """m = s + |s|, s = top - x: 2*(top - min(x, top)), exact (0 for every x >= top)."""
    s = ir.sub(_c(top), x)
    return ir.add(s, ir.abs_(s))


def _ramp(z: ir.Node) -> ir.Node:
    """z + |z| = 2*max(z, 0), exact."""
    return ir.add(z, ir.abs_(z))


def horner(w: ir.Node, coefficients: Sequence[float]) -> ir.Node:
    """sum c_k w^k by Horner's rule (zero coefficients cost nothing).

    >>> ir.describe(horner(ir.var("d"), [1.0, 0.0, 3.0]))
    '(d*3.0*d + 1.0)'
    """
    c = [float(v) for v in coefficients]
    while len(c) > 1 and c[-1] == 0:
        c.pop()
    n = len(c) - 1
    if n == 0:
        return _c(c[0])
    acc = ir.mul(w, _c(c[n]))
    for k in range(n - 1, -1, -1):
        if c[k] != 0:
            acc = ir.add(acc, _c(c[k]))
        if k > 0:
            acc = ir.mul(acc, w)
    return acc


def clenshaw(w: ir.Node, chebyshev: Sequence[float], lo: float, hi: float) -> ir.Node:
    """sum c_k T_k(t), t = (w - mid)/half, by Clenshaw's recurrence (in Mul/Add/Sub).

    b_k = c_k + 2t b_(k+1) - b_(k+2); the sum is c_0 + t b_1 - b_2. Errors in the b_k do
    not grow the way monomial coefficients do on a badly conditioned interval.

    >>> ir.describe(clenshaw(ir.var("d"), [0.0, 0.0, 1.0], -1.0, 1.0))
    '((d*((d + d)*1.0 + 0.0) - 1.0) + 0.0)'
    """
    c = [to_float32(float(v)) for v in chebyshev]
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    t = w if mid == 0 and half == 1 else ir.mul(
        ir.sub(w, _c(to_float32(mid))) if mid else w, ir.const(to_float32(1 / half)))
    n = len(c) - 1
    if n < 2:
        return ir.add(ir.mul(t, ir.const(c[1])), ir.const(c[0])) if n == 1 else ir.const(c[0])
    t2 = ir.add(t, t)
    b1: ir.Node = ir.add(ir.mul(t2, ir.const(c[n])), ir.const(c[n - 1]))
    b2: ir.Node = ir.const(c[n])
    for k in range(n - 2, 0, -1):
        b1, b2 = ir.add(ir.sub(ir.mul(t2, b1), b2), ir.const(c[k])), b1
    return ir.add(ir.sub(ir.mul(t, b1), b2), ir.const(c[0]))
