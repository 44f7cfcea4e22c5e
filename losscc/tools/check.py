"""Does the compiled cell compute its formula? Values and gradients against references.

For each MindSpore mode (GRAPH_MODE, PYNATIVE_MODE), dtype (float16, float32,
float64) and a few input shapes, the cell runs on random predictions and
targets under ``mindspore.value_and_grad``:

- its element-wise values (the loss with reduction "none") are compared with
  losscc's NumPy evaluator, in float64, on the same (dtype-rounded) inputs;
- its gradients with respect to the prediction are compared with SymPy's
  derivative of the loss (``Program.sympy()``, differentiated and lambdified);
- the loss with its own reduction (mean, -mean, prod, ...) is compared, value
  and gradient, with the same reduction done in NumPy;
- the cell's shape guard (losscc.emit's shapes= option) is tried with the seed
  article's mismatch, a (4, 1, 1) prediction against a (4, 1) label: "strict"
  must raise, "warn" warn once over two calls, "allow" stay silent, and both
  of the latter must return NumPy's broadcast result.

- near the roots and minima of the loss (in d, for a loss of d alone), where
  a rewrite that cancels catastrophically shows, float32 cells run on points
  s*(1 +- 2^-j) around each root and local minimum s of |loss| (found on a
  grid of +-2^(k/8) and refined). Errors there are taken element by element
  (the values are tiny near a root) and reported as a fraction of what is
  allowed for that element: the float32 tolerance relative to the element,
  or, as the formula itself may be ill-conditioned there, 4 times the a
  priori error bound of the formula as written (n u |f|(x): its n operations,
  float32's unit roundoff, and the formula evaluated with sums of
  magnitudes; likewise for the derivative). So the case passes up to 1.
  A kink may sit up to ``KINK_ULPS`` float32 ulps from where the formula puts it
  (a constant such as sqrt 2 is rounded): there the slope on either side, or
  their mean, is taken as right.
- far out, float32 cells run on |d| = 1e4 ... 3e38 (``FAR_OUT``), where an
  intermediate may overflow: a NaN or inf where the loss is a float32 number
  fails the case, unless the formula as written overflows there too (0.1 d^2
  at 2e19); finite values are judged as near the roots.

Errors are relative to the largest reference value of the batch. Tolerances
are per dtype, above the largest errors measured over 14 formulas and 5
reductions: float16 2e-2 (measured 6.3e-3), float32 1e-5 (7.0e-7). float64
gets float32's (measured 7.8e-8): ``LossBase.get_loss`` casts to float32 and back, so
MindSpore's float64 losses are float32-accurate (even with reduction "none").
A product of n elements (reduction prod) gets n times the tolerance, since the
relative errors of its factors add up.
Where the dtype cannot even hold the exact answer (float16 products underflow)
the comparison is skipped, with the reason.

Example (imports MindSpore; takes a few seconds)::

    report = check(losscc.program("square(square(d))"))
    print(report.render()); assert report.ok
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import shutil
from dataclasses import dataclass
from typing import Any, Iterator, Optional

from ..compiler.emit import SHAPE_MODES
from ..compiler.runtime import DTYPES, MODES, context_mode
from ..floats import FLOAT32_MAX, FLOAT32_MIN_NORMAL

SHAPES = ((7,), (4, 3), (2, 3, 4))
# Largest accepted error, relative to the largest reference value.
TOLERANCE = {"float16": 2e-2, "float32": 1e-5, "float64": 1e-5}
# Inputs are drawn from [-SPREAD, SPREAD]: |d| < 2 keeps d^15 inside float16.
SPREAD = 1.0
# Where MindSpore writes analyze_fail.ir, in the working directory, when a graph
# fails to compile (as the strict guard's raise makes it in GRAPH_MODE).
SCRATCH = os.path.join("rank_0", "om", "analyze_fail.ir")
# The seed article's layout: network output (batch, 1, 1) against labels (batch, 1).
MISMATCH = ((4, 1, 1), (4, 1))


@dataclass(frozen=True)
class Case:
    """One comparison: a cell in one mode and dtype on inputs of one shape."""

    mode: str
    dtype: str
    shape: tuple
    reduction: str  # "none": element-wise values; else the program's own reduction
    value_error: float = 0.0
    gradient_error: float = 0.0
    tolerance: float = 0.0
    skipped: Optional[str] = None  # why it did not run (MindSpore lacks the dtype, range)
    near_roots: bool = False  # inputs around the roots and minima; errors per element
    far_out: bool = False  # |d| from 1e4 to float32's largest; errors per element

    @property
    def ok(self) -> bool:
        return self.skipped is not None or (self.value_error <= self.tolerance
                                            and self.gradient_error <= self.tolerance)


@dataclass(frozen=True)
class ShapeCase:
    """The shape guard of a cell compiled with ``shapes``, on mismatched inputs."""

    mode: str
    shapes: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class CheckReport:
    formula: str
    reduction: str
    cases: tuple[Case, ...]
    shape_cases: tuple[ShapeCase, ...] = ()

    @property
    def compared(self) -> int:
        return sum(1 for case in self.cases if not case.skipped)

    @property
    def ok(self) -> bool:
        """Every comparison within tolerance, and at least one made: skipping all proves nothing."""
        return self.compared > 0 and all(case.ok for case in (*self.cases, *self.shape_cases))

    @property
    def failures(self) -> list[Any]:
        return [case for case in (*self.cases, *self.shape_cases) if not case.ok]

    def render(self) -> str:
        lines = [f"check: {self.formula.strip()} (reduction {self.reduction}): values against "
                 "the NumPy evaluator, gradients against SymPy's derivative",
                 f"{'mode':<9} {'dtype':<8} {'inputs':<10} {'loss':<10} "
                 f"{'value error':>11} {'grad error':>11} {'tolerance':>10}"]
        for c in self.cases:
            shape = (f"{c.shape[0]}@0s" if c.near_roots else f"{c.shape[0]}@big" if c.far_out
                     else "x".join(map(str, c.shape)))
            head = f"{c.mode:<9} {c.dtype:<8} {shape:<10} {c.reduction:<10}"
            if c.skipped:
                lines.append(f"{head} skipped: {c.skipped}")
                continue
            verdict = "ok" if c.ok else "MISMATCH"
            lines.append(f"{head} {c.value_error:>11.2e} {c.gradient_error:>11.2e} "
                         f"{c.tolerance:>10.0e}  {verdict}")
        ran = [c for c in self.cases if not c.skipped]
        worst = []
        for dtype in dict.fromkeys(c.dtype for c in ran):
            value = max(c.value_error for c in ran if c.dtype == dtype)
            grad = max(c.gradient_error for c in ran if c.dtype == dtype)
            worst.append(f"{dtype} {value:.1e} / {grad:.1e}")
        if self.shape_cases:
            logits, labels = MISMATCH
            lines.append(f"shape guard, logits {logits} against labels {labels}:")
            for c in self.shape_cases:
                lines.append(f"{c.mode:<9} {c.shapes:<8} {c.detail}  {'ok' if c.ok else 'MISMATCH'}")
        summary = f"{len(ran)} comparisons; max value / gradient error: {', '.join(worst)}"
        if self.ok:
            lines.append(f"ok: {summary}")
        elif not ran:
            lines.append("FAILED: every comparison was skipped, so nothing was checked")
        else:
            lines.append(f"FAILED: {len(self.failures)} mismatches; {summary}")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"formula": self.formula, "reduction": self.reduction, "ok": self.ok,
                "cases": [dict(dataclasses.asdict(c), shape=list(c.shape), ok=c.ok)
                          for c in self.cases],
                "shape_cases": [dataclasses.asdict(c) for c in self.shape_cases]}


def check(
    program: Any,
    modes: tuple[str, ...] = MODES,
    dtypes: tuple[str, ...] = DTYPES,
    shapes: tuple[tuple[int, ...], ...] = SHAPES,
    seed: int = 0,
    shape_modes: tuple[str, ...] = SHAPE_MODES,
) -> CheckReport:
    """Run ``program``'s cell in each mode and dtype; compare it with the references."""
    import mindspore as ms

    from ..language.reduction import Reduction

    reference = _Reference(program)
    element = dataclasses.replace(program, reduction=Reduction("none")).load(shapes="strict")
    reduced = program.load(shapes="strict") if str(program.reduction) != "none" else None
    guarded = {m: program.load(name=f"Shapes{m.title()}", shapes=m) for m in shape_modes}
    previous = ms.get_context("mode")
    cases, shape_cases = [], []
    try:
        for mode in modes:
            ms.set_context(mode=context_mode(mode))
            for dtype in dtypes:
                for i, shape in enumerate(shapes):
                    pred, target = _inputs(shape, dtype, seed + i)
                    cases.append(_compare(element, reference, "none", mode, pred, target))
                    if reduced is not None and i == 0:
                        cases.append(_compare(reduced, reference, str(program.reduction), mode,
                                              pred, target))
            if "float32" in dtypes:
                cases.append(_near_roots(element, reference, mode))
                cases.append(_far_out(element, reference, mode))
            shape_cases += [_guard(cell, m, reference, mode, seed) for m, cell in guarded.items()]
    finally:
        ms.set_context(mode=previous)
    return CheckReport(program.formula, str(program.reduction), tuple(cases), tuple(shape_cases))


