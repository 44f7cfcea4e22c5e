"""Train a model with a compiled loss, the way MindSpore users do: ``Model.train``.

``train(program, data, options)`` builds the network (the article's
``Dense(2, 1, 0.02, 0.02)``; a linear layer or a small MLP for a user's
table), the optimizer and a MindSpore dataset, runs ``Model.train`` with a
callback that records every step's loss and reports progress in
``LossMonitor``'s words, and measures the trained model on the held-out rows.

The order of the rows is MindSpore's own: the sampler of a shuffling
``GeneratorDataset`` seeded by ``ms.set_seed(seed)``, one fresh order per pass
(``repeat`` passes per epoch). It is drawn once up front, which is what lets
``--workers`` give each worker its slice of every global batch, and it is the
order in which the seed article's script saw its data, so its numbers come
out again.

A run whose loss becomes NaN/inf, or grows to ``EXPLODE_FACTOR`` times its
first value, is reported as diverged (training stops at a non-finite loss),
not raised as an error.

Example (imports MindSpore; about two seconds)::

    from losscc.compiler.program import build
    from losscc.training.data import article_data
    result = train(build("square(d)"), article_data())
    print(result.render())
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from ..compiler.program import Program
from ..compiler.runtime import MODES, context_mode
from ..errors import LossccError
from ..floats import show_float32
from .data import Regression

# A loss whose magnitude exceeds this many times its first step's (or 1) has exploded.
EXPLODE_FACTOR = 1e4

OPTIMIZERS = ("momentum", "sgd", "adam")


@dataclass(frozen=True)
class TrainOptions:
    """How to train: the seed article's settings by default."""

    optimizer: str = "momentum"
    lr: float = 0.01
    momentum: float = 0.6          # Momentum only
    epochs: int = 1
    repeat: int = 10               # passes over the training rows per epoch
    batch_size: int = 10           # per worker
    seed: int = 0
    mode: str = "graph"
    sink: bool = True              # dataset sink mode: MindSpore ignores it on CPU
    hidden: int = 0                # 0: linear model; N: one hidden ReLU layer of N units
    shapes: Optional[str] = None   # the compiled cell's shapes= option, when given
    log_every: Optional[int] = None  # steps between progress lines; None: ten lines a run

    def check(self) -> None:
        """Raise a LossccError for options that cannot train."""
        problems = [
            (self.optimizer not in OPTIMIZERS, f"unknown optimizer {self.optimizer!r}",
             "optimizers: " + ", ".join(OPTIMIZERS)),
            (self.mode not in MODES, f"unknown mode {self.mode!r}", "modes: graph, pynative"),
            (not (math.isfinite(self.lr) and self.lr > 0), "the learning rate must be positive",
             "e.g. --lr 0.01"),
            (not (math.isfinite(self.momentum) and self.momentum >= 0),
             "the momentum must be zero or positive", "e.g. --momentum 0.6"),
            (self.epochs < 1, "--epochs must be at least 1", None),
            (self.repeat < 1, "--repeat must be at least 1", None),
            (self.batch_size < 1, "--batch-size must be at least 1", None),
            (self.seed < 0, "--seed must be zero or positive", None),
            (self.hidden < 0, "--hidden must be zero or positive", None),
            (self.log_every is not None and self.log_every < 0, "--log-every must be >= 0", None),
        ]
        for bad, message, hint in problems:
            if bad:
                raise LossccError(message, hint=hint, source="options")


