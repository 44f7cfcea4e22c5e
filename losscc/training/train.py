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

Two sets of defaults. On the seed article's data, the article's own
settings (``TrainOptions()``: Momentum 0.01/0.6, batch 10, 10 passes), so its
published numbers come out again. On a table (``--data``), settings that do
not depend on the table's scale (``TrainOptions.for_table()``): features and
target standardised (``losscc.training.data``), Adam with eps 1e-16 (its
default 1e-8 swamps the gradients of a target of scale 1e-5), learning rate
0.01 decaying to 0 along a cosine, batch 32, 10 passes but at least 1000
steps. Measured on generated tables with heavy-tailed noise at target scales
1e-5 to 1e4 (benchmarks/scale_grid.py), every loss then reaches least squares'
held-out MAE within a few percent.

A run whose loss becomes NaN/inf, or grows to ``EXPLODE_FACTOR`` times its
first value, is reported as diverged (training stops at a non-finite loss),
not raised as an error. A run that does not beat predicting the training
median is reported as not converged (``losscc.training.references``).

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

from .. import limits
from ..compiler.program import Program
from ..compiler.runtime import context_mode, scratch_directory
from ..errors import LossccError
from ..floats import show, show_float32, strict
from .data import Regression
from .options import TrainOptions
from .references import Verdict, judge, metrics, references, skill

# A loss whose magnitude exceeds this many times its first step's (or 1) has exploded.
EXPLODE_FACTOR = 1e4


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
    passes: int = 0                       # passes over the training rows
    status: str = "ok"                    # ok, not converged, diverged, failed
    reason: Optional[str] = None          # what the status rests on
    hint: Optional[str] = None            # what to try, when the status is not ok
    references: Optional[dict] = None     # the reference predictors' held-out metrics
    skill: Optional[float] = None         # see losscc.training.references
    # A linear model in the table's own units: {"weights": [...], "intercept": b}.
    coefficients: Optional[dict] = None

    @property
    def final_loss(self) -> Optional[float]:
        return self.losses[-1] if self.losses else None

    def to_json(self) -> dict:
        """Every field, and the final loss, as strict JSON data (a diverged run's inf: null)."""
        return strict({**asdict(self), "final_loss": self.final_loss})

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
        ]
        if "standardised" in d:
            target = d["standardised"]["target"]
            lines.append(f"scaling:   features standardised; prediction = {show(target['mean'], 6)}"
                         f" + {show(target['std'], 6)} * network output (the training rows' "
                         f"{d['target']} mean and std)")
        lines += [
            f"training:  {_optimizer_text(o)}, batch {o['batch_size']}"
            + (f" x {self.workers} workers" if self.workers > 1 else "")
            + f", seed {o['seed']}, {o['mode'].upper()}_MODE",
            f"           {_passes_text(o, self.passes)}: {self.steps} steps",
        ]
        final = self.final_loss
        lines.append("final loss: "
                     + (show_float32(final) if final is not None else "none (no step ran)")
                     + "  (in this loss's own units: not comparable across losses)")
        lines.append("parameters:" + ("  (of the network, on standardised data)"
                                      if "standardised" in d else ""))
        width = max((len(n) for n in self.parameters), default=0)
        for name, value in self.parameters.items():
            lines.append(f"  {name:<{width}}  {_array_text(value)}")
        truth = d.get("truth")
        if truth:
            lines.append("  true a, b, c: " + ", ".join(show_float32(v) for v in truth.values())
                         + "  (the weights estimate a, b; the bias estimates c)")
        if self.coefficients and "standardised" in d:
            lines.append(f"in {d['target']}'s units: " + model_text(d["target"], d["features"],
                                                                 self.coefficients))
        h = self.held_out
        lines.append(f"held out ({d['held_out_rows']} rows): " + ", ".join(
            f"{label} {show_float32(h[key])}" for key, label in
            (("mae", "MAE"), ("rmse", "RMSE"), ("max_error", "max error"))))
        if self.references:
            lines.append("references: " + "; ".join(
                f"{name} MAE {show(r['mae'], 6)}, RMSE {show(r['rmse'], 6)}"
                for name, r in self.references.items()))
        lines.append(f"status:    {self.status.upper() if self.status != 'ok' else 'ok'}"
                     + (f": {self.reason}" if self.reason else ""))
        if self.hint:
            lines.append(f"hint:      {self.hint}")
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
    batches, passes, notes = _batches(data, options, rank, size)
    previous_mode = ms.get_context("mode")
    ms.set_context(mode=context_mode(options.mode))
    try:
        with scratch_directory():  # a failed compile's report goes to a temporary directory
            net = _network(data, options)
            loss = program.load(shapes=options.shapes)
            optimizer = _optimizer(options, net.trainable_params(), len(batches))
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
    refs = references(data.train_x, data.train_y, data.test_x, data.test_y)
    if divergence is not None:
        verdict = Verdict("diverged", divergence, _divergence_hint(options, monitor.losses, data))
    else:
        verdict = judge(held_out["mae"], refs, _convergence_hint(options, data))
    return TrainResult(
        formula=program.formula.strip(), reduction=str(program.reduction),
        compiled=program.summary,
        data=data.describe(), options=asdict(options), steps=len(monitor.losses),
        losses=monitor.losses,
        parameters={k: v.tolist() for k, v in parameters.items()}, held_out=held_out,
        time_s=elapsed, diverged=divergence is not None, divergence=divergence,
        workers=size, notes=notes, passes=passes, status=verdict.status, reason=verdict.reason,
        hint=verdict.hint, references=refs, skill=skill(held_out["mae"], refs),
        coefficients=_coefficients(parameters, data, options),
    )