class _Reference:
    """Values (the NumPy evaluator) and derivatives (SymPy) of the loss as written, in
    float64: not of its lowered form, whose float32-stable rewrites of huber(d, 1e16)
    cancel in float64 too (5e15 |d| + 1e16 |...| - 5e31)."""

    def __init__(self, program: Any) -> None:
        from ..ir.interpret import derivative_in_pred

        self._derivative = derivative_in_pred(program.raw)
        self.program = program

    def values(self, pred: Any, target: Any) -> Any:
        from ..ir.interpret import evaluate

        return evaluate(self.program.raw, pred=pred, target=target)

    def derivative(self, pred: Any, target: Any) -> Any:
        return self._derivative(pred, target)

    def broadcast(self, pred: Any, target: Any) -> Any:
        """The loss with the program's reduction, on inputs NumPy broadcasts as MindSpore does."""
        import numpy as np

        f = self.values(pred, target)  # pred - target broadcasts here
        reduction = self.program.reduction
        reducer = {"mean": np.mean, "sum": np.sum, "prod": np.prod}.get(reduction.kind)
        return reduction.scale * (reducer(f) if reducer else f)

    def reduced(self, pred: Any, target: Any, reduction: Any) -> tuple[Any, Any]:
        """The loss with ``reduction`` and its gradient with respect to pred."""
        import numpy as np

        f, df = self.values(pred, target), self.derivative(pred, target)
        n = f.size
        if reduction.kind == "mean":
            value, outer = f.mean(), np.full(f.shape, 1.0 / n)
        elif reduction.kind == "sum":
            value, outer = f.sum(), np.ones(f.shape)
        elif reduction.kind == "prod":
            flat = f.ravel()
            others = np.array([np.prod(np.delete(flat, i)) for i in range(n)])
            value, outer = np.prod(flat), others.reshape(f.shape)
        else:  # none: the gradient of a non-scalar output uses all-ones sensitivities
            value, outer = f, np.ones(f.shape)
        return reduction.scale * value, reduction.scale * outer * df


