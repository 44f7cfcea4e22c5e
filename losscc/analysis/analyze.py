"""What a loss's shape means for training, decided from its SymPy form before any training.

The seed article's lessons: a negated loss diverges (its ``-mean`` run went to
-3.1e8), a steep power destabilises training (its 4th-power run), a kink at
0 keeps gradients from shrinking. ``analyze`` computes each verdict from the
compiled loss itself (``Program.sympy()``), exactly where it can: the loss is a
piecewise polynomial (``losscc.piecewise``), so limits, extrema, slopes,
curvature and degrees are decided by SymPy, not looked up by formula.

A loss that also depends on the target (``square(d) * target``) is a
different function of d for each target: it is analysed at a few sampled
targets, and a property that differs between them is reported undecided.

>>> import losscc
>>> report = analyze(losscc.program("square(d)", "-mean"))
>>> report.verdict("bounded_below")
False
>>> print(report.warnings[0])  # doctest: +NORMALIZE_WHITESPACE
bounded below: no: the loss falls without bound as |d| grows (to -oo as d -> -oo and as
d -> +oo): minimising it diverges; the reduction's factor -1 turns minimising into
maximising d**2 (did you mean mean?), as in the seed article's -mean run, which reached -3.1e8
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ..floats import FLOAT32_MAX, FLOAT32_MIN_SUBNORMAL, show
from ..language.grammar import one_line
from .screen import IGNORES_TARGET

# Where a loss that depends on the target is studied as a function of d.
SAMPLED_TARGETS = (-10, -1, 0, 1, 10)
SEVERITIES = ("ok", "note", "warning")


@dataclass(frozen=True)
class Finding:
    """One property of the loss: its verdict (True/False, a number, None if undecided)."""

    key: str
    verdict: Any
    severity: str  # one of SEVERITIES
    message: str


@dataclass(frozen=True)
class Analysis:
    """The findings about one compiled loss; ``render()`` for people, ``to_json()`` for machines."""

    formula: str
    reduction: str
    element: str  # the element-wise loss before the reduction, as SymPy prints it
    variable: str  # d, or pred for a loss that ignores the target
    findings: tuple[Finding, ...]
    sampled_targets: Optional[tuple[int, ...]] = field(default=None)
    numbers: Optional[dict] = field(default=None)  # exact facts as floats; None when sampled

    def verdict(self, key: str) -> Any:
        return next(f.verdict for f in self.findings if f.key == key)

    @property
    def refused(self) -> Optional[str]:
        """Why the loss was not analysed (beyond the analysis's limits), or None."""
        return next((f.message for f in self.findings if f.key == "limits"), None)

    @property
    def warnings(self) -> list[str]:
        """The findings that should stop a user before training, one line each."""
        return [f"{LABELS[f.key]}: {f.message}" for f in self.findings if f.severity == "warning"]

    def render(self, width: int = 100) -> str:
        """One finding a paragraph, warnings marked '!', wrapped at ``width`` columns."""
        import textwrap

        where = "d = pred - target" if self.variable == "d" else "in the prediction pred"
        # The expanded loss where it is short; the formula as written where it is not
        # (a robust loss's Abs form, expanded, is no help to read).
        shown = self.element if len(self.element) <= 100 else one_line(self.formula)
        lines = [f"analysis of {self.reduction}({shown}), {where}"]
        column = max(len(LABELS[f.key]) for f in self.findings) + 4
        for f in self.findings:
            mark = "!" if f.severity == "warning" else " "
            head = f"{mark} {LABELS[f.key]:<{column - 4}}  "
            lines += textwrap.wrap(f.message, width, initial_indent=head,
                                   subsequent_indent=" " * column, break_on_hyphens=False,
                                   break_long_words=False)
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "formula": self.formula,
            "reduction": self.reduction,
            "element_loss": self.element,
            "variable": self.variable,
            "sampled_targets": list(self.sampled_targets) if self.sampled_targets else None,
            "verdicts": {f.key: f.verdict for f in self.findings},
            "numbers": self.numbers,
            "findings": [vars(f).copy() for f in self.findings],
            "warnings": self.warnings,
        }


