"""MindSpore's execution modes, by the names losscc's options and reports use."""
from __future__ import annotations

MODES = ("graph", "pynative")


def context_mode(name: str) -> int:
    """The ``mindspore.set_context(mode=...)`` value for "graph" or "pynative"."""
    import mindspore as ms

    return {"graph": ms.GRAPH_MODE, "pynative": ms.PYNATIVE_MODE}[name]