def _inputs(shape: tuple, dtype: str, seed: int) -> tuple[Any, Any]:
    import numpy as np

    rng = np.random.default_rng(seed)
    return (rng.uniform(-SPREAD, SPREAD, shape).astype(dtype),
            rng.uniform(-SPREAD, SPREAD, shape).astype(dtype))


def _compare(cell: Any, reference: _Reference, reduction: str, mode: str,
             pred: Any, target: Any) -> Case:
    import mindspore as ms
    import numpy as np

    dtype = str(pred.dtype)
    case = Case(mode, dtype, pred.shape, reduction,
                tolerance=_tolerance(dtype, reference.program.reduction, pred.size, reduction))
    exact_pred, exact_target = pred.astype(np.float64), target.astype(np.float64)
    if reduction == "none":
        want_value = reference.values(exact_pred, exact_target)
        want_grad = reference.derivative(exact_pred, exact_target)
    else:
        want_value, want_grad = reference.reduced(exact_pred, exact_target,
                                                  reference.program.reduction)
    reason = _beyond_range([want_value, want_grad], dtype, reference, exact_pred, exact_target,
                           reduction)
    if reason:
        return dataclasses.replace(case, skipped=reason)
    try:
        value, grad = ms.value_and_grad(cell)(ms.Tensor(pred), ms.Tensor(target))
    except (TypeError, RuntimeError) as e:
        # Skipped only where MindSpore's own MSELoss fails in this dtype too: a cell that
        # fails where MindSpore works is broken, and counts as a mismatch.
        if dtype == "float32" or _mindspore_runs(dtype, pred.shape):
            return dataclasses.replace(case, value_error=math.inf, gradient_error=math.inf)
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return dataclasses.replace(case, skipped=f"MindSpore cannot run it in {dtype}: {first}")
    return dataclasses.replace(
        case,
        value_error=_error(value.asnumpy(), want_value),
        gradient_error=_error(grad.asnumpy(), want_grad),
    )


