"""Fuzzing the SymPy-object front door: ``losscc.taylor`` and ``losscc.series.approximate``.

The string fuzzer (test_fuzz.py) covers formulas; this one builds SymPy
expressions directly, as a Python user could: sums, products, powers and
the functions losscc expands, mixed with what a formula string can never
hold: imaginary and infinite constants, NaN, intervals, huge and tiny
rationals, floats beyond float64, deep nesting, wide sums, functions losscc
does not know, symbols with other names or assumptions. Each must either be
prepared (and then approximated or refused) or be refused with a
LossccError, never with another exception. Sizes and numbers beyond the
limits, refused before any work: test_hostile.py.

CI runs few examples, derandomized. A long campaign:

    LOSSCC_FUZZ_EXAMPLES=10000 pytest tests/test_fuzz_sympy.py
"""
from __future__ import annotations

import os

import pytest
from guards import no_hang
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from losscc import LossccError
from losscc.series import approximate, prepare

CAMPAIGN = int(os.environ.get("LOSSCC_FUZZ_EXAMPLES", "0"))
D = sp.Symbol("d")
ORDER = 4  # the degree every expression is approximated to


def examples(default: int) -> settings:
    return settings(max_examples=CAMPAIGN or default, deadline=None, derandomize=not CAMPAIGN,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


ODD_ATOMS = [sp.I, sp.oo, -sp.oo, sp.zoo, sp.nan, sp.AccumBounds(-1, 1), sp.pi, sp.E,
             sp.EulerGamma, sp.Rational(1, 10**400), sp.Integer(10**400), sp.Float("1e400"),
             sp.Float("1e-400"), sp.Symbol("x"), sp.Symbol("d", positive=True),
             sp.Symbol("pred"), sp.Symbol("target")]

LEAVES = st.one_of(
    st.just(D),
    st.integers(-5, 5).map(sp.Integer),
    st.fractions(min_value=-10, max_value=10, max_denominator=50).map(
        lambda f: sp.Rational(f.numerator, f.denominator)),
    st.floats(-1e3, 1e3, allow_nan=False).map(sp.Float),
    st.sampled_from(ODD_ATOMS),
)

FUNCTIONS = [sp.exp, sp.log, sp.sin, sp.cos, sp.sinh, sp.cosh, sp.tanh, sp.atan, sp.erf,
             sp.sqrt, sp.Abs, sp.gamma, sp.sign, sp.floor, sp.Heaviside]


def built(make, *args):
    """SymPy's own constructor, where it accepts the arguments (its errors are not losscc's)."""
    try:
        return make(*args)
    except (TypeError, ValueError, AttributeError, ZeroDivisionError):
        return D


def power(base, exponent):
    """base^exponent, except a number to a huge number's power: SymPy itself would compute
    it (10^400 to the 10^400), and drawing the example would never end."""
    if base.is_Number and exponent.is_Number and abs(exponent) > 64:
        return D
    return sp.Pow(base, exponent)


def _extend(children):
    return st.one_of(
        st.lists(children, min_size=2, max_size=4).map(lambda a: built(sp.Add, *a)),
        st.lists(children, min_size=2, max_size=3).map(lambda a: built(sp.Mul, *a)),
        st.tuples(children, st.integers(-3, 6)).map(lambda t: built(sp.Pow, *t)),
        st.tuples(children, children).map(lambda t: built(power, *t)),
        st.tuples(st.sampled_from(FUNCTIONS), children).map(lambda t: built(*t)),
    )


EXPRESSIONS = st.recursive(LEAVES, _extend, max_leaves=12)


def outcome(expr):
    """What losscc makes of ``expr``: an Approximation, or a LossccError (nothing else)."""
    try:
        prepare(expr)
        return approximate(expr, order=ORDER, range=0.5)
    except LossccError as e:
        return e


@examples(60)
@given(EXPRESSIONS)
def test_sympy_expressions_are_approximated_or_refused_with_a_losscc_error(expr):
    with no_hang():
        made = outcome(expr)
    if isinstance(made, LossccError):  # a message a user can read: it renders, and says what
        assert made.message and made.render().startswith(f"error: {made.message}"), expr
    else:
        assert made.report.degree <= ORDER, expr


@pytest.mark.parametrize("expr", [sp.exp(-D**2), sp.log(sp.cosh(D)), 1 / (1 + D**2)])
def test_plain_expressions_still_work(expr):
    assert approximate(expr, order=6, range=0.5).report.degree <= 6
