"""The seed article's five training runs, with losses compiled by losscc.

The set-up is the article's ("custom loss functions in MindSpore", its script
ported to MindSpore 2.10): its data layout, network, optimizer, seed and sink
mode. Expected numbers are the article's results rerun under MindSpore 2.10 (CPU).
"""
import numpy as np
import pytest

import losscc

pytestmark = pytest.mark.slow

# run -> (formula, reduction, final loss, weight, bias, relative tolerance)
ARTICLE = {
    "abs": ("abs(d)", "mean", 1.8300732, [1.2687291, -0.09565887], 3.7297544, 1e-5),
    "square": ("square(d)", "mean", 2.5267091, [1.0694228, 0.12706375], 5.1867013, 1e-5),
    "quartic": ("square(square(d))", "mean", 16.992222, [0.14460069, 0.32045615], 5.6676607, 1e-5),
    "negmean": ("square(d)", "-mean", -310517120.0, [-6154.175, 667.4568], -16418.32, 1e-4),
}


def article_training(loss):
    """Train the article's one-layer regression with ``loss``: (last loss, weight, bias)."""
    import mindspore as ms
    from mindspore import dataset as ds, nn
    from mindspore.train import Callback, Model

    ms.set_seed(0)  # also seeds NumPy, which draws the data below

    def get_data(num, a=2.0, b=3.0, c=5.0):
        for _ in range(num):
            x = np.random.uniform(-1.0, 1.0)
            y = np.random.uniform(-1.0, 1.0)
            noise = np.random.normal(0, 0.03)
            z = a * x**2 + b * y**3 + c + noise
            # The article's layout: the output is (10, 1, 1) against a (10, 1) label.
            yield np.array([[x**2], [y**3]], dtype=np.float32).reshape(1, 2), np.array([z]).astype(np.float32)

    data = ds.GeneratorDataset(list(get_data(160)), column_names=["xy", "z"]).batch(10).repeat(10)

    class LinearNet(nn.Cell):
        def __init__(self):
            super().__init__()
            self.fc = nn.Dense(2, 1, 0.02, 0.02)

        def construct(self, x):
            return self.fc(x)

    class LastLoss(Callback):
        def on_train_step_end(self, run_context):
            self.value = run_context.original_args().net_outputs.asnumpy()

    net = LinearNet()
    optim = nn.Momentum(net.trainable_params(), learning_rate=0.01, momentum=0.6)
    last = LastLoss()
    Model(net, loss, optim).train(1, data, callbacks=[last], dataset_sink_mode=True)
    weight, bias = (p.asnumpy() for p in net.trainable_params())
    return float(last.value), weight.ravel(), bias.ravel()


@pytest.mark.parametrize("run", sorted(ARTICLE))
def test_article_run(run, ms_mode):
    formula, reduction, loss, weight, bias, rtol = ARTICLE[run]
    # shapes="allow": the article's numbers come from its broadcast (10,1,1) vs (10,1)
    got_loss, got_weight, got_bias = article_training(losscc.compile(formula, reduction, shapes="allow"))
    np.testing.assert_allclose(got_loss, loss, rtol=rtol)
    np.testing.assert_allclose(got_weight, weight, rtol=rtol)
    np.testing.assert_allclose(got_bias, [bias], rtol=rtol)


def test_square_is_mse_bit_for_bit(ms_mode):
    from mindspore import nn

    builtin = article_training(nn.MSELoss())
    compiled = article_training(losscc.compile("square(d)", shapes="allow"))
    assert builtin[0] == compiled[0]
    assert np.array_equal(builtin[1], compiled[1]) and np.array_equal(builtin[2], compiled[2])
    # and the article's published MSE numbers, to float32 precision
    np.testing.assert_allclose(compiled[0], 2.5267093, rtol=1e-6)