@dataclass
class TrainResult:
    """What one training run produced; ``render()`` for people, ``to_json()`` for machines."""

    formula: str
    reduction: str
    compiled: str
    data: dict
    options: dict
    steps: int
    losses: list[float]
    parameters: dict[str, Any]
    held_out: dict[str, Optional[float]]
    time_s: float
    diverged: bool = False
    divergence: Optional[str] = None
    workers: int = 1
    notes: list[str] = field(default_factory=list)
    analysis: Optional[dict] = None       # losscc.analyze's verdicts, when the caller adds them

    @property
    def final_loss(self) -> Optional[float]:
        return self.losses[-1] if self.losses else None

    def to_json(self) -> dict:
        out = asdict(self)
        # Strict JSON has no NaN or Infinity: a diverged run's non-finite numbers become null.
        out["final_loss"] = _finite_or_none(self.final_loss)
        out["losses"] = [_finite_or_none(v) for v in self.losses]
        out["parameters"] = {k: _finite_nested(v) for k, v in self.parameters.items()}
        return out

    def render(self) -> str:
        o, d = self.options, self.data
        shapes = d["sample_shapes"]
        batch = o["batch_size"]  # each worker's: the shapes its loss cell sees
        lines = [
            f"loss:      {self.formula}, reduction {self.reduction}  (compiled: {self.compiled})",
            f"data:      {d['name']}; {d['train_rows']} training rows, "
            f"{d['held_out_rows']} held out",
            f"layout:    features {tuple(shapes['features'])}, label {tuple(shapes['label'])} "
            f"per sample; shapes={o['shapes'] or 'warn'}",
            "           " + (f"output ({batch}, 1, 1) against labels ({batch}, 1): broadcast to "
                             f"({batch}, {batch}, 1) (the article's layout)"
                             if d["layout"] == "article" else
                             f"output and labels both ({batch}, 1)"),
            f"training:  {_optimizer_text(o)}, batch {o['batch_size']}"
            + (f" x {self.workers} workers" if self.workers > 1 else "")
            + f", seed {o['seed']}, {o['mode'].upper()}_MODE",
            f"           {o['epochs']} epoch{'s' if o['epochs'] > 1 else ''} of {o['repeat']} "
            f"passes over the rows: {self.steps} steps",
        ]
        final = self.final_loss
        lines.append("final loss: " + (show_float32(final) if final is not None else "none (no step ran)")
                     + "  (in this loss's own units: not comparable across losses)")
        if self.diverged:
            lines.append(f"DIVERGED:  {self.divergence}")
        lines.append("parameters:")
        width = max((len(n) for n in self.parameters), default=0)
        for name, value in self.parameters.items():
            lines.append(f"  {name:<{width}}  {_array_text(value)}")
        truth = d.get("truth")
        if truth:
            lines.append("  true a, b, c: " + ", ".join(show_float32(v) for v in truth.values())
                         + "  (the weights estimate a, b; the bias estimates c)")
        h = self.held_out
        lines.append(f"held out ({d['held_out_rows']} rows): " + ", ".join(
            f"{label} {show_float32(h[key])}" for key, label in
            (("mae", "MAE"), ("rmse", "RMSE"), ("max_error", "max error"))))
        lines.append(f"time:      {self.time_s:.2f} s")
        lines += [f"note:      {n}" for n in self.notes]
        return "\n".join(lines)


