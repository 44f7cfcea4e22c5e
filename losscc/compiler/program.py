"""The whole road: formula → IR → passes → schedule → source → cell.

``Program`` is what the compiler knows about one loss; everything a user can
inspect (op list, op counts, SymPy form, source) hangs off it.

>>> p = build("square(square(d))")
>>> p.op_counts, p.op_count
({'Square': 2}, 2)
>>> print(p.listing())
# square(square(d)), reduction mean: 2 element-wise operations (Square 2)
d = logits - labels
d2 = square(d)
d4 = square(d2)
loss = mean(d4)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from .. import ir
from ..errors import LossccError
from ..floats import float32_trouble
from ..ir.ops import OPS
from ..language.grammar import one_line
from ..language.reduction import Reduction, parse_reduction
from ..language.to_ir import formula_to_ir
from .emit import check_name, emit
from .passes import PIPELINE, optimise
from .schedule import Schedule, schedule


@dataclass(frozen=True)
class Program:
    """One compiled loss: its formula, reduction, IR before and after the passes."""

    formula: str
    reduction: Reduction
    raw: ir.Node
    root: ir.Node
    command: str = "compile"  # the losscc command that makes it again (in the source's header)

    @classmethod
    def from_ir(cls, formula: str, raw: ir.Node, reduction: "str | Reduction" = "mean",
                command: str = "compile", lowered: bool = False) -> "Program":
        """Optimise ``raw`` (built by losscc.language.to_ir or the series route) into a Program.

        ``lowered``: ``raw`` is already an evaluation scheme (a certified approximation's
        Horner form in a centred variable, say), so the ``polynomials`` pass, which would
        expand it and re-lower it in another basis with other rounding, is skipped.
        """
        reduction = parse_reduction(reduction)
        if lowered:
            root = raw
            for name, run in PIPELINE:
                if name != "polynomials":
                    root = run(root)
        else:
            root, _ = optimise(raw)
        if not ir.variables(root) & {"d", "pred"}:
            raise LossccError(
                f"the loss simplifies to {ir.describe(root)}, which does not depend on the "
                "prediction", text=formula, start=0, end=len(formula.rstrip()),
                hint="its gradient would be zero everywhere: nothing would train",
            )
        for node in ir.topological(root):
            trouble = node.is_const and float32_trouble(node.value)
            if trouble:  # a product the passes folded: 1e30*(1e30*d), say
                raise LossccError(
                    f"the compiled loss has the constant {node.value:.3g}, which is {trouble}",
                    text=formula, start=0,
                    end=len(formula.rstrip()),
                    hint="MindSpore computes losses in float32: scale the loss instead")
        return cls(formula, reduction, raw, root, command)

    @property
    def schedule(self) -> Schedule:
        return schedule(self.root)

    @property
    def op_counts(self) -> dict[str, int]:
        """Element-wise MindSpore primitives the cell calls, by name."""
        return {OPS[op].primitive: n for op, n in sorted(ir.op_counts(self.root).items())}

    @property
    def op_count(self) -> int:
        return sum(self.op_counts.values())

    @property
    def summary(self) -> str:
        """The compiled loss, as an infix expression."""
        return ir.describe(self.root)

    def listing(self) -> str:
        """The optimised straight-line program, as ``losscc compile --ir`` prints it."""
        counts = ", ".join(f"{k} {v}" for k, v in self.op_counts.items())
        sched = self.schedule
        head = (f"# {one_line(self.formula)}, reduction {self.reduction}: "
                f"{self.op_count} element-wise operation{'' if self.op_count == 1 else 's'}"
                + (f" ({counts})" if counts else ""))
        lines = [head]
        if "d" in sched.inputs:
            lines.append("d = logits - labels")
        lines += [str(step) for step in sched.steps]
        lines.append(f"loss = {self.reduction}({sched.result})")
        return "\n".join(lines)

    def source(self, name: Optional[str] = None, fuse: bool = False,
               shapes: Optional[str] = None) -> str:
        """Python source of a module with the LossBase subclass ``name``.

        With ``fuse`` its ``__init__`` turns on graph-kernel fusion (losscc.compiler.fuse).
        ``shapes`` is what the cell does when logits and labels differ in shape:
        "warn" (default), "strict" (raise) or "allow" (broadcast silently).
        """
        return emit(self.schedule, self.reduction, name=name, formula=self.formula,
                    command=self.command, op_counts=ir.op_counts(self.root), shapes=shapes,
                    fuse=fuse)

    def load(self, name: Optional[str] = None, fuse: bool = False,
             shapes: Optional[str] = None, **kwargs: Any) -> Any:
        """A ready instance of the compiled LossBase cell (imports MindSpore)."""
        from .load import load_class

        name = check_name(name)
        return load_class(self.source(name, fuse=fuse, shapes=shapes), name)(**kwargs)

    def sympy(self, exact: bool = True) -> Any:
        from ..ir.interpret import to_sympy

        return to_sympy(self.root, exact)

    def evaluate(self, **inputs: Any) -> Any:
        """The element-wise loss in NumPy (see losscc.ir.interpret.evaluate)."""
        from ..ir.interpret import evaluate

        return evaluate(self.root, **inputs)


def build(formula: str, reduction: "str | Reduction" = "mean") -> Program:
    """Compile a formula of the losscc language into a Program."""
    reduction = parse_reduction(reduction)  # a bad reduction fails before the formula's work
    return Program.from_ir(formula, formula_to_ir(formula), reduction)
