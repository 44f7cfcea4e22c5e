"""Integer powers take the shortest addition chains (OEIS A003313) up to 64,
and never more operations than the binary method beyond."""
import numpy as np
import pytest

import losscc
from losscc import ir
from losscc.ir.interpret import evaluate
from losscc.compiler.passes.powers import chain, lower_powers

# A003313, length of the shortest addition chain for n = 1..100, from oeis.org.
A003313 = [
    0, 1, 2, 2, 3, 3, 4, 3, 4, 4, 5, 4, 5, 5, 5, 4, 5, 5, 6, 5, 6, 6, 6, 5, 6, 6, 6, 6, 7, 6,
    7, 5, 6, 6, 7, 6, 7, 7, 7, 6, 7, 7, 7, 7, 7, 7, 8, 6, 7, 7, 7, 7, 8, 7, 8, 7, 8, 8, 8, 7,
    8, 8, 8, 6, 7, 7, 8, 7, 8, 8, 9, 7, 8, 8, 8, 8, 8, 8, 9, 7, 8, 8, 8, 8, 8, 8, 9, 8, 9, 8,
    9, 8, 9, 9, 9, 7, 8, 8, 8, 8,
]


def binary_method_ops(n):
    """Left-to-right square-and-multiply: one Square per bit after the first, one Mul per 1 bit."""
    return (n.bit_length() - 1) + (bin(n).count("1") - 1)


@pytest.mark.parametrize("n", range(1, 65))
def test_power_takes_shortest_chain(n):
    program = losscc.program(f"d^{n}")
    assert program.op_count == A003313[n - 1]
    assert set(program.op_counts) <= {"Square", "Mul"}


def test_named_examples():
    assert losscc.program("d^15").op_count == 5
    assert losscc.program("d^64").op_counts == {"Square": 6}


@pytest.mark.parametrize("n", [65, 71, 127, 191, 255, 256, 257, 300, 511, 777, 1000, 1023, 1024])
def test_never_worse_than_binary(n):
    assert losscc.program(f"d^{n}").op_count <= binary_method_ops(n)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 15, 23, 64, 100, 255, 1000])
def test_chain_is_an_addition_chain(n):
    steps = chain(n)
    assert steps[0] == 1 and steps[-1] == n
    for k, a in enumerate(steps[1:], start=1):
        assert any(a - b in steps[:k] for b in steps[:k]), (n, steps)


@pytest.mark.parametrize("n", [2, 5, 15, 31, 64])
def test_lowered_power_means_the_power(n):
    d = np.linspace(-1.2, 1.2, 41)
    root = lower_powers(ir.pow_(ir.var("d"), n))
    assert "pow" not in ir.op_counts(root)
    np.testing.assert_allclose(evaluate(root, d=d), d**n, rtol=1e-12)


def test_largest_power_at_a_low_recursion_limit():
    import sys

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(300)
    try:
        assert losscc.program("d^1024").op_counts == {"Square": 10}
    finally:
        sys.setrecursionlimit(old)


def test_nested_powers_beyond_the_degree_limit_are_refused():
    # (x^m)^n merges while m*n <= 1024; beyond, the loss's degree is above MAX_DEGREE
    assert losscc.program("(d^32)^32").op_counts == {"Square": 10}
    with pytest.raises(losscc.LossccError, match="degree above 1024"):
        losscc.program("(d^1024)^1024")
    assert losscc.program("(d^3)^5").op_count == A003313[15 - 1]
