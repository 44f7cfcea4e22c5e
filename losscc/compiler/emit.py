"""A scheduled program → a model of the LossBase subclass → its Python source.

``class_model`` decides everything about the class (name, the primitives its
``__init__`` declares, the steps of ``construct``, how it reduces, its shape
guard, fusion); ``render`` only writes the model out, so no part of the
source is made by editing another part's text.

The class is written the way the seed article writes losses by hand:
``__init__`` creates every primitive the class calls, ``construct`` is a
straight-line program over them ending in ``self.get_loss``. A reduction
LossBase does not know (``prod``, ``-mean``, ``0.5*sum``) overrides
``get_loss``, calling LossBase's own and transforming its result. Every class
has the same constructor, ``__init__(self, reduction=<its reduction>)``: one
compiled for mean, sum or none takes any of the three, as LossBase does; one
compiled for another reduction refuses any but its own.

The output is a pure function of its inputs: the same program, reduction,
name and options give the same bytes. User text (the formula) appears in
``#`` comment lines, one per line of the formula, and, without its comments,
in the class docstring (the grammar's tokens only: no quote can reach it).

Calls: ``construct(self, logits, labels, weights=1.0)`` is MindSpore's
LossBase signature. A call from Python goes through the class's ``__call__``,
which also takes the names MindSpore's newer losses use (``input``,
``target``, ``weight``), and passes positional arguments on.

Shape modes: ``logits - labels`` broadcasts silently in MindSpore, and the
seed article's numbers come from a (10, 1, 1) prediction broadcast against a
(10, 1) label. "warn" (the default) warns, "strict" raises ValueError,
"allow" leaves MindSpore's broadcasting alone and emits no check. The shapes
are compared in two places:

* ``__call__``, for a call from Python (PyNative, or the top of a GRAPH_MODE
  call): before MindSpore compiles anything, so "strict" raises a plain
  ValueError (no compile traceback, no ``rank_0/om/analyze_fail.ir``) and
  "warn" warns at the caller's line;
* ``construct``, for a call inside another cell's graph (``Model.train``'s
  ``WithLossCell``, an ``ms.jit`` function): GRAPH_MODE folds the comparison
  when the graph is compiled, so the warning or error comes once, at compile
  time. The warning is issued with ``warnings.warn_explicit`` at the line of
  the generated file (plain ``warnings.warn`` would say ``<string>:1`` there),
  once per message.
"""
from __future__ import annotations

import builtins
import keyword
import re
import textwrap
from typing import NamedTuple, Optional

from ..errors import LossccError
from ..files import GENERATED_MARK, VERSION
from ..floats import literal
from ..ir.ops import OPS
from ..language.grammar import one_line
from ..language.reduction import Reduction
from .schedule import Schedule, Step

DEFAULT_NAME = "CompiledLoss"
SHAPE_MODES = ("strict", "warn", "allow")
# Names the generated module uses: a class of that name would shadow them.
RESERVED_NAMES = ("nn", "ops", "mstype", "sys", "warnings", "ValueError", "TypeError",
                  "enable_fusion", "_WARNED", "_arguments", "_positional",
                  "_shapes_differ", "_called_from_mindspore")
DEFAULT_SHAPES = "warn"
INPUT_TEXT = {"d": "d = logits - labels", "pred": "pred = logits", "target": "target = labels"}


def check_name(name: Optional[str]) -> str:
    """The class name, if it is a safe Python identifier; else a LossccError."""
    if name is None:
        return DEFAULT_NAME
    if not isinstance(name, str) or not name.isidentifier() or not name.isascii():
        raise LossccError(
            f"invalid class name {name!r}",
            hint="a class name is ASCII letters, digits and underscores, not starting with a "
            "digit (e.g. QuarticLoss)",
            source="name",
        )
    # a builtin's name would shadow it in the module: super() in __init__, say
    dunder = name.startswith("__") and name.endswith("__")  # a module's own: __file__, ...
    if keyword.iskeyword(name) or name in RESERVED_NAMES or hasattr(builtins, name) or dunder:
        raise LossccError(f"{name!r} cannot be a class name here",
                          hint="choose another, e.g. QuarticLoss", source="name")
    return name