def model_text(target: str, features: list[str], coefficients: dict) -> str:
    """A linear model as an equation in the table's units.

    >>> model_text("y", ["a", "b"], {"weights": [2.0, -0.5], "intercept": 1.25})
    'y = 2 a - 0.5 b + 1.25'
    """
    terms = [f"{show(w, 4)} {name}" for w, name in zip(coefficients["weights"], features)]
    terms.append(show(coefficients["intercept"], 6))
    text = " + ".join(terms).replace("+ -", "- ")
    return f"{target} = {text}"


def learning_rates(options: TrainOptions, steps: int) -> "float | list[float]":
    """The learning rate: a number, or one per step (cosine from ``lr`` down towards 0).

    >>> learning_rates(TrainOptions(lr=0.1), 4)
    0.1
    >>> [round(r, 4) for r in learning_rates(TrainOptions(lr=0.1, schedule="cosine"), 4)]
    [0.1, 0.0854, 0.05, 0.0146]
    """
    if options.schedule == "constant":
        return options.lr  # a number, as the article passes it: its runs stay bit for bit
    return [options.lr * 0.5 * (1 + math.cos(math.pi * i / steps)) for i in range(steps)]


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


def plan(rows: int, options: TrainOptions, size: int = 1) -> tuple[int, int]:
    """(passes over the rows, steps per pass) for ``rows`` training rows and ``size`` workers.

    At least ``epochs * repeat`` passes, more if ``min_steps`` needs them. With
    workers, a short last global batch is dropped: their shares would differ in size.

    >>> plan(176, TrainOptions.for_table())
    (167, 6)
    >>> plan(160, TrainOptions(), size=2)
    (10, 8)
    """
    step = options.batch_size * size
    per_pass = -(-rows // step) if size == 1 else rows // step
    if per_pass == 0:
        raise LossccError(f"{rows} training rows make no global batch of {step}",
                          hint="lower --batch-size or --workers", source="options")
    passes = max(options.epochs * options.repeat, -(-options.min_steps // per_pass))
    if passes * per_pass > limits.MAX_STEPS or passes * rows > limits.MAX_ROWS_SEEN:
        raise LossccError(
            f"{passes} passes over {rows} rows ({passes * per_pass} steps) are more than "
            f"losscc's limits ({limits.MAX_STEPS} steps, {limits.MAX_ROWS_SEEN} rows fed)",
            hint="fewer --epochs, --repeat or --min-steps, or a larger --batch-size",
            source="options")
    return passes, per_pass


def planned_steps(rows: int, options: TrainOptions, size: int = 1) -> int:
    """The optimiser steps of a run (see ``plan``).

    >>> planned_steps(160, TrainOptions())
    160
    """
    passes, per_pass = plan(rows, options, size)
    return passes * per_pass


def _batches(data: Regression, options: TrainOptions, rank: int,
             size: int) -> tuple[list[np.ndarray], int, list[str]]:
    """Row indices of each of this worker's batches, pass after pass; the number of passes."""
    notes: list[str] = []
    rows = len(data.train_y)
    passes, _ = plan(rows, options, size)
    step = options.batch_size * size
    out: list[np.ndarray] = []
    dropped = 0
    for order in training_order(rows, passes, options.seed):
        for begin in range(0, len(order), step):
            chunk = order[begin:begin + step]
            if size > 1 and len(chunk) < step:
                dropped += len(chunk)
                continue
            out.append(chunk[rank * options.batch_size:(rank + 1) * options.batch_size])
    if size == 1 and options.batch_size > rows:
        notes.append(f"--batch-size {options.batch_size} is more than the {rows} training rows: "
                     f"each step takes all {rows}")
    if dropped:
        notes.append(f"{dropped} rows of incomplete global batches left out "
                     f"(global batch {step} does not divide {rows})")
    return out, passes, notes


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


def _network(data: Regression, options: TrainOptions) -> Any:
    """Linear: Dense(k, 1, 0.02, 0.02) as the article; MLP: seeded He-uniform hidden layer.

    On a standardised table, wrapped so that it predicts in the target's units.
    """
    from .nets import MLP, LinearNet, TargetScale

    k = data.train_x.shape[1]
    if options.hidden == 0:
        net = LinearNet(k)
    else:
        rng = np.random.RandomState(options.seed)
        h = options.hidden
        w_hidden = rng.uniform(-1, 1, (h, k)) * math.sqrt(6.0 / k)   # He uniform, for ReLU
        w_out = rng.uniform(-1, 1, (1, h)) * math.sqrt(3.0 / h)      # LeCun uniform, linear output
        net = MLP(w_hidden, w_out)
    if data.target_std is None:
        return net
    return TargetScale(net, data.target_mean, data.target_std)


def _optimizer(options: TrainOptions, params: Any, steps: int) -> Any:
    from mindspore import nn

    lr = learning_rates(options, steps)
    if options.optimizer == "momentum":
        return nn.Momentum(params, learning_rate=lr, momentum=options.momentum)
    if options.optimizer == "sgd":
        return nn.SGD(params, learning_rate=lr)
    return nn.Adam(params, learning_rate=lr, eps=options.eps)


def _monitor(progress: Optional[Callable[[str], None]], every: int, steps_per_epoch: int) -> Any:
    from mindspore.train import Callback

    class StepMonitor(Callback):
        """Every step's loss; LossMonitor's lines; divergence spotted and named."""

        def __init__(self) -> None:
            super().__init__()
            self.losses: list[float] = []
            self.divergence: Optional[str] = None

        def on_train_step_end(self, run_context: Any) -> None:
            cb = run_context.original_args()
            with np.errstate(over="ignore", invalid="ignore"):  # an inf loss is a finding
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
    epoch, in_epoch = divmod(step - 1, max(1, steps_per_epoch))
    return f"epoch: {epoch + 1} step: {in_epoch + 1}, loss is {show_float32(loss)}"


def _metrics(net: Any, data: Regression) -> dict[str, Optional[float]]:
    """MAE, RMSE and max error of the predictions on the held-out rows (None if not finite)."""
    from mindspore import Tensor

    x, _ = data.shaped(data.test_x, data.test_y)
    return metrics(net(Tensor(x)).asnumpy(), data.test_y)


def _coefficients(parameters: dict[str, np.ndarray], data: Regression,
                  options: TrainOptions) -> Optional[dict]:
    """A linear model's weights and intercept in the table's units; None for an MLP."""
    if options.hidden != 0:
        return None
    weights, intercept = data.in_table_units(parameters["fc.weight"],
                                             float(parameters["fc.bias"].reshape(-1)[0]))
    return {"weights": weights.tolist(), "intercept": intercept}


def _convergence_hint(options: TrainOptions, data: Regression) -> str:
    """What to try when a run stopped short of the references."""
    steps = (f"--min-steps, now {options.min_steps}" if options.min_steps
             else f"--epochs, now {options.epochs}")
    hint = f"more steps ({steps}) or another --lr (now {options.lr:g})"
    if data.article_layout:  # the broadcast, not the optimiser, is what holds it back
        return ("leave out --article: its layout compares each prediction with every label of "
                f"its batch, which pulls the model towards the mean; or {hint}")
    return hint


def _divergence_hint(options: TrainOptions, losses: list[float], data: Regression) -> str:
    """What to try when a run diverged."""
    if losses and not math.isfinite(losses[0]):
        largest = float(np.max(np.abs(data.train_y)))
        return (f"the loss is not finite from the first step: with targets up to "
                f"{show(largest, 3)}, this loss overflows float32; rescale the target column "
                "or use a loss that grows more slowly")
    if min(losses, default=0.0) < 0:
        return ("the loss fell below zero without bound: no learning rate fixes that; "
                "see losscc analyze")
    return (f"a lower learning rate, e.g. --lr {options.lr / 10:g} (now {options.lr:g}), or a "
            "loss that grows more slowly")


def _optimizer_text(o: dict) -> str:
    """How the options' optimizer is built, in MindSpore's words.

    >>> _optimizer_text({"optimizer": "adam", "lr": 0.01, "schedule": "cosine", "eps": 1e-16})
    'Adam(lr=0.01 cosine to 0, eps=1e-16)'
    """
    lr = f"lr={o['lr']:g}" + (" cosine to 0" if o.get("schedule") == "cosine" else "")
    if o["optimizer"] == "momentum":
        return f"Momentum({lr}, momentum={o['momentum']:g})"
    if o["optimizer"] == "sgd":
        return f"SGD({lr})"
    return f"Adam({lr}, eps={o.get('eps', 1e-8):g})"


def _passes_text(o: dict, passes: int) -> str:
    """The passes over the rows, as the options asked for them."""
    asked = o["epochs"] * o["repeat"]
    text = (f"{o['epochs']} epoch{'s' if o['epochs'] > 1 else ''} of {o['repeat']} "
            "passes over the rows")
    if passes > asked:
        text += f", raised to {passes} passes for --min-steps {o['min_steps']}"
    return text


def _array_text(value: Any) -> str:
    """Nested lists of floats as MindSpore prints them, or a summary when there are many."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.size > 8:
        return (f"shape {arr.shape}, {arr.size} values in "
                f"[{show_float32(float(arr.min()))}, {show_float32(float(arr.max()))}]")
    if isinstance(value, list):
        return "[" + ", ".join(_array_text(v) for v in value) + "]"
    return show_float32(float(value))
