"""Loaded cells compute what their formula says, in both MindSpore modes.

Each formula comes with a reference written here, independently of losscc: a
Python function of (pred, target) using only operators and abs(), so the same
function evaluates NumPy arrays (values) and SymPy symbols (derivatives).
"""
import re

import numpy as np
import pytest
import sympy as sp

import losscc

CORPUS = [
    ("square(d)", lambda p, t: (p - t) ** 2),
    ("abs(d)", lambda p, t: abs(p - t)),
    ("square(square(d))", lambda p, t: (p - t) ** 4),
    ("d^15", lambda p, t: (p - t) ** 15),
    ("d^7 - 2*d^3 + d", lambda p, t: (p - t) ** 7 - 2 * (p - t) ** 3 + (p - t)),
    ("3*d^4 + 2*d^2 + 1", lambda p, t: 3 * (p - t) ** 4 + 2 * (p - t) ** 2 + 1),
    ("abs(d)^3 + 0.5*square(abs(d))", lambda p, t: abs(p - t) ** 3 + 0.5 * (p - t) ** 2),
    ("mul(pred, pred) - 2*pred*target + target^2", lambda p, t: p * p - 2 * p * t + t * t),
    ("square(d) / 3 + abs(pred - target)", lambda p, t: (p - t) ** 2 / 3 + abs(p - t)),
    ("(d + 1)^2", lambda p, t: (p - t + 1) ** 2),
    ("-(d - d^2)", lambda p, t: (p - t) ** 2 - (p - t)),
    ("abs(d - 1) + abs(target - pred - 1)", lambda p, t: abs(p - t - 1) + abs(t - p - 1)),
    ("mul(abs(d), d) * 2.5e-1", lambda p, t: abs(p - t) * (p - t) * 0.25),
]
IDS = [formula for formula, _ in CORPUS]


def inputs(shape=(4, 3), seed=0):
    rng = np.random.default_rng(seed)
    return (rng.uniform(-1.5, 1.5, shape).astype(np.float32),
            rng.uniform(-1.5, 1.5, shape).astype(np.float32))


@pytest.mark.parametrize("formula,reference", CORPUS, ids=IDS)
def test_values_and_gradients(formula, reference, ms_mode):
    import mindspore as ms

    pred, target = inputs()
    program = losscc.program(formula, "none")
    cell = program.load()
    expected = reference(pred.astype(np.float64), target.astype(np.float64))

    # values: cell == NumPy evaluator == the test's own reference
    got = cell(ms.Tensor(pred), ms.Tensor(target)).asnumpy()
    np.testing.assert_allclose(program.evaluate(pred=pred, target=target), expected, rtol=1e-12)
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-5)

    # gradients of the mean loss w.r.t. the prediction == SymPy's derivative / N
    p, t = sp.symbols("p t", real=True)
    derivative = sp.lambdify((p, t), sp.diff(reference(p, t), p), "numpy")
    mean_cell = program.__class__.from_ir(formula, program.raw, "mean").load()
    _, grad = ms.value_and_grad(mean_cell)(ms.Tensor(pred), ms.Tensor(target))
    want = derivative(pred.astype(np.float64), target.astype(np.float64)) / pred.size
    np.testing.assert_allclose(grad.asnumpy(), np.broadcast_to(want, pred.shape), rtol=1e-4, atol=1e-6)


def reduce_reference(x, weights, reduction):
    """What each reduction means, written out in NumPy."""
    w = np.broadcast_to(weights, x.shape)
    scale, kind = {
        "mean": (1.0, "mean"), "sum": (1.0, "sum"), "none": (1.0, "none"), "prod": (1.0, "prod"),
        "-mean": (-1.0, "mean"), "0.5*sum": (0.5, "sum"), "-2*prod": (-2.0, "prod"),
        "3*none": (3.0, "none"),
    }[reduction]
    wx = w * x
    reduced = {"mean": np.mean, "sum": np.sum, "prod": np.prod, "none": lambda a: a}[kind](wx)
    return scale * reduced


@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "prod", "-mean", "0.5*sum", "-2*prod", "3*none"])
@pytest.mark.parametrize("formula,reference", [CORPUS[0], CORPUS[6]], ids=[IDS[0], IDS[6]])
def test_reductions_with_and_without_weights(formula, reference, reduction, ms_mode):
    import mindspore as ms

    pred, target = inputs((3, 2), seed=1)
    cell = losscc.compile(formula, reduction)
    element = reference(pred.astype(np.float64), target.astype(np.float64))
    unweighted = cell(ms.Tensor(pred), ms.Tensor(target)).asnumpy()
    np.testing.assert_allclose(unweighted, reduce_reference(element, 1.0, reduction), rtol=2e-5)
    weights = np.array([[0.5], [2.0], [1.5]], np.float32)
    weighted = cell(ms.Tensor(pred), ms.Tensor(target), ms.Tensor(weights)).asnumpy()
    np.testing.assert_allclose(weighted, reduce_reference(element, weights, reduction), rtol=2e-5)


def test_native_reduction_can_be_chosen_at_construction():
    """Like MindSpore's own losses, the class takes reduction= when it is LossBase's."""
    import mindspore as ms

    pred, target = inputs((2, 2), seed=2)
    cls = type(losscc.compile("abs(d)"))
    total = cls(reduction="sum")(ms.Tensor(pred), ms.Tensor(target)).asnumpy()
    np.testing.assert_allclose(total, np.abs(pred - target).sum(), rtol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "-mean", "0.5*sum", "prod"])
def test_every_class_has_one_constructor_signature(reduction):
    """One signature, __init__(self, reduction=<its own>), whatever the reduction: a -mean
    class is built like a mean class, and refuses another reduction by name."""
    import inspect

    cls = type(losscc.compile("abs(d)", reduction))
    signature = inspect.signature(cls.__init__)
    assert list(signature.parameters) == ["self", "reduction"]
    assert signature.parameters["reduction"].default == reduction
    cls(), cls(reduction), cls(reduction=reduction)  # all three build
    if reduction not in ("mean", "sum", "none"):
        with pytest.raises(ValueError, match=re.escape(f"compiled for reduction {reduction}, not")):
            cls(reduction="mean")


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dtypes_are_kept(dtype):
    import mindspore as ms

    pred, target = (a.astype(dtype) for a in inputs((5,), seed=3))
    out = losscc.compile("0.5*square(d) + abs(d)", "none")(ms.Tensor(pred), ms.Tensor(target))
    assert out.asnumpy().dtype == dtype
    d = pred.astype(np.float64) - target.astype(np.float64)
    # LossBase.get_loss casts to float32 and back, so float64 keeps float32 precision.
    rtol = {np.float16: 2e-3, np.float32: 1e-6, np.float64: 1e-7}[dtype]
    np.testing.assert_allclose(out.asnumpy(), 0.5 * d * d + np.abs(d), rtol=rtol)