LABELS = {
    "limits": "limits",
    "target": "target",
    "bounded_below": "bounded below",
    "minimum": "minimum",
    "symmetric": "symmetric",
    "convex": "convex",
    "differentiable": "differentiable at 0",
    "growth": "growth",
    "reduction": "reduction",
}


def analyze(program: Any) -> Analysis:
    """Study ``program`` (a losscc.Program) as a function of d; see the module docstring.

    A loss beyond the analysis's limits (``beyond_limits``) is not studied:
    its report says why, with the warnings of compile's screen.
    """
    reason = beyond_limits(program)
    if reason is not None:
        return _not_analysed(program, reason)
    import sympy as sp

    from ..ir.interpret import symbols, to_sympy
    from .piecewise import abs_form, exact

    names = symbols()
    d, pred, target = names["d"], names["pred"], names["target"]
    reduction = program.reduction
    # The loss as defined (before the compiler's float32 forms), its min and max
    # written with Abs: analysis is exact arithmetic, where the identities hold.
    loss = exact(abs_form(to_sympy(program.raw)))  # long decimals: rationals too
    findings: list[Finding] = []
    x = d
    if loss.free_symbols & {pred} and not loss.free_symbols & {d, target}:
        x = pred
        findings.append(Finding("target", False, "warning", IGNORES_TARGET))
    else:
        loss = sp.expand(loss.subs(pred, d + target)) if pred in loss.free_symbols else loss
    scale = sp.Rational(reduction.scale)
    # What one element adds to the minimised loss (a product is studied factor by factor).
    element = loss if reduction.kind == "prod" else scale * loss

    numbers = None
    if target not in element.free_symbols:
        facts = _study(element, x)
        findings += [rule(facts, reduction) for rule in RULES]
        samples = None
        numbers = _numbers(facts)
    else:
        samples = SAMPLED_TARGETS
        per_target = {t: _study(element.subs(target, t), x) for t in samples}
        findings.append(Finding("target", None, "note", (
            f"the loss depends on the target as well as on d: the verdicts below were computed "
            f"at target = {', '.join(map(str, samples))}; where they differ the property "
            "depends on the target and is reported undecided")))
        findings += [_merge([rule(per_target[t], reduction) for t in samples], samples)
                     for rule in RULES]
    return Analysis(program.formula, str(reduction), sp.sstr(sp.expand(loss)), str(x),
                    tuple(findings), samples, numbers)


def beyond_limits(program: Any) -> Optional[str]:
    """Why SymPy's exact root finding could take too long for ``program``, or None.

    Decided at once, in one pass over the loss as defined: its degree
    (MAX_ANALYSIS_DEGREE) and how many kinks its abs, min, max... can make
    (MAX_ANALYSIS_KINKS: at most the degrees of their arguments, added up).

    >>> import losscc
    >>> beyond_limits(losscc.program("abs(d)^3 + square(d - 1)")) is None
    True
    >>> beyond_limits(losscc.program("d^40"))
    'the loss has degree 40, and the analysis takes losses up to degree 32'
    """
    from ..ir.polynomial import shape_of
    from ..limits import MAX_ANALYSIS_DEGREE, MAX_ANALYSIS_KINKS

    shape = shape_of(program.raw)  # the loss as defined: what the analysis studies
    if shape.degree > MAX_ANALYSIS_DEGREE:
        return (f"the loss has degree {shape.degree}, and the analysis takes losses up to "
                f"degree {MAX_ANALYSIS_DEGREE}")
    if shape.kinks > MAX_ANALYSIS_KINKS:
        return (f"the loss may have {shape.kinks} kinks (points where a piece ends: abs, min, "
                f"max...), and the analysis takes up to {MAX_ANALYSIS_KINKS}")
    return None


def _not_analysed(program: Any, reason: str) -> Analysis:
    """The report of a loss beyond the limits: undecided, but with the screen's warnings."""
    from ..ir.nodes import variables
    from .screen import quick_warnings

    screened = {}
    for warning in quick_warnings(program):
        label, message = warning.split(": ", 1)
        screened[label] = message.removesuffix("; see `losscc analyze`")
    findings = [Finding("limits", None, "note", f"not analysed: {reason}")]
    for key, label in LABELS.items():
        if label in screened:
            verdict = False if screened[label].startswith("no") else None
            findings.append(Finding(key, verdict, "warning", screened[label]))
        elif key == "reduction" and program.reduction.kind != "prod":
            findings.append(_reduction(None, program.reduction))  # needs no facts
        elif key not in ("limits", "target"):
            findings.append(Finding(key, None, "note", "undecided: not analysed"))
    variable = "pred" if variables(program.root) == {"pred"} else "d"
    return Analysis(program.formula, str(program.reduction), program.summary, variable,
                    tuple(findings))


