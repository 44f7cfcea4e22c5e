"""Selections and robust losses → Abs/Square/Mul/Add/Sub, by float32-stable forms.

min, max, clip and the robust losses (huber, smooth_l1, pinball,
eps_insensitive, tukey) reach the compiler as IR operations of their own, so
that the polynomial pass treats them as atoms and no pass can rewrite their
lowered forms into less accurate ones: this pass runs after ``polynomials``.

The textbook identities min(a, b) = (a + b - |a - b|)/2 and friends are
exact in real arithmetic only: in float32 min(1e30, 5) comes out 0. Every
form below is instead exact or within a few roundings of the definition for
every finite input (u = 2^-24, the float32 unit roundoff; docs/grammar.md
lists the bounds, tests/test_robust.py measures them from 1e-45 to 3.4e38):

- relu(x) = h + |h| with h = x/2: exact (h + |h| is 2h or exactly 0), and it
  cannot overflow, unlike (x + |x|)/2; halving loses the last bit of a
  subnormal x only.
- min(a, c), for a constant c > 0 and a >= 0 (a = |x|, say): with
  t = c - a, r = relu(-t), m1 = a - r and C = c - (a + t), min = m1 + C,
  exactly, when c's last significand bit is 0 in float32 and float16 (1, 2,
  0.5, 5, 100 ...): C recovers the rounding error of a - c. 8 operations.
  Otherwise p = relu(c - a), m2 = c - p, e = a - m2 and min = m2 + e (p/c):
  m2 is exact for a >= c/2, e is the exact rounding error of c - a, and p/c
  is exactly 0 for a >= c: |error| <= 6u |min| (3u for c a power of 2). 9.
- min(x, y) for any x, y: r = relu(x - y), m1 = x - r, D = y - m1,
  min = m1 + (D - relu(D - r)). Exact (no rounding at all) unless x - y
  overflows; two tensors are halved first so that it cannot. 12 operations.
- huber: a = |x|, r = relu(a - delta), m1 = a - r; 0.5 m1^2 + delta r. m1 is
  exact for a <= 2 delta, and beyond it its error is small against delta r:
  <= 2u. 10 operations (9 for delta = 1).

With MindSpore's Abs gradient of 0 at 0, relu'(0) = 1/2: at a kink these
forms take the mean of the two one-sided slopes, as nn.HuberLoss does where
its gradient is continuous anyway.

>>> from losscc import ir
>>> relu_d = lower_robust(ir.max_(ir.var("d"), ir.const(0.0)))
>>> ir.describe(relu_d)
'(0.5*d + abs(0.5*d))'
>>> float(ir.evaluate(relu_d, d=-3.0)), float(ir.evaluate(relu_d, d=2.0))
(0.0, 2.0)
"""
from __future__ import annotations

import struct
from contextvars import ContextVar

from ... import ir
from ...floats import FLOAT32_UNIT, to_float32
from ...ir.patterns import Pat, Rule, RuleSet, rewrite
from .rules import nonnegative

Node = ir.Node
c_ = ir.const


def _half(x: Node) -> Node:
    return ir.mul(c_(0.5), x)


def relu(x: Node) -> Node:
    """max(x, 0) = h + |h|, h = x/2: exact, never overflows. 3 operations."""
    h = _half(x)
    return ir.add(h, ir.abs_(h))


def relu_of_negative(x: Node) -> Node:
    """max(-x, 0) = |h| - h, h = x/2. 3 operations."""
    h = _half(x)
    return ir.sub(ir.abs_(h), h)


def min_zero(x: Node) -> Node:
    """min(x, 0) = h - |h|, h = x/2. 3 operations."""
    h = _half(x)
    return ir.sub(h, ir.abs_(h))


def _scaled(x: Node, factor: float) -> Node:
    return x if factor == 1.0 else ir.mul(c_(factor), x)


def even_significand(c: float) -> bool:
    """c's last significand bit is 0 in float32, and in float16 where c is finite there."""
    (bits32,) = struct.unpack("<I", struct.pack("<f", c))
    try:
        (bits16,) = struct.unpack("<H", struct.pack("<e", c))
    except OverflowError:  # beyond float16: a float16 cell cannot hold c anyway
        bits16 = 0
    return bits32 & 1 == 0 and bits16 & 1 == 0


