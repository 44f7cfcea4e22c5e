"""MindSpore's execution modes and float dtypes by the names losscc's options use, and its
output kept quiet.

MindSpore logs through glog (C++) and its own Python logger; both read the
``GLOG_v`` environment variable once, when MindSpore is imported (0 debug, 1
info, 2 warning, 3 error, 4 nothing). The CLI sets it, unless the user has,
before anything imports MindSpore: ``quiet_mindspore``. A failed GRAPH_MODE
compile writes ``rank_0/om/analyze_fail.ir`` under ``$MS_OM_PATH`` (default:
the working directory); ``scratch_directory`` points that at a temporary
directory while losscc trains.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import Iterator

MODES = ("graph", "pynative")
OPTIMIZERS = ("momentum", "sgd", "adam")  # nn.Momentum, nn.SGD, nn.Adam
SCHEDULES = ("constant", "cosine")  # the learning rate over a run
DTYPES = ("float32", "float16", "float64")  # what `losscc check` runs cells in

# GLOG_v levels: errors only by default, warnings too with -v.
QUIET_LEVEL = "3"
VERBOSE_LEVEL = "2"


def context_mode(name: str) -> int:
    """The ``mindspore.set_context(mode=...)`` value for "graph" or "pynative"."""
    import mindspore as ms

    return {"graph": ms.GRAPH_MODE, "pynative": ms.PYNATIVE_MODE}[name]


def quiet_mindspore(verbose: bool = False) -> None:
    """Set ``GLOG_v`` for a MindSpore not yet imported: errors only, or warnings with ``verbose``.

    A level the user set is left alone.
    """
    os.environ.setdefault("GLOG_v", VERBOSE_LEVEL if verbose else QUIET_LEVEL)


@contextlib.contextmanager
def scratch_directory() -> Iterator[str]:
    """``MS_OM_PATH`` set to a fresh temporary directory, removed afterwards.

    MindSpore's failed-compile reports go there instead of the user's working
    directory. A path the user set is kept.
    """
    if "MS_OM_PATH" in os.environ:
        yield os.environ["MS_OM_PATH"]
        return
    path = tempfile.mkdtemp(prefix="losscc-mindspore-")
    os.environ["MS_OM_PATH"] = path
    try:
        yield path
    finally:
        del os.environ["MS_OM_PATH"]
        shutil.rmtree(path, ignore_errors=True)
