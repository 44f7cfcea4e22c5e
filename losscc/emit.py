"""A scheduled program → the Python source of a MindSpore LossBase subclass.

The class is written the way the seed article writes losses by hand:
``__init__`` creates the primitives, ``construct`` is a straight-line program
over them ending in ``self.get_loss``, and a reduction LossBase does not
know (``prod``, ``-mean``, ``0.5*sum``) overrides ``get_loss``.

The output is a pure function of its inputs: the same program, reduction,
name and shape mode give the same bytes. User text (the formula) appears only
in ``#`` comment lines, one per line of the formula, so it can never become code.

Shape modes: ``logits - labels`` broadcasts silently in MindSpore, and the
seed article's numbers come from a (10, 1, 1) prediction broadcast against a
(10, 1) label. ``construct`` therefore starts by comparing the two shapes:
"warn" (the default) warns, "strict" raises ValueError, "allow" leaves
MindSpore's broadcasting alone and emits no check. In GRAPH_MODE shapes are
static, so the comparison is folded when the graph is compiled and the
warning or error comes once, at compile time (MindSpore runs the
``warnings.warn``/``raise`` there); in PYNATIVE_MODE it runs each call and
Python's warning filter shows a warning once per call site.
"""
from __future__ import annotations

import builtins
import keyword
import textwrap
from typing import Optional

from . import __version__
from .errors import LossccError
from .files import GENERATED_MARK
from .ops import OPS
from .reduce import Reduction
from .schedule import Schedule

DEFAULT_NAME = "CompiledLoss"
SHAPE_MODES = ("strict", "warn", "allow")
# Names the generated module uses: a class of that name would shadow them.
RESERVED_NAMES = ("nn", "ops", "mstype", "warnings", "ValueError")
DEFAULT_SHAPES = "warn"


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


def emit(
    program: Schedule,
    reduction: Reduction,
    *,
    name: Optional[str] = None,
    formula: str,
    command: str = "compile",
    summary: str,
    op_counts: dict[str, int],
    shapes: Optional[str] = None,
) -> str:
    """Python source of a module holding one LossBase subclass.

    ``formula`` is the user's text (shown in comments only), ``summary`` the
    compiled loss as losscc prints it (our own text: safe in a docstring),
    ``shapes`` one of SHAPE_MODES.
    """
    name = check_name(name)
    shapes = check_shapes(shapes)
    counts = ", ".join(f"{OPS[op].primitive} {n}" for op, n in sorted(op_counts.items()))
    total = sum(op_counts.values())
    lines = [
        f"{GENERATED_MARK} {__version__}. Do not edit: regenerate with `losscc {command}`.",
        "# formula:",
        *(f"#     {_printable(line)}" for line in formula.strip().splitlines()),
        f"# reduction: {reduction}",
        f"# element-wise operations: {total}" + (f" ({counts})" if counts else ""),
        f'"""The {name} loss, compiled by losscc from the formula above."""',
        *(["import warnings", ""] if shapes == "warn" else []),
        "from mindspore import nn, ops",
    ]
    if not reduction.is_native:
        lines.append("from mindspore.common import dtype as mstype")
    lines += ["", "", f"class {name}(nn.LossBase):"]
    lines += _docstring(program, reduction, summary)
    lines.append("")
    lines += _init(program, reduction)
    lines.append("")
    lines += _construct(program, name, shapes)
    if not reduction.is_native:
        lines.append("")
        lines += _get_loss(reduction)
    return "\n".join(lines) + "\n"


def _docstring(program: Schedule, reduction: Reduction, summary: str) -> list[str]:
    first = textwrap.wrap(f"Element-wise loss {summary}, reduced by {reduction}.", width=88,
                          break_on_hyphens=False, break_long_words=False)
    names = {"d": "d = logits - labels", "pred": "pred = logits", "target": "target = labels"}
    inputs = ", ".join(text for var, text in names.items() if var in program.inputs)
    body = [*first, "", f"Inputs: {inputs}."]
    out = [f'    """{body[0]}'] + [f"    {line}".rstrip() for line in body[1:]] + ['    """']
    return out


def _init(program: Schedule, reduction: Reduction) -> list[str]:
    if reduction.is_native:
        out = [f'    def __init__(self, reduction="{reduction.kind}"):',
               "        super().__init__(reduction)"]
    else:
        # LossBase accepts only mean/sum/none; get_loss below does the rest.
        base = "none" if reduction.kind == "prod" else reduction.kind
        out = ["    def __init__(self):", f'        super().__init__("{base}")']
    used = sorted({step.op for step in program.steps} - {"mul"})  # LossBase has self.mul
    for op in used:
        spec = OPS[op]
        if spec.primitive is None:
            raise AssertionError(f"op {op!r} has no MindSpore primitive: lower it first")
        out.append(f"        self.{spec.attr} = ops.{spec.primitive}()")
    if reduction.kind == "prod":
        out.append("        self.reduce_prod = ops.ReduceProd()")
    return out


def _construct(program: Schedule, name: str, shapes: str) -> list[str]:
    out = ["    def construct(self, logits, labels, weights=1.0):"]
    out += _shape_check(name, shapes)
    if "d" in program.inputs:
        out.append("        d = logits - labels")
    for step in program.steps:
        out.append(f"        {step.name} = self.{OPS[step.op].attr}({', '.join(step.args)})")
    out.append(f"        return self.get_loss({program.result}, weights)")
    return out


def _shape_check(name: str, shapes: str) -> list[str]:
    if shapes == "allow":
        return []
    head = [
        "        # Static in GRAPH_MODE: checked once, when the graph is compiled.",
        "        if logits.shape != labels.shape:",
    ]
    if shapes == "warn":
        return head + [
            "            warnings.warn(",
            f'                f"{name}: logits {{logits.shape}} and labels {{labels.shape}} differ "',
            '                "in shape; MindSpore broadcasts them, so predictions are compared with "',
            '                "labels they do not belong to. Reshape them to match (or compile with "',
            "                \"shapes='allow' to keep the broadcast, 'strict' to raise).\")",
        ]
    return head + [
        "            raise ValueError(",
        f'                f"{name}: logits {{logits.shape}} and labels {{labels.shape}} differ "',
        "                \"in shape (compiled with shapes='strict'); reshape them to match.\")",
    ]


def _get_loss(reduction: Reduction) -> list[str]:
    # The same steps as LossBase.get_loss (and the article's section 6 class).
    out = [
        "    def get_loss(self, x, weights=1.0):",
        f'        """Weighted {reduction.kind} of x in float32'
        + (f", times {reduction.scale!r}" if reduction.scale != 1.0 else "") + '."""',
        "        input_dtype = x.dtype",
        "        x = self.cast(x, mstype.float32)",
        "        x = self.mul(self.cast(weights, mstype.float32), x)",
    ]
    reducer = {"mean": "reduce_mean", "sum": "reduce_sum", "prod": "reduce_prod"}.get(reduction.kind)
    if reducer:
        out.append(f"        x = self.{reducer}(x, self.get_axis(x))")
    if reduction.scale != 1.0:
        out.append(f"        x = self.mul(self.cast({reduction.scale!r}, mstype.float32), x)")
    out.append("        return self.cast(x, input_dtype)")
    return out


def _printable(line: str) -> str:
    """A formula line for a comment: control characters shown escaped."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in line)
