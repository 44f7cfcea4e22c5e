"""The IR: immutable, hash-consed expression nodes, and everything they mean.

- ``nodes``: the Node type and its builders (the only way to make nodes);
- ``ops``: the one table of what each operation means, prints as, and is in MindSpore;
- ``interpret``: one interpreter over that table (folding, NumPy, SymPy, text);
- ``patterns``: rewrite rules as named patterns, and the one rewrite driver;
- ``polynomial``: sparse polynomial arithmetic, and the polynomial an IR region computes.

>>> d = var("d")
>>> describe(add(square(d), const(1.0)))
'(square(d) + 1.0)'
"""
from .interpret import describe, evaluate
from .nodes import (VARIABLES, Node, abs_, add, clip, const, max_, min_, mul, neg, op_counts, pow_,
                    square, sub, topological, var, variables)

__all__ = ["VARIABLES", "Node", "abs_", "add", "clip", "const", "describe", "evaluate", "max_",
           "min_", "mul", "neg", "op_counts", "pow_", "square", "sub", "topological", "var",
           "variables"]