def min_positive(a: Node, c: float) -> Node:
    """min(a, c) for a constant c > 0 and a >= 0: exact in 8 operations, or within 6u in 9."""
    if not even_significand(c):
        return _min_within_roundings(a, c)
    t = ir.sub(c_(c), a)
    m1 = ir.sub(a, relu_of_negative(t))  # a - relu(a - c): a for a <= c, else c - err
    err = ir.sub(c_(c), ir.add(a, t))  # exactly that err for a > 2c, exactly 0 below
    return ir.add(m1, err)


def _min_within_roundings(a: Node, c: float) -> Node:
    p = relu(ir.sub(c_(c), a))  # exactly 0 for a >= c
    m2 = ir.sub(c_(c), p)  # = c for a >= c; = a exactly for a in [c/2, c]
    e = ir.sub(a, m2)  # exact: the rounding error of c - a
    return ir.add(m2, ir.mul(e, _scaled(p, 1.0 / c)))


def max_negative(z: Node, c: float) -> Node:
    """max(z, c) for a constant c < 0 and z <= 0: -min_positive(-z, -c), negations folded."""
    size = -c
    if not even_significand(size):
        return _max_within_roundings(z, c)
    t = ir.add(z, c_(size))
    m1 = ir.add(z, relu_of_negative(t))
    err = ir.add(c_(size), ir.sub(z, t))
    return ir.sub(m1, err)


def min_exact(x: Node, y: Node) -> Node:
    """min(x, y), exactly, unless x - y overflows. 12 operations."""
    r = relu(ir.sub(x, y))  # exactly 0 when x <= y
    m1 = ir.sub(x, r)  # x when x <= y; else y up to the rounding of x - y
    gap = ir.sub(y, m1)  # exact: that rounding
    correction = ir.sub(gap, relu(ir.sub(gap, r)))  # min(gap, r): 0 when r = 0
    return ir.add(m1, correction)


def max_exact(x: Node, y: Node) -> Node:
    """max(x, y) = -min(-x, -y), exactly, negations folded. 12 operations."""
    r = relu(ir.sub(y, x))
    m1 = ir.add(x, r)
    gap = ir.sub(y, m1)
    correction = ir.add(gap, relu_of_negative(ir.add(gap, r)))
    return ir.add(m1, correction)


def _halved(select, x: Node, y: Node) -> Node:
    """select(x/2, y/2) doubled: x/2 - y/2 cannot overflow where x - y could."""
    m = select(_half(x), _half(y))
    return ir.add(m, m)


def lower_min(x: Node, y: Node) -> Node:
    if y.is_const:
        return _min_constant(x, y.value)
    if x.is_const:
        return _min_constant(y, x.value)
    return _halved(min_exact, x, y)


def lower_max(x: Node, y: Node) -> Node:
    if y.is_const:
        return _max_constant(x, y.value)
    if x.is_const:
        return _max_constant(y, x.value)
    return _halved(max_exact, x, y)


# Below this size a constant cannot make x - c overflow (x - c is x, rounded).
_SMALL_CONSTANT = 2.0**103


def _relu_of_difference(x: Node, y: Node) -> Node:
    """relu(x - y), one side a constant. From 2^103 on, the constant can make x - y
    overflow (to -inf, and relu(-inf) is NaN), so h = x/2 - y/2 is formed instead of
    (x - y)/2: the same number (halving is exact), in the same 4 operations."""
    if max(abs(n.value) for n in (x, y) if n.is_const) < _SMALL_CONSTANT:
        return relu(ir.sub(x, y))
    h = ir.sub(_half(x) if not x.is_const else c_(x.value / 2),
               _half(y) if not y.is_const else c_(y.value / 2))
    return ir.add(h, ir.abs_(h))


def _min_constant(x: Node, c: float) -> Node:
    if c == 0:
        return min_zero(x)
    if c < 0:  # c - relu(c - x): exact for x >= 2c, else two roundings of one sign
        return ir.sub(c_(c), _relu_of_difference(c_(c), x))
    if _nonnegative(x):
        return min_positive(x, c)
    return min_exact(x, c_(c)) if c < _SMALL_CONSTANT else _halved(min_exact, x, c_(c))


