"""MindSpore's execution modes and float dtypes, by the names losscc's options and reports use."""
from __future__ import annotations

MODES = ("graph", "pynative")
DTYPES = ("float32", "float16", "float64")  # what `losscc check` runs cells in


def context_mode(name: str) -> int:
    """The ``mindspore.set_context(mode=...)`` value for "graph" or "pynative"."""
    import mindspore as ms

    return {"graph": ms.GRAPH_MODE, "pynative": ms.PYNATIVE_MODE}[name]
