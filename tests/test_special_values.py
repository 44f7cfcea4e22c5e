"""inf, nan, huge and tiny inputs, in float16/32/64: the same answers as MindSpore's own losses.

``square(d)`` must behave exactly like ``nn.MSELoss`` and ``abs(d)`` like
``nn.L1Loss``: values, dtypes and gradients, element by element, nan where
they give nan and inf where they give inf, in both execution modes. The
references here are MindSpore's classes themselves, run on the same inputs.

Subnormal numbers are compared separately and more loosely: MindSpore's CPU
kernels flush them to zero on some of their pool threads and not on others,
so even ``nn.L1Loss``'s own gradient at d = 1e-45 is 1 or 0 from one call to
the next (measured: 30 identical calls, both answers).
"""
from __future__ import annotations

import numpy as np
import pytest

import losscc

PAIRS = [("square(d)", "MSELoss"), ("abs(d)", "L1Loss")]
DTYPES = ["float16", "float32", "float64"]


def special_inputs(dtype: str) -> tuple[np.ndarray, np.ndarray]:
    big = float(np.finfo(dtype).max)
    pred = [0.0, 1.5, np.inf, -np.inf, np.inf, np.nan, 1.0, big, -big, big / 2, -0.0, 2.0, 1e-3]
    target = [0.0, -1.0, 1.0, 1.0, np.inf, 1.0, np.nan, -big, big, -big / 2, 0.0, np.inf, 0.0]
    return np.array(pred, dtype), np.array(target, dtype)


def assert_same(got, want) -> None:
    got, want = got.asnumpy(), want.asnumpy()
    assert got.dtype == want.dtype and got.shape == want.shape
    # Equal, with nan where they have nan (and the same signs of inf).
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("formula,builtin", PAIRS, ids=[f for f, _ in PAIRS])
@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_special_values_match_mindspore_losses(formula, builtin, dtype, reduction, ms_mode):
    import mindspore as ms
    from mindspore import nn

    pred, target = special_inputs(dtype)
    ours = losscc.compile(formula, reduction)
    theirs = getattr(nn, builtin)(reduction)
    p, t = ms.Tensor(pred), ms.Tensor(target)
    with np.errstate(all="ignore"):
        assert_same(ours(p, t), theirs(p, t))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("formula,builtin", PAIRS, ids=[f for f, _ in PAIRS])
def test_special_values_give_the_same_gradients(formula, builtin, dtype, ms_mode):
    import mindspore as ms
    from mindspore import nn

    pred, target = special_inputs(dtype)
    p, t = ms.Tensor(pred), ms.Tensor(target)
    ours = ms.value_and_grad(losscc.compile(formula, "sum"), grad_position=0)(p, t)
    theirs = ms.value_and_grad(getattr(nn, builtin)("sum"), grad_position=0)(p, t)
    for got, want in zip(ours, theirs):
        assert_same(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("formula", ["square(d)", "abs(d)"])
def test_subnormal_differences_give_zero_or_the_exact_value(formula, dtype, ms_mode):
    import mindspore as ms

    tiny = np.finfo(dtype).smallest_subnormal
    pred = np.array([tiny, -tiny, 4 * tiny, 1.0], dtype)
    target = np.zeros(4, dtype)
    got = losscc.compile(formula, "none")(ms.Tensor(pred), ms.Tensor(target)).asnumpy()
    _, grad = ms.value_and_grad(losscc.compile(formula, "sum"))(ms.Tensor(pred), ms.Tensor(target))
    exact = np.abs(pred) if formula == "abs(d)" else np.zeros(4, dtype)  # tiny^2 underflows
    exact[3] = 1.0
    assert np.all((got == exact) | (got == 0)), got
    want_grad = np.sign(pred) if formula == "abs(d)" else 2 * pred.astype(np.float64)
    grad = grad.asnumpy()
    assert np.all((grad == want_grad.astype(dtype)) | (grad == 0)), grad
    assert grad[3] == want_grad[3]


@pytest.mark.parametrize("dtype", DTYPES)
def test_finite_inputs_in_every_float_type_match_numpy(dtype, ms_mode):
    """Ordinary values keep their dtype and agree with NumPy in float64.

    LossBase.get_loss computes in float32 whatever the input (nn.MSELoss
    too): float64 losses come back with float32 precision, exactly
    representable in float32.
    """
    import mindspore as ms

    rng = np.random.default_rng(5)
    pred = rng.uniform(-2, 2, (3, 5)).astype(dtype)
    target = rng.uniform(-2, 2, (3, 5)).astype(dtype)
    cell = losscc.compile("square(square(d)) - 2*abs(d) + d/4", "none")
    got = cell(ms.Tensor(pred), ms.Tensor(target)).asnumpy()
    d = pred.astype(np.float64) - target.astype(np.float64)
    want = d**4 - 2 * np.abs(d) + d / 4
    assert got.dtype == np.dtype(dtype)
    tolerance = {"float16": 5e-2, "float32": 1e-5, "float64": 1e-6}[dtype]
    np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance * 16)
    if dtype == "float64":
        np.testing.assert_array_equal(got, got.astype(np.float32).astype(np.float64))
