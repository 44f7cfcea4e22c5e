"""Polynomials: Horner's rule, parity (even in d^2, odd as d*q(d^2)), one Abs."""
import numpy as np
import pytest

import losscc

D = np.linspace(-1.3, 1.3, 27)


def poly_text(coefficients):
    """'c0*d^0 + c1*d^1 + ...' for the nonzero coefficients (index = power)."""
    return " + ".join(f"{c!r}*d^{k}" for k, c in enumerate(coefficients) if c)


def counts(program):
    c = program.op_counts
    mults = c.get("Square", 0) + c.get("Mul", 0)
    adds = c.get("Add", 0) + c.get("Sub", 0)
    assert set(c) <= {"Square", "Mul", "Add", "Sub", "Neg", "Abs"}, c
    return mults, adds


def coefficients(degree, parity, seed):
    rng = np.random.default_rng(seed)
    cs = [round(float(v), 3) or 0.5 for v in rng.uniform(-2, 2, degree + 1)]
    if parity == "even":
        cs = [c if k % 2 == 0 else 0 for k, c in enumerate(cs)]
    elif parity == "odd":
        cs = [c if k % 2 == 1 else 0 for k, c in enumerate(cs)]
    return cs


@pytest.mark.parametrize("k", range(1, 9))
def test_even_polynomial_in_d_squared(k):
    cs = coefficients(2 * k, "even", k)
    program = losscc.program(poly_text(cs))
    mults, adds = counts(program)
    assert mults <= k + 1 and adds <= k
    assert program.op_counts["Square"] >= 1  # d^2 is computed once, then Horner in it
    np.testing.assert_allclose(program.evaluate(d=D), np.polyval(cs[::-1], D), rtol=1e-12)


@pytest.mark.parametrize("k", range(1, 8))
def test_odd_polynomial_as_d_times_q_of_d_squared(k):
    cs = coefficients(2 * k + 1, "odd", 10 + k)
    program = losscc.program(poly_text(cs))
    mults, adds = counts(program)
    assert mults <= k + 2 and adds <= k
    np.testing.assert_allclose(program.evaluate(d=D), np.polyval(cs[::-1], D), rtol=1e-12)


@pytest.mark.parametrize("n", [2, 3, 5, 8, 12])
def test_dense_polynomial_by_horner(n):
    cs = coefficients(n, "all", 20 + n)
    program = losscc.program(poly_text(cs))
    mults, adds = counts(program)
    assert mults <= n and adds <= n
    np.testing.assert_allclose(program.evaluate(d=D), np.polyval(cs[::-1], D), rtol=1e-12)


def test_expansion_only_when_it_pays():
    assert losscc.program("square(d + 1)").op_count == 2  # not d^2 + 2d + 1 (3 ops)
    assert losscc.program("square(square(d) + 1)").op_count == 3
    assert losscc.program("d*d*d*d").op_counts == {"Square": 2}


def test_cancellation_is_found():
    # d^2*d - d*d*d is 0: the loss does not depend on the prediction any more
    with pytest.raises(losscc.LossccError, match="does not depend on the prediction"):
        losscc.program("square(d)*d - d*d*d")


def test_polynomial_in_abs_takes_one_abs():
    program = losscc.program("abs(d)^3 + 2*abs(d)^2 + abs(d) + 1")
    assert program.op_counts.get("Abs") == 1
    a = np.abs(D)
    np.testing.assert_allclose(program.evaluate(d=D), a**3 + 2 * a**2 + a + 1, rtol=1e-12)


def test_even_powers_of_abs_vanish():
    assert "Abs" not in losscc.program("abs(d)^4 + abs(d)^2").op_counts
    assert losscc.program("abs(d)^4").op_counts == {"Square": 2}
