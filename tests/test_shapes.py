"""The shapes= option of generated cells: strict raises, warn warns once, allow broadcasts.

The mismatch is the seed article's: a (batch, 1, 1) prediction against a
(batch, 1) label, which MindSpore broadcasts to (batch, batch, 1). Expected
values are NumPy's own broadcasting of the same arithmetic, written here.
"""
import subprocess
import sys
import warnings

import numpy as np
import pytest

import losscc

FORMULA = "square(d) + abs(d)"


def reference(pred, target):
    """mean of (p - t)^2 + |p - t| with NumPy's broadcasting (MindSpore's rules)."""
    d = pred.astype(np.float64) - target.astype(np.float64)
    return float(np.mean(d * d + np.abs(d)))


def article_layout(batch=4, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(batch, 1, 1)).astype(np.float32),
            rng.normal(size=(batch, 1)).astype(np.float32))


def call(cell, pred, target, times=1):
    """Call the cell ``times`` times; (last value, the shape warnings it raised)."""
    import mindspore as ms

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # Python's usual filter: once per call site
        for _ in range(times):
            value = float(cell(ms.Tensor(pred), ms.Tensor(target)).asnumpy())
    return value, [w for w in caught if "differ in shape" in str(w.message)]


def test_strict_raises_on_a_mismatch_and_computes_on_a_match(ms_mode, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a failed GRAPH_MODE compile would write rank_0/om/ here
    pred, target = article_layout()
    cell = losscc.compile(FORMULA, shapes="strict", name="StrictLoss")
    expected = r"StrictLoss: logits \(4, 1, 1\) and labels \(4, 1\) differ"
    with pytest.raises(ValueError, match=expected) as info:
        call(cell, pred, target)
    # A plain ValueError from the generated __call__, before MindSpore compiled anything:
    # no compile traceback in the message, no analyze_fail.ir left behind.
    assert "C++" not in str(info.value) and len(str(info.value)) < 200
    assert info.traceback[-1].frame.code.name == "__call__"
    assert list(tmp_path.iterdir()) == []
    value, caught = call(cell, pred, target.reshape(4, 1, 1))
    assert caught == []
    assert value == pytest.approx(reference(pred, target.reshape(4, 1, 1)), rel=1e-6)


def test_a_top_level_warning_points_at_the_callers_line(ms_mode):
    pred, target = article_layout(seed=3)
    cell = losscc.compile(FORMULA, name="WhereLoss")
    _, caught = call(cell, pred, target)
    assert len(caught) == 1 and caught[0].filename == __file__
    assert "value = float(cell(" in open(__file__).read().splitlines()[caught[0].lineno - 1]


def test_a_warning_inside_a_graph_points_at_the_generated_file(ms_mode):
    """Inside another cell (Model.train's set-up): the generated file's line, never <string>."""
    import mindspore as ms
    from mindspore import nn

    net = nn.Dense(2, 1, 0.02, 0.02)
    loss = losscc.compile("square(d)", name="InnerLoss")
    step = nn.TrainOneStepCell(nn.WithLossCell(net, loss),
                               nn.Momentum(net.trainable_params(), 0.01, 0.6))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        step(ms.Tensor(np.ones((6, 1, 2), np.float32)), ms.Tensor(np.zeros((6, 1), np.float32)))
    caught = [w for w in caught if "InnerLoss: logits (6, 1, 1)" in str(w.message)]
    assert len(caught) == 1
    generated = sys.modules[type(loss).__module__].__file__
    assert caught[0].filename == generated
    assert "warnings.warn_explicit(" in open(generated).read().splitlines()[caught[0].lineno - 1]


@pytest.mark.parametrize("shapes", ["warn", "strict", "allow"])
def test_input_and_target_keywords_as_in_newer_mindspore_losses(shapes, ms_mode):
    import mindspore as ms

    rng = np.random.default_rng(5)
    pred, target = (ms.Tensor(rng.normal(size=(5, 1)).astype(np.float32)) for _ in range(2))
    weights = ms.Tensor(rng.uniform(size=(5, 1)).astype(np.float32))
    cell = losscc.compile(FORMULA, shapes=shapes)
    p, t, w = (x.asnumpy().astype(np.float64) for x in (pred, target, weights))
    d = p - t
    plain, weighted = np.mean(d * d + np.abs(d)), np.mean(w * (d * d + np.abs(d)))
    for value, expected in [(cell(pred, target), plain), (cell(logits=pred, labels=target), plain),
                            (cell(input=pred, target=target), plain),
                            (cell(pred, target=target), plain),
                            (cell(input=pred, target=target, weight=weights), weighted),
                            (cell(pred, target, weights), weighted)]:
        assert float(value.asnumpy()) == pytest.approx(expected, rel=1e-6)
    with pytest.raises(TypeError, match="give labels or target, not both"):
        cell(pred, labels=target, target=target)
    with pytest.raises(TypeError):
        cell(pred)


def test_warn_warns_once_and_keeps_the_broadcast_value(ms_mode):
    pred, target = article_layout(seed=1)
    cell = losscc.compile(FORMULA, name="WarnLoss")  # warn is the default
    value, caught = call(cell, pred, target, times=3)
    assert len(caught) == 1, [str(w.message) for w in caught]
    message = str(caught[0].message)
    assert "logits (4, 1, 1) and labels (4, 1)" in message and "shapes='allow'" in message
    assert value == pytest.approx(reference(pred, target), rel=1e-6)  # (4, 4, 1) broadcast
    # matching shapes: no warning
    _, caught = call(cell, pred, target.reshape(4, 1, 1))
    assert caught == []


def test_allow_broadcasts_silently(ms_mode):
    pred, target = article_layout(seed=2)
    cell = losscc.compile(FORMULA, shapes="allow", name="AllowLoss")
    value, caught = call(cell, pred, target)
    assert caught == []
    assert value == pytest.approx(reference(pred, target), rel=1e-6)


def test_training_steps_warn_once(ms_mode):
    """Inside a compiled train step (the seed article's set-up) the warning comes once."""
    import mindspore as ms
    from mindspore import nn

    ms.set_seed(0)
    net = nn.Dense(2, 1, 0.02, 0.02)
    step = nn.TrainOneStepCell(nn.WithLossCell(net, losscc.compile("square(d)", name="StepLoss")),
                               nn.Momentum(net.trainable_params(), 0.01, 0.6))
    features = ms.Tensor(np.ones((10, 1, 2), np.float32))
    labels = ms.Tensor(np.zeros((10, 1), np.float32))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for _ in range(3):
            step(features, labels)
    assert len([w for w in caught if "StepLoss: logits (10, 1, 1)" in str(w.message)]) == 1


def test_generated_source_per_mode():
    allow = losscc.source("square(d)", shapes="allow")
    assert "shape" not in allow and "warnings" not in allow  # MindSpore's behaviour, no check
    warn, strict = losscc.source("square(d)"), losscc.source("square(d)", shapes="strict")
    assert warn == losscc.source("square(d)", shapes="warn")
    assert "if not self.shapes_warned and logits.shape != labels.shape:" in warn
    assert "warnings.warn(" in warn and "warnings.warn_explicit(" in warn
    assert "if logits.shape != labels.shape:" in strict and "if _shapes_differ(" in strict
    assert strict.count("raise ValueError(") == 2 and "import warnings" not in strict
    compile(warn, "warn.py", "exec")
    compile(strict, "strict.py", "exec")


def test_bad_mode_is_a_clear_error():
    with pytest.raises(losscc.LossccError, match="unknown shape mode 'loud'") as info:
        losscc.source("square(d)", shapes="loud")
    assert "strict" in info.value.render() and "allow" in info.value.render()
    result = subprocess.run([sys.executable, "-m", "losscc", "compile", "square(d)",
                             "--shapes", "loud"], capture_output=True, text=True)
    assert result.returncode == 2 and "invalid choice: 'loud'" in result.stderr
    assert "Traceback" not in result.stderr


def test_compile_cli_shapes_option():
    result = subprocess.run([sys.executable, "-m", "losscc", "compile", "square(d)",
                             "--shapes", "strict", "--name", "S"], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout == losscc.source("square(d)", name="S", shapes="strict")


@pytest.mark.parametrize("name", ["warnings", "ValueError", "sys", "_arguments", "_WARNED"])
def test_names_the_shape_check_uses_are_not_class_names(name):
    with pytest.raises(losscc.LossccError, match="cannot be a class name"):
        losscc.source("square(d)", name=name)