def _near_roots(cell: Any, reference: _Reference, mode: str) -> Case:
    """The float32 cell around the roots and minima of the loss, against the formula as written."""
    import mindspore as ms
    import numpy as np

    from ..ir.interpret import evaluate
    from ..ir.nodes import variables
    from .near_roots import excess, ratios, special_inputs, written_bounds

    program = reference.program
    case = Case(mode, "float32", (0,), "none", near_roots=True)
    if variables(program.raw) & {"target"} or variables(program.raw) == {"d", "pred"}:
        return dataclasses.replace(case, skipped="near roots: the loss depends on the target too")
    points = special_inputs(lambda x: evaluate(program.raw, pred=x, target=np.zeros_like(x)))
    if points.size == 0:
        return dataclasses.replace(case, skipped="near roots: the loss has no roots or minima")
    pred, target = points, np.zeros_like(points)  # d = pred exactly
    exact_pred, exact_target = pred.astype(np.float64), target.astype(np.float64)
    want_value = reference.values(exact_pred, exact_target)
    want_grad = reference.derivative(exact_pred, exact_target)
    value_bound, gradient_bound = written_bounds(program.raw, exact_pred)
    value, grad = ms.value_and_grad(cell)(ms.Tensor(pred), ms.Tensor(target))
    tolerance = TOLERANCE["float32"]
    # A kink may sit a few ulps from where the formula puts it (min(0.5 d^2, 1) becomes
    # 0.5 square(min(|d|, sqrt 2)), sqrt 2 rounded): next to it either one-sided slope is
    # right, and at it their mean (what MindSpore's Abs gives there), so those are taken.
    left, right = (reference.derivative(exact_pred * (1 + s * KINK_ULPS * 2.0**-24),
                                        exact_target) for s in (-1, 1))
    gradient = np.minimum.reduce([ratios(grad.asnumpy(), want, gradient_bound, tolerance)
                                  for want in (want_grad, left, right, (left + right) / 2)])
    return dataclasses.replace(
        case, shape=pred.shape, tolerance=1.0,
        value_error=excess(value.asnumpy(), want_value, value_bound, tolerance),
        gradient_error=float(np.max(gradient, initial=0.0)))