@dataclass(frozen=True)
class _Facts:
    """What the analysis knows about one element loss e(x)."""

    x: Any
    loss: Any
    parts: list
    limits: tuple  # e as x -> -oo, x -> +oo (SymPy limits)
    low: Any  # piecewise.Extremum: the infimum
    high: Any  # the supremum, as an Extremum of -e
    kinks: list
    convex: bool
    symmetric: bool
    ends: tuple  # ((degree, leading coefficient) as x -> -oo, as x -> +oo)


def _study(loss: Any, x: Any) -> _Facts:
    import sympy as sp

    from . import piecewise as pw

    parts = pw.pieces(loss, x)
    negated = [pw.Piece(p.lo, p.hi, -p.poly) for p in parts]
    high = pw.infimum(negated)
    limits = (sp.limit(loss, x, -sp.oo), sp.limit(loss, x, sp.oo))
    mirror = pw.pieces(sp.expand(loss - loss.subs(x, -x)), x)
    return _Facts(
        x=x, loss=loss, parts=parts, limits=limits, low=pw.infimum(parts),
        high=pw.Extremum(-high.value, high.points, high.flats), kinks=pw.kinks(parts),
        convex=pw.is_convex(parts), symmetric=pw.is_zero(mirror), ends=pw.end_behaviour(parts),
    )


def _numbers(facts: _Facts) -> dict:
    """The facts behind the verdicts, for machines (floats; None where infinite)."""
    from .piecewise import to_float as exact_float

    def to_float(value: Any) -> Optional[float]:
        number = exact_float(value)
        return number if math.isfinite(number) else None

    (k_minus, _), (k_plus, _) = facts.ends
    return {
        "infimum": to_float(facts.low.value),
        "minimum_at": [to_float(p) for p in facts.low.points],
        "minimum_on": [[to_float(lo), to_float(hi)] for lo, hi in facts.low.flats],
        "supremum": to_float(facts.high.value),
        "kinks": [{"at": to_float(k.at), "left_slope": to_float(k.left),
                   "right_slope": to_float(k.right)} for k in facts.kinks],
        "degree": {"minus_infinity": k_minus, "plus_infinity": k_plus},
    }


# The rules: each turns the facts into one finding.


def _bounded(facts: _Facts, reduction: Any) -> Finding:
    import sympy as sp

    falls = [side for side, limit in zip(("d -> -oo", "d -> +oo"), facts.limits) if limit == -sp.oo]
    falls = [s.replace("d", str(facts.x)) for s in falls]
    if reduction.kind == "prod":
        return _bounded_prod(facts, reduction)
    if not falls:
        return Finding("bounded_below", True, "ok",
                       f"yes: every element contributes at least {_show(facts.low.value)}")
    why = ""
    if reduction.scale < 0:
        why = (f"; the reduction's factor {_show(reduction.scale)} turns minimising into "
               f"maximising {sp.sstr(sp.expand(facts.loss / sp.Rational(reduction.scale)))}"
               f" (did you mean {reduction.kind}?)")
        if reduction.kind == "mean":
            why += ", as in the seed article's -mean run, which reached -3.1e8"
    return Finding("bounded_below", False, "warning", (
        f"no: the loss falls without bound as |{facts.x}| grows "
        f"(to -oo as {' and as '.join(falls)}): minimising it diverges{why}"))


