"""losscc.function: a plain loss function for MindSpore 2.x functional training loops.

The loop is the modern MindSpore tutorial's (``ms.value_and_grad`` over a forward
function, the step under ``@ms.jit``), in GRAPH_MODE and PyNative. The reference
is NumPy's least squares on the same rows, computed here.
"""
import numpy as np
import pytest

import losscc


def table(n=64, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.normal(size=(n, 2)).astype(np.float32)
    y = (x @ np.array([[2.0], [-1.0]]) + 3 + rng.normal(0, 0.1, (n, 1))).astype(np.float32)
    return x, y


def test_a_value_and_grad_loop_reaches_least_squares(ms_mode):
    import mindspore as ms
    from mindspore import Tensor, nn

    x, y = table()
    ms.set_seed(0)
    net = nn.Dense(2, 1, 0.02, 0.02)
    optimizer = nn.Adam(net.trainable_params(), learning_rate=0.05)
    loss_fn = losscc.function("0.5*square(d)")

    def forward(features, labels):
        return loss_fn(net(features), labels)

    grad_fn = ms.value_and_grad(forward, None, optimizer.parameters)

    @ms.jit
    def train_step(features, labels):
        loss, grads = grad_fn(features, labels)
        optimizer(grads)
        return loss

    for _ in range(400):
        loss = train_step(Tensor(x), Tensor(y))
    weight, bias = (p.asnumpy().astype(np.float64).ravel() for p in net.trainable_params())
    design = np.c_[x.astype(np.float64), np.ones(len(x))]
    coef, *_ = np.linalg.lstsq(design, y.astype(np.float64).ravel(), rcond=None)
    np.testing.assert_allclose(np.r_[weight, bias], coef, atol=2e-3)
    residual = design @ coef - y.ravel()
    assert float(loss.asnumpy()) == pytest.approx(0.5 * np.mean(residual ** 2), rel=2e-2)


def test_the_function_takes_weights_and_mindspores_argument_names(ms_mode):
    from mindspore import Tensor

    rng = np.random.default_rng(1)
    pred, target, weight = (rng.normal(size=(6, 1)).astype(np.float32) for _ in range(3))
    loss_fn = losscc.function("abs(d)", reduction="sum")
    d = pred.astype(np.float64) - target
    assert float(loss_fn(Tensor(pred), Tensor(target)).asnumpy()) == pytest.approx(
        np.sum(np.abs(d)), rel=1e-6)
    got = loss_fn(input=Tensor(pred), target=Tensor(target), weight=Tensor(weight))
    assert float(got.asnumpy()) == pytest.approx(np.sum(weight * np.abs(d)), rel=1e-5)
    assert isinstance(loss_fn.cell, __import__("mindspore").nn.LossBase)
    assert "abs(d)" in loss_fn.__doc__


def test_a_bad_formula_is_refused_before_mindspore_runs():
    with pytest.raises(losscc.LossccError, match="unknown function 'sqare'"):
        losscc.function("sqare(d)")