def train(program: Program, data: Regression, options: TrainOptions = TrainOptions(),
          progress: Optional[Callable[[str], None]] = None,
          shard: Optional[tuple[int, int]] = None) -> TrainResult:
    """Train on ``data`` with the loss ``program``; ``shard=(rank, size)`` inside msrun."""
    options.check()
    import mindspore as ms
    from mindspore.train import Model

    rank, size = shard or (0, 1)
    if options.shapes == "strict" and data.article_layout:
        # The cell would raise inside graph compilation; say it before any work.
        batch = options.batch_size
        raise LossccError(
            f"shapes='strict' refuses the article's layout: the network's output ({batch}, 1, 1) "
            f"and the labels ({batch}, 1) differ in shape", source="options",
            hint="leave out --article for matching shapes, or use --shapes warn or allow")
    previous_mode = ms.get_context("mode")
    ms.set_context(mode=context_mode(options.mode))
    try:
        batches, notes = _batches(data, options, rank, size)
        if not batches:
            raise LossccError(
                f"{len(data.train_y)} training rows make no global batch of "
                f"{options.batch_size * size}", hint="lower --batch-size or --workers",
                source="options")
        net = _network(data.train_x.shape[1], options)
        loss = program.load(shapes=options.shapes)
        optimizer = _optimizer(options, net.trainable_params())
        model = Model(net, loss, optimizer)
        monitor = _monitor(progress, options.log_every or max(1, len(batches) // 10),
                           len(batches) // options.epochs)
        start = time.perf_counter()
        model.train(1, _dataset(data, batches), callbacks=[monitor],
                    dataset_sink_mode=options.sink)
        elapsed = time.perf_counter() - start
        parameters = {p.name: p.asnumpy() for p in net.trainable_params()}
        held_out = _metrics(net, data)
    finally:
        ms.set_context(mode=previous_mode)

    divergence = monitor.divergence
    if divergence is None and not all(np.isfinite(v).all() for v in parameters.values()):
        divergence = "the parameters became NaN or infinite"
    if options.sink:
        notes.append("dataset sink mode requested; MindSpore trains on CPU without sinking")
    notes += list(data.notes)
    return TrainResult(
        formula=program.formula.strip(), reduction=str(program.reduction),
        compiled=program.summary,
        data=data.describe(), options=asdict(options), steps=len(monitor.losses),
        losses=monitor.losses,
        parameters={k: v.tolist() for k, v in parameters.items()}, held_out=held_out,
        time_s=elapsed, diverged=divergence is not None, divergence=divergence,
        workers=size, notes=notes,
    )


def training_order(n: int, passes: int, seed: int) -> list[np.ndarray]:
    """The order of the rows in each pass: MindSpore's shuffling sampler under ``set_seed(seed)``.

    The same sampler shuffles the article's ``GeneratorDataset(...).batch().repeat()``,
    so the article's runs see their rows in exactly this order.
    """
    import mindspore as ms
    from mindspore import dataset as ds

    ms.set_seed(seed)
    indices = ds.GeneratorDataset([(np.array(i, np.int64),) for i in range(n)],
                                  column_names=["row"]).batch(n).repeat(passes)
    return [row[0] for row in indices.create_tuple_iterator(output_numpy=True)]


def _batches(data: Regression, options: TrainOptions, rank: int,
             size: int) -> tuple[list[np.ndarray], list[str]]:
    """Row indices of each of this worker's batches, pass after pass."""
    notes: list[str] = []
    step = options.batch_size * size
    out: list[np.ndarray] = []
    dropped = 0
    for order in training_order(len(data.train_y), options.epochs * options.repeat, options.seed):
        for begin in range(0, len(order), step):
            chunk = order[begin:begin + step]
            if size > 1 and len(chunk) < step:
                dropped += len(chunk)  # workers' shares of a short batch would differ in size
                continue
            out.append(chunk[rank * options.batch_size:(rank + 1) * options.batch_size])
    rows = len(data.train_y)
    if size == 1 and options.batch_size > rows:
        notes.append(f"--batch-size {options.batch_size} is more than the {rows} training rows: "
                     f"each step takes all {rows}")
    if dropped:
        notes.append(f"{dropped} rows of incomplete global batches left out "
                     f"(global batch {step} does not divide {len(data.train_y)})")
    return out, notes


def _dataset(data: Regression, batches: list[np.ndarray]) -> Any:
    from mindspore import dataset as ds

    class Batches:
        """Random access to ready batches, in the data's sample layout."""

        def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
            rows = batches[i]
            return data.shaped(data.train_x[rows], data.train_y[rows])

        def __len__(self) -> int:
            return len(batches)

    return ds.GeneratorDataset(Batches(), column_names=["features", "label"], shuffle=False)


def _network(k: int, options: TrainOptions) -> Any:
    """Linear: Dense(k, 1, 0.02, 0.02) as the article; MLP: seeded He-uniform hidden layer."""
    from .nets import MLP, LinearNet

    if options.hidden == 0:
        return LinearNet(k)
    rng = np.random.RandomState(options.seed)
    h = options.hidden
    w_hidden = rng.uniform(-1, 1, (h, k)) * math.sqrt(6.0 / k)   # He uniform, for ReLU
    w_out = rng.uniform(-1, 1, (1, h)) * math.sqrt(3.0 / h)      # LeCun uniform, linear output
    return MLP(w_hidden, w_out)


def _optimizer(options: TrainOptions, params: Any) -> Any:
    from mindspore import nn

    if options.optimizer == "momentum":
        return nn.Momentum(params, learning_rate=options.lr, momentum=options.momentum)
    if options.optimizer == "sgd":
        return nn.SGD(params, learning_rate=options.lr)
    return nn.Adam(params, learning_rate=options.lr)


def _monitor(progress: Optional[Callable[[str], None]], every: int, steps_per_epoch: int) -> Any:
    from mindspore.train import Callback

    class StepMonitor(Callback):
        """Every step's loss; LossMonitor's lines; divergence spotted and named."""

        def __init__(self) -> None:
            super().__init__()
            self.losses: list[float] = []
            self.divergence: Optional[str] = None

        def step_end(self, run_context: Any) -> None:
            cb = run_context.original_args()
            loss = float(np.mean(cb.net_outputs.asnumpy()))
            self.losses.append(loss)
            step = len(self.losses)
            if progress and every and (step % every == 0 or not math.isfinite(loss)):
                progress(progress_line(step, steps_per_epoch, loss))
            if self.divergence is None:
                first = abs(self.losses[0]) if math.isfinite(self.losses[0]) else 1.0
                if not math.isfinite(loss):
                    self.divergence = f"the loss became {loss} at step {step}"
                elif abs(loss) > EXPLODE_FACTOR * max(first, 1.0):
                    self.divergence = (f"the loss exploded from {show_float32(self.losses[0])} to "
                                       f"{show_float32(loss)} by step {step}")
            if not math.isfinite(loss):
                run_context.request_stop()  # nothing more to learn from NaN

    return StepMonitor()


def progress_line(step: int, steps_per_epoch: int, loss: float) -> str:
    """A progress line in LossMonitor's words (``step`` counts from 1 over the whole run).

    >>> progress_line(161, 160, 2.5267091)
    'epoch: 2 step: 1, loss is 2.526709'
    """
    epoch, in_epoch = divmod(step - 1, steps_per_epoch)
    return f"epoch: {epoch + 1} step: {in_epoch + 1}, loss is {show_float32(loss)}"


def _metrics(net: Any, data: Regression) -> dict[str, Optional[float]]:
    """MAE, RMSE and max error of the predictions on the held-out rows (None if not finite)."""
    from mindspore import Tensor

    x, _ = data.shaped(data.test_x, data.test_y)
    pred = net(Tensor(x)).asnumpy().astype(np.float64).reshape(-1)
    err = np.abs(pred - data.test_y.astype(np.float64))
    with np.errstate(over="ignore", invalid="ignore"):
        values = {"mae": err.mean(), "rmse": math.sqrt(np.mean(err ** 2)), "max_error": err.max()}
    return {k: _finite_or_none(float(v)) for k, v in values.items()}


def _finite_or_none(value: Optional[float]) -> Optional[float]:
    return value if value is not None and math.isfinite(value) else None


def _finite_nested(value: Any) -> Any:
    if isinstance(value, list):
        return [_finite_nested(v) for v in value]
    return _finite_or_none(value)


def _optimizer_text(o: dict) -> str:
    if o["optimizer"] == "momentum":
        return f"Momentum(lr={o['lr']:g}, momentum={o['momentum']:g})"
    return f"{'SGD' if o['optimizer'] == 'sgd' else 'Adam'}(lr={o['lr']:g})"


def _array_text(value: Any) -> str:
    """Nested lists of floats as MindSpore prints them, or a summary when there are many."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.size > 8:
        return (f"shape {arr.shape}, {arr.size} values in "
                f"[{show_float32(float(arr.min()))}, {show_float32(float(arr.max()))}]")
    if isinstance(value, list):
        return "[" + ", ".join(_array_text(v) for v in value) + "]"
    return show_float32(float(value))