def _bounded_prod(facts: _Facts, reduction: Any) -> Finding:
    import sympy as sp

    bounded = all(limit.is_finite for limit in facts.limits)
    nonnegative = facts.low.value != -sp.oo and not facts.low.value.is_negative
    if reduction.scale > 0 and nonnegative:
        return Finding("bounded_below", True, "ok",
                       "yes: every factor is >= 0, so the product is at least 0")
    if bounded:
        return Finding("bounded_below", True, "note", (
            "yes, but the bound grows with the batch: the factors are bounded, "
            f"between {_show(facts.low.value)} and {_show(facts.high.value)}"))
    why = ("a factor below 0 times others that grow without bound" if reduction.scale > 0
           else "two factors that grow without bound (or two large negative ones) make the "
           "product -> +oo, and the negative factor turns that into -oo")
    return Finding("bounded_below", False, "warning", (
        f"no, for batches of 2 or more: {why}; minimising it diverges"))


def _minimum(facts: _Facts, reduction: Any) -> Finding:
    import sympy as sp

    unbounded = (_bounded_prod(facts, reduction).verdict is False if reduction.kind == "prod"
                 else facts.low.value == -sp.oo)
    if unbounded:
        return Finding("minimum", False, "note", "none: the loss is not bounded below")
    found = _minimum_of(facts)
    if reduction.kind == "prod":
        return Finding("minimum", found.verdict, found.severity, f"each factor: {found.message}")
    return found


def _minimum_of(facts: _Facts) -> Finding:
    low, x = facts.low, facts.x
    if any(lo.is_infinite and hi.is_infinite for lo, hi in low.flats):
        return Finding("minimum", False, "warning", (
            f"the loss is constant ({_show(low.value)} for every {x}): its gradient is 0, "
            "nothing trains"))
    where = _places(low, x)
    at_zero = any(p == 0 for p in low.points) or any(_contains(f, 0) for f in low.flats)
    only_zero = at_zero and low.points == (0,) and not low.flats
    if only_zero and low.value == 0:
        meaning = ("exactly where predictions equal targets" if str(x) == "d"
                   else "where predictions are 0, whatever the targets")
        return Finding("minimum", True, "ok", f"0, at {x} = 0 only: the loss is smallest {meaning}")
    if not at_zero:
        e0 = facts.loss.subs(x, 0)
        return Finding("minimum", False, "warning", (
            f"{_show(low.value)} at {where}, not at {x} = 0 (where the loss is {_show(e0)}): "
            f"training pulls {x} away from 0"))
    if only_zero:
        return Finding("minimum", False, "note", (
            f"{_show(low.value)} at {x} = 0 only: the right place, but the value is not 0 "
            "(a constant offset: harmless for training, but loss values do not reach 0)"))
    return Finding("minimum", False, "note", (
        f"{_show(low.value)} at {where}: {x} = 0 is a minimum but not the only one, so "
        "training does not prefer exact predictions among those"))


def _symmetric(facts: _Facts, reduction: Any) -> Finding:
    x, loss = facts.x, facts.loss
    if facts.symmetric:
        meaning = (": over- and under-prediction by the same amount cost the same"
                   if str(x) == "d" else "")
        return Finding("symmetric", True, "ok", f"yes: the loss at -{x} equals the loss at {x}{meaning}")
    for probe in (1, 2, 10, 3, 7):
        above, below = loss.subs(x, probe), loss.subs(x, -probe)
        if above != below:
            more = "more" if above > below else "less"
            meaning = (f": over-prediction costs {more} than under-prediction" if str(x) == "d"
                       else "")
            return Finding("symmetric", False, "note", (
                f"no: {x} = {probe} costs {_show(above)}, {x} = -{probe} costs {_show(below)}"
                f"{meaning}"))
    return Finding("symmetric", False, "note", f"no: the loss at -{x} differs from that at {x}")


def _convex(facts: _Facts, reduction: Any) -> Finding:
    import sympy as sp

    if facts.convex:
        message = (f"yes, in {facts.x}: every local minimum is global (the network's own "
                   "parameters can still make training non-convex)")
        verdict, severity = True, "ok"
    else:
        bends = [k for k in facts.kinks if not k.right > k.left]
        reason = (f"it bends down at the kink {facts.x} = {_show(bends[0].at)}" if bends
                  else "its second derivative is negative somewhere")
        if facts.low.value == -sp.oo:  # no minimum to stall before: see bounded below
            message = (f"no: {reason}, and with no minimum (see bounded below) descent in "
                       f"{facts.x} has nothing to converge to")
        else:
            message = f"no: {reason}, so gradient descent in {facts.x} can stall before the minimum"
        verdict, severity = False, "note"
    if reduction.kind == "prod":
        return Finding("convex", None, "note", (
            f"undecided for the product over a batch (a product of convex factors need not be "
            f"convex); each factor alone: {message}"))
    return Finding("convex", verdict, severity, message)