def check_shapes(shapes: Optional[str]) -> str:
    """The shape mode (see the module docstring), if it is one; else a LossccError."""
    if shapes is None:
        return DEFAULT_SHAPES
    if shapes not in SHAPE_MODES:
        raise LossccError(
            f"unknown shape mode {shapes!r}",
            hint="strict raises on logits and labels of different shapes, warn (the default) "
            "warns, allow broadcasts silently as MindSpore does",
            source="shapes",
        )
    return shapes


class ClassModel(NamedTuple):
    """Everything the generated module says, decided; ``render`` writes it."""

    name: str
    command: str  # the losscc command that makes the module again
    formula: str  # the user's text, as given (comments included)
    reduction: Reduction
    op_counts: tuple[tuple[str, int], ...]  # (MindSpore primitive, count) of the element loss
    primitives: tuple[tuple[str, str], ...]  # (attribute, ops class), declared in __init__
    steps: tuple[Step, ...]
    result: str
    inputs: frozenset
    shapes: str
    fuse: bool

    @property
    def uses_mstype(self) -> bool:
        return self.reduction.kind == "prod" or self.reduction.scale not in (1.0, -1.0)


def class_model(program: Schedule, reduction: Reduction, *, name: Optional[str] = None,
                formula: str, command: str = "compile", op_counts: dict[str, int],
                shapes: Optional[str] = None, fuse: bool = False) -> ClassModel:
    """The model of the class computing ``program`` reduced by ``reduction``."""
    used = {OPS[step.op].attr: OPS[step.op].primitive for step in program.steps}
    for op in used.values():
        if op is None:
            raise AssertionError("an op with no MindSpore primitive: lower it first")
    if not reduction.is_native:
        used.update(_reduction_primitives(reduction))
    counts = tuple((OPS[op].primitive, n) for op, n in sorted(op_counts.items()))
    return ClassModel(
        name=check_name(name), command=command, formula=formula, reduction=reduction,
        op_counts=counts, primitives=tuple(sorted(used.items())), steps=program.steps,
        result=program.result, inputs=program.inputs, shapes=check_shapes(shapes), fuse=fuse,
    )


def _reduction_primitives(reduction: Reduction) -> dict[str, str]:
    """What the overriding get_loss calls: see _get_loss."""
    if reduction.kind == "prod":
        out = {"cast": "Cast", "reduce_prod": "ReduceProd"}
        if reduction.scale != 1.0:
            out["mul"] = "Mul"
        return out
    if reduction.scale == -1.0:
        return {"neg": "Neg"}
    return {"cast": "Cast", "mul": "Mul"}


def emit(program: Schedule, reduction: Reduction, **options) -> str:
    """Python source of a module holding one LossBase subclass (see ``class_model``)."""
    return render(class_model(program, reduction, **options))


def render(model: ClassModel) -> str:
    counts = ", ".join(f"{primitive} {n}" for primitive, n in model.op_counts)
    total = sum(n for _, n in model.op_counts)
    lines = [
        f"{GENERATED_MARK} {VERSION}. Do not edit: regenerate with `losscc {model.command}`.",
        *(["# graph-kernel fusion: on (losscc --fuse)"] if model.fuse else []),
        "# formula:",
        *(f"#     {_printable(line)}" for line in model.formula.strip().splitlines()),
        f"# reduction: {model.reduction}",
        f"# element-wise operations: {total}" + (f" ({counts})" if counts else ""),
        f'"""The {model.name} loss, compiled by losscc from the formula above."""',
        *(["import sys", "import warnings", ""] if model.shapes == "warn" else []),
        "from mindspore import nn, ops",
    ]
    if model.uses_mstype:
        lines.append("from mindspore.common import dtype as mstype")
    if model.fuse:
        lines += ["", "from losscc.compiler.fuse import enable as enable_fusion"]
    lines += _helpers(model.shapes)
    lines += ["", "", f"class {model.name}(nn.LossBase):"]
    lines += _docstring(model)
    lines.append("")
    lines += _init(model)
    lines.append("")
    lines += _call(model.name, model.shapes)
    lines.append("")
    lines += _construct(model, first_line=len(lines) + 1)
    if not model.reduction.is_native:
        lines.append("")
        lines += _get_loss(model.reduction)
    return "\n".join(lines) + "\n"


# The formula's code (comments dropped) is grammar tokens only; anything else
# would be a bug, and is shown as '?' rather than let into a docstring.
_DOCSTRING_SAFE = re.compile(r"[^A-Za-z0-9_ .,+\-*/^()=]")