def _max_constant(x: Node, c: float) -> Node:
    if c == 0:
        return relu(x)
    if c > 0:  # c + relu(x - c)
        return ir.add(_relu_of_difference(x, c_(c)), c_(c))
    return max_exact(x, c_(c)) if -c < _SMALL_CONSTANT else _halved(max_exact, x, c_(c))


def lower_clip(x: Node, lo: float, hi: float) -> Node:
    """clip(x, lo, hi) for constants lo < hi, exact at and beyond both ends."""
    if lo <= 0 and _nonnegative(x):  # the lower end never binds
        return _min_constant(x, hi)
    if lo == -hi:
        return _clip_symmetric(x, hi)
    if lo >= 0:  # max(x, lo) >= 0: min_positive applies
        return min_positive(_max_constant(x, lo), hi)
    if hi <= 0:
        return max_negative(_min_constant(x, hi), lo)
    if -lo <= hi:  # y = max(x, lo) >= lo >= -hi: within min_positive's reach
        return _min_within_roundings(max_exact(x, c_(lo)), hi)
    return _max_within_roundings(min_exact(x, c_(hi)), lo)


def _max_within_roundings(z: Node, c: float) -> Node:
    """max(z, c), c < 0, z <= -c: -_min_within_roundings(-z, -c), negations folded."""
    size = -c
    p = relu(ir.add(z, c_(size)))
    m2 = ir.sub(p, c_(size))
    e = ir.sub(z, m2)
    return ir.add(m2, ir.mul(e, _scaled(p, 1.0 / size)))


def _clip_symmetric(x: Node, c: float) -> Node:
    """clip(x, -c, c) at half scale: min(|x|, c)/2 with x's sign put back, exactly.

    The factor 2 at the end makes the gradient at x = 0 one (a sign trick at
    full scale would give 1/2 there, MindSpore's Abs gradient at 0 being 0).
    """
    h = _half(x)
    g = ir.abs_(h)
    m = min_positive(g, 0.5 * c)
    q = ir.sub(m, ir.sub(g, h))  # m for x >= 0, <= -m for x < 0
    return ir.mul(c_(2.0), ir.sub(ir.add(q, ir.abs_(q)), m))


def lower_huber(x: Node, delta: float, scale: float = 1.0) -> Node:
    """(0.5 m1^2 + delta r) / scale; smooth_l1 is huber(x, beta) / beta."""
    a = ir.abs_(x)
    r = relu(ir.sub(a, c_(delta)))
    m1 = ir.sub(a, r)
    quadratic = ir.mul(c_(0.5 / scale), ir.square(m1))
    return ir.add(quadratic, _scaled(r, delta / scale))


# pinball's 4-operation form |h| + C h (h = x/2, exact; C = 1 - 2 tau rounded to
# float32) cancels on the side where the loss has the smaller slope. Beyond this
# many roundings, a fifth operation buys an exact split (at most 2 roundings).
PINBALL_SHORT_FORM_ULPS = 5.0


def pinball_short_form_bound(tau: float) -> float:
    """The 4-operation form's relative error bound, in units of u (exact arithmetic).

    With g = 1 - 2 tau, C = fl32(g), u' = u/(1 + u) (round to nearest) and per unit of |h|:
    the constant's error |C - g| and the product's u'|C| are shared by both sides.
    On the small side (true value (1 - |g|)|h|) the sum is exact when |C| >= 1/2
    (Sterbenz: |C h| lies in [|h|/2, |h|]), else it rounds once more; on the large
    side ((1 + |g|)|h|, no cancellation) it rounds once.

    >>> pinball_short_form_bound(0.9) <= 5, round(pinball_short_form_bound(0.11), 3)
    (True, 5.727)
    """
    from fractions import Fraction

    u = Fraction(FLOAT32_UNIT)
    rounding = u / (1 + u)
    g = 1 - 2 * Fraction(tau)
    big_c = Fraction(to_float32(float(g)))
    shared = abs(big_c - g) + rounding * abs(big_c)  # per unit of |h|
    small_true, large_true = 1 - abs(g), 1 + abs(g)
    small = shared / small_true
    if abs(big_c) < Fraction(1, 2):
        small += rounding * (1 + small)
    large = shared / large_true + rounding * (1 + shared / large_true)
    bound = max(small, large) / u
    return float(bound) * (1 + 2**-40)  # rounded up


