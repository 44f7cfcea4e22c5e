"""Train several losses on identical data and judge them on one common metric.

The seed article's lesson 7: a loss's value is in its own units (the 4th-power
loss's 16.99 and the MSE's 2.53 say nothing about which model is better), so
models trained with different losses are compared on the same held-out rows
with the same measure: MAE, RMSE or max error. Every run gets the same data,
the same row order, the same initial parameters and the same seed; a run that
diverges is reported as such and ranked last, and a run that fails (an error
in MindSpore, say) is reported in its row without losing the others. Below
the ranked runs, three reference predictors fitted with NumPy on the same
rows (the training mean, the training median, least squares) show whether
training did anything (``losscc.training.references``).

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
from ..floats import show, strict
from ..tools.plot import check_png_path, require_matplotlib, save_png
from .data import Regression
from .options import TrainOptions
from .references import references
from .train import TrainResult, train

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
    references: dict  # name -> held-out metrics of the reference predictors

    def ranked(self) -> list[TrainResult]:
        """Trained runs by the metric, then diverged ones, then failed ones."""
        key = METRIC_KEYS[self.metric]

        def order(r: TrainResult) -> tuple:
            value = r.held_out[key]
            return (r.status == "failed", r.diverged, value is None,
                    value if value is not None else 0.0)

        return sorted(self.results, key=order)

    def render(self) -> str:
        header = ["rank", "loss", "final loss*", "MAE", "RMSE", "max error", "parameters",
                  "time (s)", "status"]
        rows = [[str(i), _label(r), show(r.final_loss, 5), show(r.held_out["mae"], 5),
                 show(r.held_out["rmse"], 5), show(r.held_out["max_error"], 5),
                 _parameters_text(_shown_parameters(r)), f"{r.time_s:.2f}", r.status.upper()
                 if r.status != "ok" else "ok"]
                for i, r in enumerate(self.ranked(), 1)]
        references = [["-", f"({name})", "", show(m["mae"], 5), show(m["rmse"], 5),
                       show(m["max_error"], 5), "", "", "reference"]
                      for name, m in self.references.items()]
        widths = [max(len(row[j]) for row in [header] + rows + references)
                  for j in range(len(header))]
        right = {0, 2, 3, 4, 5, 7}

        def line(cells: list[str]) -> str:
            return "  ".join(c.rjust(w) if j in right else c.ljust(w)
                             for j, (c, w) in enumerate(zip(cells, widths))).rstrip()

        d = self.data
        out = [f"data: {d['name']}; {d['train_rows']} training rows, {d['held_out_rows']} held out"
               f" ({d['layout']} layout); ranked by held-out {METRICS[self.metric]}",
               line(header), line(["-" * w for w in widths])]
        out += [line(row) for row in rows]
        out.append(line(["-" * w for w in widths]))
        out += [line(row) for row in references]
        out.append("* " + NOT_COMPARABLE.format(metric=METRICS[self.metric]))
        if "standardised" in d and any(r.coefficients for r in self.results):
            out.append(f"  parameters in {d['target']}'s units; the network trained on "
                       "standardised features and target")
        truth = d.get("truth")
        if truth:
            out.append("  true parameters: w = [" + ", ".join(show(truth[k], 5) for k in ("a", "b"))
                       + f"], b = {show(truth['c'], 5)}")
        hints: dict[str, list[str]] = {}  # one line per distinct hint, after the runs
        for r in self.ranked():
            if r.status != "ok":
                out.append(f"  {_label(r)}: {r.status}: {r.reason}")
                if r.hint:
                    hints.setdefault(r.hint, []).append(_label(r))
            for finding in (r.analysis or {}).get("findings", []):
                if finding["severity"] == "warning":  # losscc.analyze saw it coming
                    what = finding["key"].replace("_", " ")
                    out.append(f"  {_label(r)}: {what}: {finding['message']}")
        out += [f"  hint for {', '.join(labels)}: {hint}" for hint, labels in hints.items()]
        return "\n".join(out)

    def to_json(self) -> dict:
        """Strict JSON data: the ranked runs, the references, what was compared how."""
        return strict({
            "metric": self.metric,
            "note": NOT_COMPARABLE.format(metric=METRICS[self.metric]),
            "data": self.data,
            "options": self.options,
            "results": [dict(rank=i, **_row(r)) for i, r in enumerate(self.ranked(), 1)],
            "references": self.references,
        })

    def to_csv(self) -> str:
        """The table for a spreadsheet: the ranked runs, then the references (no rank)."""
        out = io.StringIO()
        fields = ["rank", "formula", "reduction", "final_loss", "mae", "rmse", "max_error",
                  "time_s", "status", "diverged", "parameters"]
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for i, r in enumerate(self.ranked(), 1):
            row = _row(r)
            writer.writerow({**{k: row[k] for k in fields if k in row}, "rank": i,
                             "parameters": _parameters_text(_shown_parameters(r), digits=9)})
        for name, m in self.references.items():
            writer.writerow({"rank": "", "formula": f"({name})", "status": "reference", **m})
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
    results, errors = [], []
    for label, program in zip(labels, programs):
        if progress:
            progress(f"-- {label} (reduction {program.reduction})")
        try:
            result = train(program, data, options, progress=progress)
        except Exception as e:  # noqa: BLE001 - one loss's failure is that row's finding
            errors.append(e)
            result = _failed(program, data, options, e)
        results.append(replace(result, formula=label))
    if len(errors) == len(programs):
        raise errors[0]  # nothing trained: the error itself is the answer
    refs = references(data.train_x, data.train_y, data.test_x, data.test_y)
    return Comparison(metric, results, data.describe(), asdict(options), refs)


def _failed(program: Program, data: Regression, options: TrainOptions,
            error: Exception) -> TrainResult:
    """The row of a run that raised ``error`` instead of training."""
    what = error.message if isinstance(error, LossccError) else f"{type(error).__name__}: {error}"
    return TrainResult(
        formula=program.formula.strip(), reduction=str(program.reduction),
        compiled=program.summary, data=data.describe(), options=asdict(options), steps=0,
        losses=[], parameters={}, held_out={"mae": None, "rmse": None, "max_error": None},
        time_s=0.0, status="failed", reason=what.strip().splitlines()[0] if what.strip() else what)


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
    for r in (r for r in ranked if r.losses):  # a failed run has no curve
        first = abs(r.losses[0]) if math.isfinite(r.losses[0]) else 1.0
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

    # The runs, then the reference predictors (hatched): did training beat them?
    entries = [(_label(r), None if r.diverged else r.held_out, r.status) for r in ranked]
    entries += [(f"({name})", m, "reference") for name, m in comparison.references.items()]
    keys = list(METRIC_KEYS.items())
    width = 0.8 / len(keys)
    for j, (metric, key) in enumerate(keys):
        heights = [m[key] if m and m[key] is not None else 0.0 for _, m, _ in entries]
        xs = [i + (j - (len(keys) - 1) / 2) * width for i in range(len(entries))]
        drawn = bars.bar(xs, heights, width, label=METRICS[metric], color=f"C{j}")
        for patch, (_, _, status) in zip(drawn, entries):
            if status == "reference":
                patch.set_hatch("//")
                patch.set_alpha(0.5)
    for i, (_, _, status) in enumerate(entries):
        if status in ("diverged", "failed"):
            bars.text(i, 0, status, ha="center", va="bottom", rotation=90, color="firebrick")
    bars.set_xticks(range(len(entries)))
    bars.set_xticklabels([label for label, _, _ in entries], rotation=20, ha="right", fontsize=8)
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
    row.update(full["held_out"])
    row.update({k: full[k] for k in ("parameters", "coefficients", "time_s", "status", "reason",
                                     "hint", "skill", "diverged", "divergence", "steps", "passes",
                                     "losses", "analysis")})
    return row


def _shown_parameters(r: TrainResult) -> dict[str, Any]:
    """A linear model's weights and intercept in the table's units, else the parameters."""
    if r.coefficients and "standardised" in r.data:
        return {"weight": r.coefficients["weights"], "bias": r.coefficients["intercept"]}
    return r.parameters


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