def _docstring(model: ClassModel) -> list[str]:
    formula = _DOCSTRING_SAFE.sub("?", one_line(model.formula))
    what = "loss approximating" if model.command == "taylor" else "loss"
    first = textwrap.wrap(f"Element-wise {what} {formula}, reduced by {model.reduction}.",
                          width=88, break_on_hyphens=False, break_long_words=False)
    inputs = ", ".join(text for var, text in INPUT_TEXT.items() if var in model.inputs)
    body = [*first, "", f"Inputs: {inputs}.",
            "Call: loss(logits, labels[, weights]), or with MindSpore's newer names",
            "loss(input=..., target=...[, weight=...])."]
    return [f'    """{body[0]}'] + [f"    {line}".rstrip() for line in body[1:]] + ['    """']


def _init(model: ClassModel) -> list[str]:
    reduction = model.reduction
    out = [f'    def __init__(self, reduction="{reduction}"):']
    if reduction.is_native:
        out.append("        super().__init__(reduction)")
    else:
        # LossBase accepts only mean/sum/none; get_loss below does the rest.
        out += [
            f'        if reduction != "{reduction}":',
            "            raise ValueError(",
            f'                f"{model.name} is compiled for reduction {reduction}, not '
            '{reduction!r}: compile "',
            '                "the formula again with the reduction you want")',
            f'        super().__init__("{"none" if reduction.kind == "prod" else reduction.kind}")',
        ]
    if model.fuse:
        out += ["        # losscc --fuse: MindSpore graph-kernel fusion, process-wide, GRAPH_MODE "
                "only;",
                "        # needs `pip install losscc[fuse]`. See losscc/compiler/fuse.py.",
                "        enable_fusion()"]
    out += [f"        self.{attr} = ops.{primitive}()" for attr, primitive in model.primitives]
    if model.shapes == "warn":
        out.append("        self.shapes_warned = False  # set by __call__ while it calls construct")
    return out


def _helpers(shapes: str) -> list[str]:
    """Module-level functions the class's ``__call__`` uses (plain Python, never compiled)."""
    out = [
        "", "",
        "def _arguments(args, kwargs):",
        '    """construct\'s positional arguments, from a call that may use MindSpore\'s newer',
        '    names: input for logits, target for labels, weight for weights."""',
        '    for new, old in (("input", "logits"), ("target", "labels"), ("weight", "weights")):',
        "        if new in kwargs:",
        "            if old in kwargs:",
        '                raise TypeError(f"give {old} or {new}, not both")',
        "            kwargs[old] = kwargs.pop(new)",
        "    return _positional(*args, **kwargs)",
        "", "",
        "def _positional(logits, labels, weights=None):",
        "    return (logits, labels) if weights is None else (logits, labels, weights)",
    ]
    if shapes == "allow":
        return out
    out += [
        "", "",
        "def _shapes_differ(logits, labels):",
        '    a, b = getattr(logits, "shape", None), getattr(labels, "shape", None)',
        "    return a is not None and b is not None and tuple(a) != tuple(b)",
    ]
    if shapes == "warn":
        out += [
            "", "",
            "def _called_from_mindspore():",
            '    """Whether __call__ was called by MindSpore\'s own code (a WithLossCell in',
            '    PyNative mode): then construct warns, at its own line, not at MindSpore\'s."""',
            '    caller = sys._getframe(2).f_globals.get("__name__", "")',
            '    return caller == "mindspore" or caller.startswith("mindspore.")',
            "",
            "",
            "# Shape warnings construct has given, by message and line: each once, as Python does.",
            "_WARNED = {}",
        ]
    return out


# The shape message, as an f-string over logits and labels (the class name is filled in).
_WARN_TEXT = [
    '"{name}: logits {{logits.shape}} and labels {{labels.shape}} differ "',
    '"in shape; MindSpore broadcasts them, so predictions are compared with "',
    '"labels they do not belong to. Reshape them to match (or compile with "',
    "\"shapes='allow' to keep the broadcast, 'strict' to raise).\"",
]
_STRICT_TEXT = [
    '"{name}: logits {{logits.shape}} and labels {{labels.shape}} differ "',
    "\"in shape (compiled with shapes='strict'); reshape them to match.\"",
]


def _message(name: str, shapes: str, indent: int) -> list[str]:
    """The shape message's lines (an f-string first, then plain strings), indented."""
    text = _WARN_TEXT if shapes == "warn" else _STRICT_TEXT
    pad = " " * indent
    return [pad + ("f" if i == 0 else "") + piece.format(name=name) for i, piece in enumerate(text)]