# How far (in float32 ulps) a kink may sit from where the formula puts it.
KINK_ULPS = 8

# Residuals far out: where an intermediate can overflow (d^2 from 1.8e19) and a selection
# of an overflowed argument would give NaN.
FAR_OUT = (1e4, 1e8, 1e12, 1e16, 1e19, 1e20, 1e25, 1e30, 1e35, 3e38)


def _far_out(cell: Any, reference: _Reference, mode: str) -> Case:
    """The float32 cell at huge residuals: never NaN where the loss is a number, inf only
    where the loss is beyond float32 or the formula as written overflows too, and
    finite values within what the formula as written may lose."""
    import mindspore as ms
    import numpy as np

    from ..floats import FLOAT32_MAX
    from ..ir.interpret import evaluate
    from ..ir.nodes import variables
    from .near_roots import excess, written_bounds

    program = reference.program
    case = Case(mode, "float32", (2 * len(FAR_OUT),), "none", far_out=True)
    if variables(program.raw) & {"target"} or variables(program.raw) == {"d", "pred"}:
        return dataclasses.replace(case, skipped="far out: the loss depends on the target too")
    pred = np.array([*FAR_OUT, *(-x for x in FAR_OUT)], np.float32)
    target = np.zeros_like(pred)  # d = pred exactly
    exact = pred.astype(np.float64)
    with np.errstate(all="ignore"):
        want_value = reference.values(exact, np.zeros_like(exact))
        want_grad = reference.derivative(exact, np.zeros_like(exact))
        written = evaluate(program.raw, pred=pred, target=target, dtype=np.float32)
        value_bound, gradient_bound = written_bounds(program.raw, exact)
    value, grad = (t.asnumpy().astype(np.float64)
                   for t in ms.value_and_grad(cell)(ms.Tensor(pred), ms.Tensor(target)))
    tolerance = TOLERANCE["float32"]

    def error(got: Any, want: Any, bound: Any, overflow_ok: Any) -> float:
        # NaN or inf where the loss is a number that the formula as written reaches in
        # float32 (as written, d^7 - 2|d|^3 is inf - inf at 1e19 too: not the cell's fault)
        wrong = (np.isnan(got) & ~np.isnan(want)) | (
            np.isinf(got) & np.isfinite(want) & (np.abs(want) <= FLOAT32_MAX))
        if np.any(wrong & ~overflow_ok):
            return math.inf
        compared = np.isfinite(got) & np.isfinite(want) & (np.abs(want) <= FLOAT32_MAX)
        return excess(got[compared], want[compared], bound[compared], tolerance)

    as_written_overflows = ~np.isfinite(np.asarray(written, np.float64))
    return dataclasses.replace(
        case, tolerance=1.0,
        value_error=error(value, want_value, value_bound, as_written_overflows),
        # a gradient may overflow where the value's formula overflows, or its own terms do
        gradient_error=error(grad, want_grad, gradient_bound,
                             as_written_overflows | ~np.isfinite(gradient_bound)))


def _mindspore_runs(dtype: str, shape: tuple) -> bool:
    """Whether MindSpore's own nn.MSELoss and its gradient run in ``dtype``."""
    import mindspore as ms
    import numpy as np

    x = ms.Tensor(np.zeros(shape, dtype))
    try:
        ms.value_and_grad(ms.nn.MSELoss())(x, x)
    except (TypeError, RuntimeError):
        return False
    return True


