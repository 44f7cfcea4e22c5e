"""Train several losses on identical data and judge them on one common metric.

The seed article's lesson 7: a loss's value is in its own units (the 4th-power
loss's 16.99 and the MSE's 2.53 say nothing about which model is better), so
models trained with different losses are compared on the same held-out rows
with the same measure: MAE, RMSE or max error. Every run gets the same data,
the same row order, the same initial parameters and the same seed; a run that
diverges is reported as such and ranked last.

Example (imports MindSpore; a couple of seconds per loss)::

    from losscc.compiler.program import build
    from losscc.training.data import article_data
    table = compare([build("abs(d)"), build("square(d)")], article_data())
    print(table.render())
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable, Optional, Sequence

from ..compiler.program import Program
from ..errors import LossccError
from ..floats import show
from ..tools.plot import check_png_path, require_matplotlib, save_png
from .data import Regression
from .train import TrainOptions, TrainResult, train

# The common metrics: the key in TrainResult.held_out, and the column title.
METRICS = {"mae": "MAE", "rmse": "RMSE", "max": "max error"}
METRIC_KEYS = {"mae": "mae", "rmse": "rmse", "max": "max_error"}

# The loss-curve panel shows losses within this factor of their first value.
CURVE_LIMIT = 1e3


NOT_COMPARABLE = ("final loss: in each loss's own units, so not comparable across losses; "
                  "the models are ranked on the held-out {metric} instead")


@dataclass
class Comparison:
    """The runs of one comparison, ranked on ``metric`` (diverged runs last)."""

    metric: str
    results: list[TrainResult]
    data: dict
    options: dict

    def ranked(self) -> list[TrainResult]:
        key = METRIC_KEYS[self.metric]

        def order(r: TrainResult) -> tuple:
            value = r.held_out[key]
            return (r.diverged, value is None, value if value is not None else 0.0)

        return sorted(self.results, key=order)

    def render(self) -> str:
        header = ["rank", "loss", "final loss*", "MAE", "RMSE", "max error", "parameters",
                  "time (s)", "status"]
        rows = [[str(i), _label(r), show(r.final_loss, 5), show(r.held_out["mae"], 5),
                 show(r.held_out["rmse"], 5), show(r.held_out["max_error"], 5),
                 _parameters_text(r.parameters), f"{r.time_s:.2f}",
                 "DIVERGED" if r.diverged else "ok"]
                for i, r in enumerate(self.ranked(), 1)]
        widths = [max(len(row[j]) for row in [header] + rows) for j in range(len(header))]
        right = {0, 2, 3, 4, 5, 7}

        def line(cells: list[str]) -> str:
            return "  ".join(c.rjust(w) if j in right else c.ljust(w)
                             for j, (c, w) in enumerate(zip(cells, widths))).rstrip()

        d = self.data
        out = [f"data: {d['name']}; {d['train_rows']} training rows, {d['held_out_rows']} held out"
               f" ({d['layout']} layout); ranked by held-out {METRICS[self.metric]}",
               line(header), line(["-" * w for w in widths])]
        out += [line(row) for row in rows]
        out.append("* " + NOT_COMPARABLE.format(metric=METRICS[self.metric]))
        truth = d.get("truth")
        if truth:
            out.append("  true parameters: w = [" + ", ".join(show(truth[k], 5) for k in ("a", "b"))
                       + f"], b = {show(truth['c'], 5)}")
        for r in self.ranked():
            if r.diverged:
                out.append(f"  {_label(r)} diverged: {r.divergence}")
            for finding in (r.analysis or {}).get("findings", []):
                if finding["severity"] == "warning":  # losscc.analyze saw it coming
                    what = finding["key"].replace("_", " ")
                    out.append(f"  {_label(r)}: {what}: {finding['message']}")
        return "\n".join(out)

    def to_json(self) -> dict:
        return {
            "metric": self.metric,
            "note": NOT_COMPARABLE.format(metric=METRICS[self.metric]),
            "data": self.data,
            "options": self.options,
            "results": [dict(rank=i, **_row(r)) for i, r in enumerate(self.ranked(), 1)],
        }

    def to_csv(self) -> str:
        out = io.StringIO()
        fields = ["rank", "formula", "reduction", "final_loss", "mae", "rmse", "max_error",
                  "time_s", "diverged", "parameters"]
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for i, r in enumerate(self.ranked(), 1):
            row = _row(r)
            writer.writerow({**{k: row[k] for k in fields if k in row}, "rank": i,
                             "parameters": _parameters_text(r.parameters, digits=9)})
        return out.getvalue()


def compare(programs: Sequence[Program], data: Regression, options: TrainOptions = TrainOptions(),
            metric: str = "mae", progress: Optional[Callable[[str], None]] = None,
            labels: Optional[Sequence[str]] = None) -> Comparison:
    """Train each program on ``data`` with the same options; rank on ``metric``.

    ``labels`` name the runs in the table (default: each program's formula).
    """
    if metric not in METRICS:
        raise LossccError(f"unknown metric {metric!r}", hint="metrics: " + ", ".join(METRICS),
                          source="options")
    options.check()
    labels = list(labels) if labels is not None else [p.formula for p in programs]
    if len(labels) != len(programs):
        raise ValueError(f"{len(labels)} labels for {len(programs)} programs")
    results = []
    for label, program in zip(labels, programs):
        if progress:
            progress(f"-- {label} (reduction {program.reduction})")
        results.append(replace(train(program, data, options, progress=progress), formula=label))
    return Comparison(metric, results, data.describe(), asdict(options))


def plot_comparison(comparison: Comparison, path: str, force: bool = False) -> None:
    """Loss curves (each relative to its first step) and the held-out metrics, as a PNG."""
    check_plot_target(path, force)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.5), dpi=110)
    FigureCanvasAgg(fig)
    curves, bars = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    ranked = comparison.ranked()
    negative = False
    for r in ranked:
        first = abs(r.losses[0]) if r.losses and math.isfinite(r.losses[0]) else 1.0
        scale = first if first > 0 else 1.0
        ys = [v / scale if math.isfinite(v) else math.nan for v in r.losses]
        negative = negative or any(y < 0 for y in ys)
        line, = curves.plot(range(1, len(ys) + 1), ys, label=_label(r), linewidth=1.2,
                            linestyle="--" if r.diverged else "-")
        if r.diverged:  # it leaves the plot: say where it was heading
            shown = [(i, y) for i, y in enumerate(ys, 1) if abs(y) <= CURVE_LIMIT]
            if shown:
                curves.annotate("diverged", shown[-1], color=line.get_color(), fontsize=8)
    if negative:  # a loss that falls below zero (an unbounded one): both signs, log-like
        curves.set_yscale("symlog", linthresh=1e-4)
        curves.set_ylim(-CURVE_LIMIT, CURVE_LIMIT)
    else:
        curves.set_yscale("log")
        curves.set_ylim(top=CURVE_LIMIT)
    curves.set_xlabel("step")
    curves.set_ylabel("loss / |loss at step 1|")
    curves.set_title("training loss, each in its own units (relative)")
    curves.grid(True, alpha=0.3)
    curves.legend(fontsize=8)

    keys = list(METRIC_KEYS.items())
    width = 0.8 / len(keys)
    for j, (metric, key) in enumerate(keys):
        heights = [r.held_out[key] if not r.diverged and r.held_out[key] is not None else 0.0
                   for r in ranked]
        xs = [i + (j - (len(keys) - 1) / 2) * width for i in range(len(ranked))]
        bars.bar(xs, heights, width, label=METRICS[metric])
    for i, r in enumerate(ranked):
        if r.diverged:
            bars.text(i, 0, "diverged", ha="center", va="bottom", rotation=90, color="firebrick")
    bars.set_xticks(range(len(ranked)))
    bars.set_xticklabels([_label(r) for r in ranked], rotation=20, ha="right", fontsize=8)
    bars.set_ylabel("held-out error (target units)")
    bars.set_title(f"held-out metrics (ranked by {METRICS[comparison.metric]})")
    bars.grid(True, axis="y", alpha=0.3)
    bars.legend(fontsize=8)
    fig.tight_layout()
    save_png(fig, path)


def check_plot_target(path: str, force: bool = False) -> None:
    """Can a plot be written to ``path``? Checked before any training starts."""
    require_matplotlib()
    check_png_path(path, force)


def _row(r: TrainResult) -> dict:
    """One run as a row of the JSON/CSV output (strict JSON: no NaN)."""
    full = r.to_json()
    row = {k: full[k] for k in ("formula", "reduction", "compiled", "final_loss")}
    row.update(r.held_out)
    row.update({k: full[k] for k in ("parameters", "time_s", "diverged", "divergence", "steps",
                                     "losses", "analysis")})
    return row


def _label(r: TrainResult) -> str:
    return r.formula if r.reduction == "mean" else f"{r.formula} [{r.reduction}]"


def _parameters_text(parameters: dict[str, Any], digits: int = 4) -> str:
    """w = [..], b = .. for a linear model; a count for bigger ones."""
    flat = {name: _flatten(value) for name, value in parameters.items()}
    total = sum(len(v) for v in flat.values())
    if total > 8:
        return f"{total} values"
    parts = []
    for name, values in flat.items():
        short = name.rsplit(".", 1)[-1]
        short = {"weight": "w", "bias": "b"}.get(short, short)
        shown = ", ".join(show(v, digits) for v in values)
        parts.append(f"{short} = [{shown}]" if len(values) > 1 else f"{short} = {shown}")
    return ", ".join(parts)


def _flatten(value: Any) -> list[float]:
    if isinstance(value, list):
        return [x for item in value for x in _flatten(item)]
    return [value]