def _call(name: str, shapes: str) -> list[str]:
    """``__call__``: MindSpore's newer argument names; the shape check for calls from Python."""
    out = ["    def __call__(self, *args, **kwargs):"]
    if shapes == "allow":
        return out + ["        return super().__call__(*_arguments(args, kwargs))"]
    out += [
        "        # A call from Python (PyNative, or the top of a GRAPH_MODE call): the shapes are",
        "        # compared here, before MindSpore compiles anything.",
        "        args = _arguments(args, kwargs)",
        "        logits, labels = args[0], args[1]",
    ]
    if shapes == "strict":
        return out + ["        if _shapes_differ(logits, labels):",
                      "            raise ValueError(", *_message(name, shapes, 16)[:-1],
                      _message(name, shapes, 16)[-1] + ")",
                      "        return super().__call__(*args)"]
    return out + [
        "        if _shapes_differ(logits, labels) and not _called_from_mindspore():",
        "            warnings.warn(",
        *_message(name, shapes, 16)[:-1], _message(name, shapes, 16)[-1] + ",",
        "                stacklevel=2)",
        "            self.shapes_warned = True  # construct need not warn again",
        "            try:",
        "                return super().__call__(*args)",
        "            finally:",
        "                self.shapes_warned = False",
        "        return super().__call__(*args)",
    ]


def _construct(model: ClassModel, first_line: int) -> list[str]:
    """``construct``; ``first_line`` is its line in the file (a warning points at the file)."""
    out = ["    def construct(self, logits, labels, weights=1.0):"]
    out += _shape_check(model.name, model.shapes, first_line + len(out))
    if "d" in model.inputs:
        out.append("        d = logits - labels")
    for step in model.steps:
        out.append(f"        {step.name} = self.{OPS[step.op].attr}({', '.join(step.args)})")
    out.append(f"        return self.get_loss({model.result}, weights)")
    return out


def _shape_check(name: str, shapes: str, first_line: int) -> list[str]:
    """The check inside a graph; ``first_line`` is the file line of its first line."""
    if shapes == "allow":
        return []
    if shapes == "strict":
        return [
            "        # Inside a graph: static shapes, checked once when the graph is compiled.",
            "        if logits.shape != labels.shape:",
            "            raise ValueError(", *_message(name, shapes, 16)[:-1],
            _message(name, shapes, 16)[-1] + ")",
        ]
    head = [
        "        # Inside a graph: static shapes, checked once when the graph is compiled.",
        "        if not self.shapes_warned and logits.shape != labels.shape:",
        "            warnings.warn_explicit(",
    ]
    line = first_line + len(head) - 1  # the warn_explicit call's own line
    return head + [*_message(name, shapes, 16)[:-1], _message(name, shapes, 16)[-1] + ",",
                   f"                UserWarning, __file__, {line}, module=__name__, "
                   "registry=_WARNED)"]


def _get_loss(reduction: Reduction) -> list[str]:
    """LossBase's get_loss (weights, float32, the mean or sum), then this reduction's part."""
    scale = literal(reduction.scale)
    if reduction.kind == "prod":
        out = [
            "    def get_loss(self, x, weights=1.0):",
            '        """The product of LossBase\'s weighted x (reduction "none"), in float32'
            + (f", times {scale}" if reduction.scale != 1.0 else "") + '."""',
            "        x = nn.LossBase.get_loss(self, x, weights)",
            "        input_dtype = x.dtype",
            "        x = self.reduce_prod(self.cast(x, mstype.float32), self.get_axis(x))",
        ]
        if reduction.scale != 1.0:
            out.append(f"        x = self.mul(x, {scale})")
        return out + ["        return self.cast(x, input_dtype)"]
    head = ["    def get_loss(self, x, weights=1.0):",
            f'        """LossBase\'s weighted {reduction.kind} of x, times {scale}."""']
    if reduction.scale == -1.0:
        return head + ["        return self.neg(nn.LossBase.get_loss(self, x, weights))"]
    return head + [
        "        loss = nn.LossBase.get_loss(self, x, weights)",
        f"        return self.cast(self.mul(self.cast(loss, mstype.float32), {scale}), "
        "loss.dtype)",
    ]


def _printable(line: str) -> str:
    """A formula line for a comment: control characters shown escaped."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in line)