def _differentiable(facts: _Facts, reduction: Any) -> Finding:
    x = facts.x
    at_zero = [k for k in facts.kinks if k.at == 0]
    others = [k for k in facts.kinks if k.at != 0]
    elsewhere = (f"; also kinks at {x} = {', '.join(_show(k.at) for k in others)}"
                 if others else "")
    if not at_zero:
        return Finding("differentiable", True, "ok" if not others else "note",
                       ("yes, everywhere" if not others else "yes") + elsewhere)
    k = at_zero[0]
    return Finding("differentiable", False, "note", (
        f"no: a kink at {x} = 0, slope {_show(k.left)} on the left and {_show(k.right)} on "
        "the right: the gradient does not shrink near the optimum, so fixed steps keep "
        f"jumping across it (let the learning rate decay){elsewhere}"))


def _growth(facts: _Facts, reduction: Any) -> Finding:
    (k_minus, c_minus), (k_plus, c_plus) = facts.ends
    x = facts.x
    k = max(k_minus, k_plus)
    shape = (f"like {_power(x, k)}" if k_minus == k_plus else
             f"like {_power(x, k_minus)} as {x} -> -oo and {_power(x, k_plus)} as {x} -> +oo")
    # The gradient's growth comes from the derivative of the outermost pieces.
    slopes = facts.parts[0].poly.diff(), facts.parts[-1].poly.diff()
    g = max(0 if s.is_zero else s.degree() for s in slopes)
    if k == 0:
        return Finding("growth", 0, "note", (
            f"levels off for large |{x}|: gradients vanish there, so predictions that are far "
            "off are not corrected"))
    if g == 0:  # the outermost pieces are lines: their slopes are the gradients far out
        rate = max(abs(s.as_expr()) for s in slopes)
        return Finding("growth", k, "ok", (
            f"{shape}: gradients stay bounded (at most {_show(rate)} far out), so outliers pull "
            "no harder than other points"))
    if k == 2 and g == 1:
        return Finding("growth", k, "ok", f"{shape}: gradients grow like |{x}|, as with MSE")
    severity = "warning" if g >= 2 else "ok"
    seed = "; the seed article's 4th-power run" if k == 4 else ""
    return Finding("growth", k, severity, (
        f"{shape}: gradients grow like {_power(x, g)}: an error 10 times larger gives a gradient "
        f"{_ten_to(g)} times larger, so the learning rate must shrink (a rate that suits MSE "
        f"can diverge{seed})"))


def _reduction(facts: _Facts, reduction: Any) -> Finding:
    kind, scale = reduction.kind, reduction.scale
    text = {
        "mean": ("ok", "gradients are averaged over the batch, so the learning rate does "
                 "not depend on the batch size"),
        "sum": ("note", "gradients add up over the batch and scale with its size (a batch "
                "of 10 gives 10 times the mean's gradient): divide the learning rate by the batch "
                "size, or use mean"),
        "none": ("note", "the cell returns one loss per element; gradients of a "
                 "non-scalar output use all-ones sensitivities, i.e. the sum's, which scale "
                 "with the batch size"),
    }
    severity, message = text[kind] if kind != "prod" else _prod(facts)
    if abs(scale) != 1.0:
        message += (f"; the factor {_show(scale)} multiplies every gradient by {_show(abs(scale))}, "
                    "like scaling the learning rate")
    if scale < 0:
        message += "; the factor is negative: minimising the loss maximises the element loss"
    return Finding("reduction", str(reduction), severity, f"{reduction}: {message}")


