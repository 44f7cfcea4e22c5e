"""The formula language in one table: its functions, variables and constants.

Both front ends read this table and nothing else: ``losscc.language.to_ir``
(what ``losscc compile`` lowers exactly) and ``losscc.language.to_sympy``
(what ``losscc taylor`` approximates). A function with an IR builder is
compiled exactly; one without is analytic, for the Taylor route only.
Adding a function is adding a row (and, for compile, an IR builder).

SymPy builders take the ``sympy`` module as their first argument, so that
this table, like the compile path, never imports SymPy itself.

>>> FUNCTIONS["huber"].signature
'huber(x, delta=1)'
>>> [name for name, f in FUNCTIONS.items() if not f.exact]
['exp', 'log', 'sqrt', 'cosh', 'sinh', 'tanh', 'sin', 'cos', 'atan', 'erf']
>>> VARIABLE_NAMES["logits"]
'pred'
"""
from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple, Optional

from ..floats import show
from ..ir import nodes as ir


class Param(NamedTuple):
    """One parameter of a function: an expression, or a constant checked by ``check``."""

    name: str
    constant: bool = False  # must be a constant (folded constant expressions allowed)
    default: Optional[float] = None  # None: the caller must give it
    check: Optional[Callable[[float], Optional[str]]] = None  # -> why a value is refused

    @property
    def shown(self) -> str:
        return self.name if self.default is None else f"{self.name}={show(self.default)}"


class Function(NamedTuple):
    name: str
    params: tuple[Param, ...]
    to_sympy: Callable[..., Any]  # (sympy, *args, **constants) -> expression
    to_ir: Optional[Callable[..., ir.Node]] = None  # (*args, **constants) -> IR; None: analytic
    check: Optional[Callable[..., Optional[str]]] = None  # (**constants) -> why refused
    doc: str = ""  # what it computes, for docs and hints

    @property
    def arity(self) -> int:
        return len(self.params)

    @property
    def required(self) -> int:
        return sum(1 for p in self.params if p.default is None)

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(p.shown for p in self.params)})"

    @property
    def exact(self) -> bool:
        """Compiled exactly by ``losscc compile`` (otherwise: ``losscc taylor`` only)."""
        return self.to_ir is not None


# A scale parameter (delta, beta, c) outside this range makes the forms' squares leave
# float32's normal range at ordinary residuals: tukey(d, c=1e18) squares d/c into a
# subnormal for |d| < 0.01, which MindSpore's kernels may flush to 0 (within it, only for
# |d| < 1e-7); smooth_l1 with beta > 1.8e19 squares past the largest float32.
SCALE_RANGE = (1e-12, 1e12)


def _positive(value: float) -> Optional[str]:
    if not value > 0:
        return "must be > 0"
    lo, hi = SCALE_RANGE
    return None if lo <= value <= hi else f"must be between {lo:g} and {hi:g}"


def _probability(value: float) -> Optional[str]:
    return None if 0 < value < 1 else "must be strictly between 0 and 1"


def _nonnegative(value: float) -> Optional[str]:
    return None if value >= 0 else "must be >= 0"


def _ordered(lo: float, hi: float) -> Optional[str]:
    return None if lo < hi else f"needs lo < hi (got lo = {show(lo)}, hi = {show(hi)})"


X, Y = Param("x"), Param("y")


def _analytic(name: str) -> Function:
    """A function SymPy knows by the same name, of one argument."""
    return Function(name, (X,), lambda sp, x: getattr(sp, name)(x))


def _huber_sympy(sp: Any, x: Any, delta: float, scale: float = 1.0) -> Any:
    delta = sp.Rational(repr(delta))
    quadratic, linear = x**2 / 2, delta * (sp.Abs(x) - delta / 2)
    return sp.Piecewise((quadratic, sp.Abs(x) <= delta), (linear, True)) / sp.Rational(repr(scale))


def _tukey_sympy(sp: Any, x: Any, c: float) -> Any:
    c = sp.Rational(repr(c))
    return sp.Piecewise((c**2 / 6 * (1 - (1 - (x / c) ** 2) ** 3), sp.Abs(x) <= c),
                        (c**2 / 6, True))


def _rational(sp: Any, value: float) -> Any:
    return sp.Rational(repr(value))


