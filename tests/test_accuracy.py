"""Optimising never costs accuracy: compiled cells against float64, near roots and minima.

Random factored losses (products of square(d - c), (d + c)^k, abs(d - c)^k ...,
sometimes plus another product) are generated here as small trees with
their own float64 evaluator and their own first-order bound of the float32
error of the formula as written (each step rounds by at most u|result| and
passes on its arguments' errors). The compiled program is
read from ``losscc compile --ir``'s listing and run by this file's own
float32 interpreter (NumPy float32, one rounding per step, as MindSpore CPU
runs it). At points around every root and local minimum of the loss (found
here on a dense grid and refined), and at random points, the compiled
program's error must stay within 4 times the written form's bound, plus 8
ulps.
"""
from __future__ import annotations

import math
import random
import re

import numpy as np
import pytest

import losscc
from losscc.compiler.passes import accuracy

U = 2.0 ** -24
FLOAT32_MAX = float(np.finfo(np.float32).max)
TINY = float(np.finfo(np.float32).tiny)  # below this, subnormal rounding is not counted


# The test's own formulas: (text, f(x) -> (value, bound)) -----------------------------
# value in float64; bound: the first-order bound of the float32 error of the formula
# as written, step by step (each step rounds by at most u|result|, and passes on its
# arguments' errors), on exact float32 inputs; infinite where a step overflows.

def f32_error(c: float) -> float:
    return abs(float(np.float32(c)) - c)


def leaf_d():
    return ("d", lambda x: (x, np.zeros_like(x)))


def constant(c: float):
    return (repr(c), lambda x: (np.full_like(x, c), np.full_like(x, f32_error(c))))


def step(a, b, combine, grow, text):
    def f(x):
        (va, ea), (vb, eb) = a[1](x), b[1](x)
        v = combine(va, vb)
        return v, overflowing(v, grow(va, ea, vb, eb) + U * np.abs(v))
    return (text, f)


def overflowing(v, bound):
    """The bound, infinite where the step itself leaves float32 (written that way, it overflows)."""
    return np.where(np.abs(v) <= FLOAT32_MAX, bound, np.inf)


def plus(a, b, sign=1.0):
    return step(a, b, lambda p, q: p + sign * q, lambda p, ep, q, eq: ep + eq,
                f"({a[0]} {'+' if sign > 0 else '-'} {b[0]})")


def times(a, b):
    return step(a, b, lambda p, q: p * q,
                lambda p, ep, q, eq: np.abs(p) * eq + np.abs(q) * ep + ep * eq, f"{a[0]}*{b[0]}")


def power(a, k: int):
    steps = 2 * max(1, k.bit_length())  # square-and-multiply rounds at most this often

    def f(x):
        v, e = a[1](x)
        bound = k * np.abs(v) ** (k - 1) * e * (1 + e) + steps * U * np.abs(v) ** k
        return v ** k, overflowing(v ** k, bound)
    return (f"({a[0]})^{k}", f)


def square(a):
    return power(a, 2)


def absolute(a):
    return (f"abs({a[0]})", lambda x: (np.abs(a[1](x)[0]), a[1](x)[1]))


def random_constant(rng: random.Random) -> float:
    k = rng.random()
    if k < 0.5:
        return float(rng.randint(1, 200))
    if k < 0.8:
        return float(f"{rng.uniform(0.01, 10):.3g}")
    return rng.choice([1e-3, 0.5, 3.0, 1e3, 1e4])


def random_factor(rng: random.Random):
    shifted = plus(leaf_d(), constant(random_constant(rng)), rng.choice((1.0, -1.0)))
    kind = rng.randrange(5)
    if kind == 0:
        return square(shifted)
    if kind == 1:
        return power(shifted, rng.randint(1, 4))
    if kind == 2:
        return power(absolute(shifted), rng.randint(1, 3))
    if kind == 3:
        return shifted
    d2 = square(leaf_d())
    return square(plus(d2, constant(random_constant(rng)), rng.choice((1.0, -1.0))))


def random_loss(rng: random.Random):
    loss = random_factor(rng)
    for _ in range(rng.randint(1, 3)):
        loss = times(loss, random_factor(rng))
    if rng.random() < 0.3:
        other = times(random_factor(rng), random_factor(rng))
        loss = plus(loss, times(constant(random_constant(rng)), other))
    return loss


# Running the compiled program: its listing, in float32 ---------------------------------

STEP = re.compile(r"(\w+) = (\w+)\(([^)]*)\)\Z")


def run_listing(listing: str, x: np.ndarray) -> np.ndarray:
    """The element-wise loss the listing computes (d = x), each step rounded to float32."""
    values = {"d": x.astype(np.float32)}
    result = None
    for line in listing.splitlines()[1:]:
        if line.startswith("d = ") or line.startswith("loss = "):
            result = line.split("(", 1)[1].rstrip(")") if line.startswith("loss") else result
            continue
        name, op, args = STEP.match(line).groups()
        a = [values[t] if t in values else np.float32(float(t)) for t in args.split(", ")]
        with np.errstate(all="ignore"):
            values[name] = {
                "add": lambda: a[0] + a[1], "sub": lambda: a[0] - a[1], "mul": lambda: a[0] * a[1],
                "neg": lambda: -a[0], "square": lambda: a[0] * a[0], "abs": lambda: np.abs(a[0]),
            }[op]().astype(np.float32)
    return np.broadcast_to(values[result], x.shape).astype(np.float64)