def _prod(facts: _Facts) -> tuple[str, str]:
    """Where a product of typical element losses leaves float32, and why."""
    import sympy as sp

    x, loss = facts.x, facts.loss
    notes = []
    for error in (sp.Rational(1, 10), sp.Integer(10)):
        value = abs(sp.Rational(loss.subs(x, error)))  # exact: may be far beyond a float
        if 0 < value < 1:
            n = math.floor(math.log(FLOAT32_MIN_SUBNORMAL) / _log(value)) + 1
            notes.append(f"with errors of {_show(error)} (loss {_short(value)} each) it "
                         f"underflows to 0 in float32 from a batch of {n}")
        elif value > 1:
            n = math.floor(math.log(FLOAT32_MAX) / _log(value)) + 1
            notes.append(f"with errors of {_show(error)} (loss {_short(value)} each) it "
                         f"overflows to inf in float32 from a batch of {n}")
    if loss.subs(x, 0) == 0:
        notes.append("one exact prediction makes the product, and every other element's "
                     "gradient, 0")
    return "warning", ("the loss is the product of the element losses, so each element's "
                       "gradient is scaled by all the others'; " + "; ".join(notes))


def _log(value: Any) -> float:
    """log of a positive SymPy rational of any size (math.log takes Python ints of any size)."""
    return math.log(int(value.p)) - math.log(int(value.q))


def _short(value: Any) -> str:
    """A positive SymPy rational as %.3g writes it, also beyond a float's range."""
    import sympy as sp

    if sp.Rational(1, 10**300) < value < 10**300:
        return f"{float(value):.3g}"
    return sp.sstr(sp.Float(value, 3))


RULES: tuple[Callable[[_Facts, Any], Finding], ...] = (
    _bounded, _minimum, _symmetric, _convex, _differentiable, _growth, _reduction,
)


def _merge(findings: list[Finding], samples: tuple[int, ...]) -> Finding:
    """One finding from the same rule at several targets: agreed, or undecided."""
    severity = max((f.severity for f in findings), key=SEVERITIES.index)
    verdicts = [f.verdict for f in findings]
    if all(v == verdicts[0] for v in verdicts):
        first = findings[0]
        if all(f.message == first.message for f in findings):
            return Finding(first.key, first.verdict, severity,
                           f"{first.message} [the same at every sampled target]")
        # Same verdict, different details (a bound that moves with the target, say):
        # show one, and say that it is one of several.
        return Finding(first.key, first.verdict, severity, (
            f"{_show_verdict(first.verdict)} at every sampled target, with details that "
            f"depend on it; at target = {samples[0]}: {first.message}"))
    groups: dict[str, list[str]] = {}
    for t, f in zip(samples, findings):
        groups.setdefault(_show_verdict(f.verdict), []).append(str(t))
    by_verdict = "; ".join(f"{v} at target = {', '.join(ts)}" for v, ts in groups.items())
    worst = next(f for f in findings if f.severity == severity)
    index = findings.index(worst)
    return Finding(findings[0].key, None, severity, (
        f"depends on the target: {by_verdict} (at target = {samples[index]}: {worst.message})"))


def _ten_to(k: int) -> str:
    """10^k as %g writes it (1000, 1e+06), for any k: no float overflow."""
    return f"{10 ** k:g}" if k < 300 else f"1e+{k}"


def _power(x: Any, k: int) -> str:
    return f"|{x}|" if k == 1 else f"|{x}|^{k}"


def _show_verdict(verdict: Any) -> str:
    if isinstance(verdict, bool) or verdict is None:
        return {True: "yes", False: "no", None: "undecided"}[verdict]
    return str(verdict)


def _places(extremum: Any, x: Any) -> str:
    spots = [f"{x} = {_show(p)}" for p in extremum.points
             if not any(_contains(f, p) for f in extremum.flats)]
    spots += [f"every {x} in [{_show(lo)}, {_show(hi)}]" for lo, hi in extremum.flats]
    return " and ".join(spots) if len(spots) <= 2 else ", ".join(spots[:-1]) + " and " + spots[-1]


def _contains(interval: tuple, point: Any) -> bool:
    lo, hi = interval
    return bool(lo <= point) and bool(point <= hi)


def _show(value: Any) -> str:
    """A SymPy or Python number for a message (see losscc.floats.show)."""
    from .piecewise import to_float

    if hasattr(value, "is_infinite") and value.is_infinite:
        return "-oo" if value.is_extended_negative else "+oo"
    return show(to_float(value) if hasattr(value, "evalf") else float(value))