def _robust(name: str, param: Param, sympy: Callable[..., Any], doc: str) -> Function:
    """A robust loss of x with one constant parameter: an IR op of the same name."""
    return Function(name, (X, param), sympy,
                    lambda x, **p: ir.Node(name, (x,), (float(p[param.name]) + 0.0,)), doc=doc)


HUBER = _robust("huber", Param("delta", True, 1.0, _positive),
                lambda sp, x, delta: _huber_sympy(sp, x, delta),
                "0.5 x^2 if |x| <= delta, else delta (|x| - delta/2): nn.HuberLoss(delta=...)")
PINBALL = _robust("pinball", Param("tau", True, None, _probability),
                  lambda sp, x, tau: sp.Max(-_rational(sp, tau) * x, (1 - _rational(sp, tau)) * x),
                  "max(-tau x, (1 - tau) x): its minimiser predicts the tau-quantile")

FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in [
        Function("abs", (X,), lambda sp, x: sp.Abs(x), ir.abs_),
        Function("square", (X,), lambda sp, x: x**2, ir.square),
        Function("mul", (X, Y), lambda sp, x, y: x * y, ir.mul),
        Function("min", (X, Y), lambda sp, x, y: sp.Min(x, y), ir.min_, doc="the smaller"),
        Function("max", (X, Y), lambda sp, x, y: sp.Max(x, y), ir.max_, doc="the larger"),
        Function("relu", (X,), lambda sp, x: sp.Max(x, 0), lambda x: ir.max_(x, ir.const(0.0)),
                 doc="max(x, 0)"),
        Function("clip", (X, Param("lo", True), Param("hi", True)),
                 lambda sp, x, lo, hi: sp.Min(sp.Max(x, _rational(sp, lo)), _rational(sp, hi)),
                 lambda x, lo, hi: ir.clip(x, lo, hi), check=_ordered,
                 doc="x limited to [lo, hi]: min(max(x, lo), hi)"),
        HUBER,
        _robust("smooth_l1", Param("beta", True, 1.0, _positive),
                lambda sp, x, beta: _huber_sympy(sp, x, beta, beta),
                "0.5 x^2 / beta if |x| < beta, else |x| - beta/2: nn.SmoothL1Loss(beta=...)"),
        PINBALL,
        Function("quantile", PINBALL.params, PINBALL.to_sympy, PINBALL.to_ir,
                 doc="the same as pinball(x, tau)"),
        _robust("eps_insensitive", Param("eps", True, None, _nonnegative),
                lambda sp, x, eps: sp.Max(sp.Abs(x) - _rational(sp, eps), 0),
                "max(|x| - eps, 0): the support-vector regression loss"),
        _robust("tukey", Param("c", True, 4.685, _positive),
                lambda sp, x, c: _tukey_sympy(sp, x, c),
                "c^2/6 (1 - (1 - (x/c)^2)^3) if |x| <= c, else c^2/6: Tukey's biweight"),
        *(_analytic(name) for name in ("exp", "log", "sqrt", "cosh", "sinh", "tanh", "sin",
                                        "cos", "atan", "erf")),
    ]
}

# Every name a formula may give an input, and the IR variable it means: d is
# prediction - target; the others are the names MindSpore and the seed article
# give the two inputs.
VARIABLE_NAMES = {
    "d": "d", "pred": "pred", "target": "target",
    "logits": "pred", "base": "pred", "labels": "target", "label": "target",
}


class Constant(NamedTuple):
    name: str
    value: float
    to_sympy: Callable[[Any], Any]  # (sympy) -> the exact constant


CONSTANTS = {c.name: c for c in [
    Constant("pi", math.pi, lambda sp: sp.pi),
    Constant("E", math.e, lambda sp: sp.E),
]}

INPUTS_HINT = ("the inputs are d (= pred - target), pred (or logits, base) and target "
               "(or labels, label)")


def check_table() -> None:
    """Every name means one thing, and every variable name is an IR variable."""
    kinds = [set(FUNCTIONS), set(VARIABLE_NAMES), set(CONSTANTS)]
    for i, a in enumerate(kinds):
        for b in kinds[i + 1:]:
            assert not a & b, f"names with two meanings: {sorted(a & b)}"
    assert set(VARIABLE_NAMES.values()) == set(ir.VARIABLES)


check_table()