def lower_pinball(x: Node, tau: float) -> Node:
    """max(-tau x, (1 - tau) x)."""
    h = _half(x)
    g = ir.abs_(h)
    if pinball_short_form_bound(tau) <= PINBALL_SHORT_FORM_ULPS:
        return ir.add(g, ir.mul(c_(1.0 - 2 * tau), h))  # |x/2| + (1/2 - tau) x
    if tau >= 0.5:  # relu(-x) + (1 - tau) x: the large slope's part is exact
        return ir.add(ir.sub(g, h), ir.mul(c_(1.0 - tau), x))
    return ir.sub(ir.add(h, g), ir.mul(c_(tau), x))  # relu(x) - tau x


def lower_eps_insensitive(x: Node, eps: float) -> Node:
    a = ir.abs_(x)
    return a if eps == 0 else relu(ir.sub(a, c_(eps)))


def lower_tukey(x: Node, c: float) -> Node:
    """c^2/6 (1 - (1 - t)^3) = t (c^2/2 - t (c^2/2 - t c^2/6)), t = (min(|x|, c)/c)^2.

    Horner in t: no 1 - (1 - t)^3 cancellation at small t.
    """
    if c >= 1.0:  # |x/c| first: it cannot overflow
        m = min_positive(ir.abs_(ir.mul(c_(1.0 / c), x)), 1.0)
    else:  # x/c could overflow: clip first
        m = ir.mul(c_(1.0 / c), min_positive(ir.abs_(x), c))
    t = ir.square(m)
    k = c * c
    p = ir.add(ir.mul(c_(k / 6), t), c_(-k / 2))
    p = ir.add(ir.mul(p, t), c_(k / 2))
    return ir.mul(p, t)


def _one(name: str, params: str, build, text: str) -> Rule:
    """The rule lowering the op ``name``, whose value holds its constant ``params``."""
    return Rule(name, Pat(name, (Pat.any("x"),), name="node", shown=f"{name}(x, {params})"),
                lambda x, node: build(x, *node.value), text)


LOWERINGS = RuleSet([
    Rule("min", Pat("min", (Pat.any("x"), Pat.any("y"))), lower_min,
         "min_exact, or a constant's shorter exact form"),
    Rule("max", Pat("max", (Pat.any("x"), Pat.any("y"))), lower_max,
         "max_exact, or a constant's shorter exact form"),
    _one("clip", "lo, hi", lower_clip, "exact at and beyond both ends"),
    _one("huber", "delta", lower_huber,
         "0.5 m1^2 + delta r, m1 = |x| - r, r = relu(|x| - delta)"),
    _one("smooth_l1", "beta", lambda x, beta: lower_huber(x, beta, beta),
         "huber(x, beta)/beta, folded"),
    _one("pinball", "tau", lower_pinball, "|x/2| + (1/2 - tau) x, or an exact split"),
    _one("eps_insensitive", "eps", lower_eps_insensitive, "relu(|x| - eps)"),
    _one("tukey", "c", lower_tukey, "Horner in t = (min(|x|, c)/c)^2"),
])


def lower_robust(root: Node) -> Node:
    """Lower every selection and robust loss (their arguments first).

    A lowered argument no longer shows that it is >= 0 (max(d, 0) becomes
    h + |h|), so what the formula proves is carried over: a min of it with a
    constant still takes the shorter nonnegative form.
    """
    proven: dict[int, bool] = {}  # original node -> provably >= 0

    def carry(node: Node, new: Node) -> None:
        proven[id(node)] = nonnegative(node, known=lambda a: proven[id(a)])
        if proven[id(node)]:
            _PROVEN.get().add(new)

    token = _PROVEN.set(set())
    try:
        return rewrite(root, LOWERINGS, fixpoint=False, after=carry)
    finally:
        _PROVEN.reset(token)


# Lowered nodes whose formula was proven >= 0, while lower_robust runs.
_PROVEN: ContextVar[set] = ContextVar("losscc_proven_nonnegative")


def _nonnegative(x: Node) -> bool:
    return x in _PROVEN.get(set()) or nonnegative(x)