def _guard(cell: Any, shapes: str, reference: _Reference, mode: str, seed: int) -> ShapeCase:
    """Call a cell compiled with ``shapes`` twice on the mismatched layout."""
    import warnings

    import mindspore as ms
    import numpy as np

    rng = np.random.default_rng(seed)
    pred, target = (rng.uniform(-SPREAD, SPREAD, shape).astype(np.float32) for shape in MISMATCH)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # Python's usual filter: once per call site
        try:
            with _no_scratch():
                values = [cell(ms.Tensor(pred), ms.Tensor(target)).asnumpy() for _ in range(2)]
        except ValueError as e:
            raised = "differ in shape" in str(e)
            return ShapeCase(mode, shapes, shapes == "strict" and raised,
                             "raises ValueError" if raised else f"raises ValueError: {e}")
    warned = len([w for w in caught if "differ in shape" in str(w.message)])
    if shapes == "strict":
        return ShapeCase(mode, shapes, False, "does not raise")
    exact_pred, exact_target = pred.astype(np.float64), target.astype(np.float64)
    want = reference.broadcast(exact_pred, exact_target)
    reason = _beyond_range([want], "float32", reference, exact_pred, exact_target, "reduced")
    error = 0.0 if reason else max(_error(v, want) for v in values)
    expected_warnings = 1 if shapes == "warn" else 0
    detail = (f"{warned} warning{'s' if warned != 1 else ''} over 2 calls (want "
              f"{expected_warnings}); broadcast value "
              + (f"not compared: {reason}" if reason else f"error {error:.2e}"))
    elements = int(np.prod(np.broadcast_shapes(pred.shape, target.shape)))
    tolerance = _tolerance("float32", reference.program.reduction, elements, "reduced")
    return ShapeCase(mode, shapes, warned == expected_warnings and error <= tolerance,
                     detail)


@contextlib.contextmanager
def _no_scratch() -> Iterator[None]:
    """Remove the rank_0/ that a failing GRAPH_MODE compile leaves, unless it was there before."""
    top = SCRATCH.split(os.sep)[0]
    existed = os.path.exists(top)
    try:
        yield
    finally:
        if not existed and os.path.isfile(SCRATCH):
            shutil.rmtree(top, ignore_errors=True)


def _tolerance(dtype: str, reduction: Any, size: int, compared: str) -> float:
    """TOLERANCE, times the element count for a product: relative errors add up there."""
    if compared != "none" and reduction.kind == "prod":
        return TOLERANCE[dtype] * size
    return TOLERANCE[dtype]


def _beyond_range(wants: list, dtype: str, reference: _Reference, pred: Any, target: Any,
                  compared: str) -> Optional[str]:
    """Why even exact arithmetic in ``dtype`` could not match, if it could not; else None.

    Either the dtype cannot hold the exact answers (a product of 7 values of d^15
    underflows float16), or a product's partial products leave float32 (in which
    get_loss multiplies) so that its result depends on the order of multiplication.
    """
    import numpy as np

    with np.errstate(over="ignore", under="ignore"):
        for want in wants:
            rounded = np.asarray(want).astype(dtype).astype(np.float64)
            if _error(rounded, want) > TOLERANCE[dtype]:
                return f"{dtype} cannot hold the exact loss or gradient (over- or underflow)"
    if compared != "none" and reference.program.reduction.kind == "prod":
        size = np.abs(reference.values(pred, target)).ravel()
        small, large = size[(size > 0) & (size < 1)], size[size > 1]
        if np.prod(small) < FLOAT32_MIN_NORMAL or np.prod(large) > FLOAT32_MAX:
            return ("partial products leave float32's range: the product depends on the order "
                    "MindSpore multiplies in")
    return None


def _error(got: Any, want: Any) -> float:
    """max |got - want|, relative to the largest |want| (NaN or inf where want is finite: inf)."""
    import numpy as np

    got = np.asarray(got, np.float64)
    want = np.asarray(want, np.float64)
    if got.shape != want.shape:
        return float("inf")
    scale = max(float(np.max(np.abs(want), initial=0.0)), np.finfo(np.float64).tiny)
    diff = np.abs(got - want)
    if not np.all(np.isfinite(diff)):
        return float("inf")
    return float(np.max(diff, initial=0.0) / scale)