# Where to look: roots and minima, found here ----------------------------------------------

def special_points(f) -> list[float]:
    grid = 2.0 ** (np.arange(-160, 321) / 8.0)
    grid = np.concatenate([-grid[::-1], [0.0], grid])
    with np.errstate(all="ignore"):
        y = f(grid)
    points = [0.0]
    for i in np.flatnonzero(np.isfinite(y[:-1]) & np.isfinite(y[1:])
                            & (np.sign(y[:-1]) * np.sign(y[1:]) < 0)):
        a, b = grid[i], grid[i + 1]
        for _ in range(100):
            m = 0.5 * (a + b)
            same_side = np.sign(f(np.array([m]))[0]) == np.sign(f(np.array([a]))[0])
            a, b = (m, b) if same_side else (a, m)
        points.append(0.5 * (a + b))
    size = np.where(np.isfinite(y), np.abs(y), np.inf)
    for i in np.flatnonzero((size[1:-1] < size[:-2]) & (size[1:-1] < size[2:])):
        a, b = grid[i], grid[i + 2]
        for _ in range(200):
            c, e = a + (b - a) / 3, b - (b - a) / 3
            if abs(f(np.array([c]))[0]) < abs(f(np.array([e]))[0]):
                b = e
            else:
                a = c
        points.append(0.5 * (a + b))
    return points


def probe_points(f, rng: random.Random) -> np.ndarray:
    out = []
    for s in special_points(f):
        s32 = float(np.float32(s))
        out.append(s32)
        out += [s32 * (1 + sign * 2.0 ** -j) for j in range(1, 24) for sign in (1, -1)]
        out += [sign * 2.0 ** -j for j in range(1, 60) for sign in (1, -1)] if s32 == 0 else []
    out += [rng.choice((-1, 1)) * 2.0 ** rng.uniform(-20, 30) for _ in range(200)]
    return np.unique(np.array(out, np.float32)).astype(np.float64)


def worst_excess(loss, listing: str, rng: random.Random) -> tuple[float, float]:
    """max over the probes of error / allowed, and where; allowed: 4 bounds + 8 ulps."""
    text, f = loss
    with np.errstate(all="ignore"):
        x = probe_points(lambda t: f(t)[0], rng)
        exact, bound = f(x)
        keep = np.isfinite(exact) & np.isfinite(bound) & (np.abs(exact) < FLOAT32_MAX)
        x, exact, bound = x[keep], exact[keep], bound[keep]
        got = run_listing(listing, x)
        ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
        allowed = 4 * bound + 8 * ulp + TINY
        excess = np.where(np.isfinite(got), np.abs(got - exact) / allowed, np.inf)
    worst = int(np.argmax(excess))
    return float(excess[worst]), float(x[worst])


@pytest.mark.parametrize("seed", range(60))
def test_compiled_losses_are_as_accurate_as_written(seed):
    rng = random.Random(seed)
    loss = random_loss(rng)
    program = losscc.program(loss[0], "none")
    excess, at = worst_excess(loss, program.listing(), rng)
    assert excess <= 1.0, (loss[0], program.summary, at, excess)


def the_issue_example():
    d = leaf_d()
    return times(square(plus(d, constant(100.0), -1.0)), square(plus(d, constant(100.0))))


def test_the_issue_example_keeps_its_factored_form():
    loss = the_issue_example()
    program = losscc.program(loss[0], "none")
    assert program.op_count == 5  # square(d-100)*square(d+100): as cheap as it gets accurate
    excess, at = worst_excess(loss, program.listing(), random.Random(0))
    assert excess <= 1.0, (at, excess)
    got = run_listing(program.listing(), np.array([100.01]))[0]
    exact = (float(np.float32(100.01)) - 100) ** 2 * (float(np.float32(100.01)) + 100) ** 2
    assert abs(got - exact) <= 4e-6 * exact  # 4.0021, where expanding gave 8.0


def test_the_property_catches_an_expansion_without_the_gate(monkeypatch):
    """Control: with the gate switched off the same check fails on the issue's example."""
    monkeypatch.setattr(accuracy, "keeps_accuracy", lambda written, candidate, budget=None: True)
    loss = the_issue_example()
    program = losscc.program(loss[0], "none")
    assert program.op_count == 4  # the expanded form
    excess, _ = worst_excess(loss, program.listing(), random.Random(0))
    assert excess > 1e3


def test_cheaper_rewrites_that_keep_accuracy_are_kept():
    assert losscc.program("3*d^4 + 2*d^2 + 1").op_count == 5  # Horner in d^2
    assert losscc.program("d^2/2 - d^4/12 + d^6/45 - 17*d^8/2520").op_count == 8
    assert losscc.program("d*d*d*d").op_counts == {"Square": 2}


@pytest.mark.slow
def test_a_mindspore_cell_near_the_root(ms_mode):
    """The cell itself, in both modes: 4.0021 at d = 100.01, as the formula says."""
    import mindspore as ms

    cell = losscc.compile("square(d-100)*square(d+100)", "none")
    x = np.array([100.01, 99.999, -100.001], np.float32)
    got = cell(ms.Tensor(x), ms.Tensor(np.zeros_like(x))).asnumpy().astype(np.float64)
    exact = (x.astype(np.float64) - 100) ** 2 * (x.astype(np.float64) + 100) ** 2
    np.testing.assert_allclose(got, exact, rtol=1e-5)
    assert not math.isclose(got[0], 8.0)
