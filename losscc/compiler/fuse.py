"""Graph-kernel fusion: one compiled kernel for the whole loss instead of one per op.

``losscc.compile(formula, fuse=True)`` and ``losscc compile --fuse`` give a
cell whose ``__init__`` calls :func:`enable` (an option of ``losscc.compiler.emit``).
That turns on MindSpore's graph-kernel fusion (AKG), which merges
``logits - labels`` and the loss's Square/Mul/Abs chain into one kernel that
reads the inputs once.

What a user should know, all measured on MindSpore 2.10 (CPU):

- Fusion is a process-wide MindSpore setting: every graph compiled after
  :func:`enable` (the loss, and the network it is trained with) is fused.
  It acts in GRAPH_MODE (and ``mindspore.jit``); PyNative runs op by op.
- The switch is ``set_context(enable_graph_kernel=True)``. MindSpore calls it
  deprecated in favour of ``jit_config={"jit_level": "O1"}``, but on CPU O1
  builds no fused kernel, so losscc uses the switch and drops that warning.
- On CPU, AKG imports the ``decorator`` package: ``pip install losscc[fuse]``.
- Building kernels takes seconds: :func:`enable` starts MindSpore's kernel
  build server (~3 s, once per process), each fused graph then takes ~0.5 s
  more at its first GRAPH_MODE call.
- AKG writes scratch files: kernels under ``$MS_COMPILER_CACHE_PATH`` (default:
  the working directory) and a ``dsa_transfrom.log`` into the working
  directory of the build server. :func:`enable` points the first at a private
  subdirectory of losscc's cache (``<cache>/graph-kernel``, mode 0700, unless
  the variable is already set) and starts the server from there (the working
  directory is set for that start only and restored at once), so nothing
  lands in the user's directory.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from ..errors import LossccError

SCRATCH_ENV = "MS_COMPILER_CACHE_PATH"


def enable() -> Path:
    """Turn on graph-kernel fusion for the graphs compiled from now on.

    Returns the directory that receives the fusion's scratch files. Raises a
    LossccError when the ``decorator`` package is missing or the directory
    cannot be created. Calling it again does no harm.

    Example (imports MindSpore)::

        losscc.compiler.fuse.enable()      # what a cell compiled with fuse=True does
    """
    _require_decorator()
    directory = scratch_dir()
    # AKG reads its shipped (empty, for CPU) tiling table only from below this
    # path (default: the working directory) and prints a warning otherwise.
    os.environ.setdefault("AKG_WHITE_LIST_PATH", str(_akg_dir()))
    import mindspore as ms

    _quietly_set_graph_kernel(ms)
    _start_kernel_builder_in(directory, ms)
    return directory


def scratch_dir() -> Path:
    """``$MS_COMPILER_CACHE_PATH``, else the private ``<losscc cache>/graph-kernel`` (exported).

    MindSpore builds fused kernels there and loads them again, so the default
    is a subdirectory of losscc's checked cache (``losscc.cache``), created
    with mode 0700: another account must not be able to plant a kernel.
    """
    configured = os.environ.get(SCRATCH_ENV)
    directory = Path(configured) if configured else _private_scratch()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if not os.access(directory, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as e:
        raise LossccError(
            f"cannot use {directory} for graph-kernel fusion's scratch files: {e.strerror or e}",
            hint=f"set {SCRATCH_ENV} (or LOSSCC_CACHE_DIR) to a directory only you can write",
            source="fuse",
        ) from None
    os.environ[SCRATCH_ENV] = str(directory)  # MindSpore reads it at each graph compile
    return directory


def _private_scratch() -> Path:
    from ..cache import PRIVATE_HINT, CacheDir, cache_location

    try:
        with CacheDir(cache_location().path) as cache:
            return Path(cache.subdir("graph-kernel"))
    except LossccError as e:
        raise LossccError(
            f"graph-kernel fusion needs a private directory for its kernels: {e.message}",
            hint=f"set {SCRATCH_ENV} to a directory only you can write, or " + PRIVATE_HINT,
            source="fuse") from None


def _require_decorator() -> None:
    try:
        import decorator  # noqa: F401  (AKG's TVM imports it when it builds a kernel)
    except ImportError:
        raise LossccError(
            "graph-kernel fusion needs the 'decorator' package, which is not installed",
            hint="pip install 'losscc[fuse]' (or pip install decorator), or compile without fuse",
            source="fuse",
        ) from None


def _start_kernel_builder_in(directory: Path, ms: Any) -> None:
    """Start MindSpore's kernel build server with ``directory`` as its working directory.

    MindSpore builds fused kernels in a server process (``python
    kernel_build_server_akg.py``) that it starts at the first fused compile
    and keeps; AKG, run by that server's pool, writes ``dsa_transfrom.log``
    into the working directory it inherits, with no option to move it. So
    the server is started here, by building one tiny fused kernel with the
    working directory briefly set to ``directory`` (restored at once). This
    moves the server's start-up cost (~3 s) from the first training step to
    here rather than adding to it, and checks that fusion works at all.
    """
    global _BUILDER_STARTED
    if _BUILDER_STARTED:
        return
    import numpy as np

    here = os.getcwd()
    os.chdir(directory)
    try:
        _tiny_fused_kernel(ms.Tensor(np.ones(4, np.float32))).asnumpy()
    except Exception as e:  # noqa: BLE001 - any failure means fusion cannot work here
        raise LossccError(
            f"MindSpore's graph-kernel fusion could not build a kernel: {type(e).__name__}: "
            f"{str(e).strip().splitlines()[0] if str(e).strip() else ''}",
            hint="compile without fuse, or check that MindSpore's AKG works on this machine",
            source="fuse",
        ) from None
    finally:
        os.chdir(here)
    _BUILDER_STARTED = True


_BUILDER_STARTED = False


def _tiny_fused_kernel(x: Any) -> Any:
    """Square then scale: two element-wise ops, which fusion merges into one kernel."""
    import mindspore as ms
    from mindspore import ops

    @ms.jit
    def square_twice(x):
        return ops.square(x) * 2.0

    return square_twice(x)


def _akg_dir() -> Path:
    import mindspore

    return Path(mindspore.__file__).parent / "_akg"


class _DropMessage(logging.Filter):
    def __init__(self, needle: str) -> None:
        super().__init__()
        self.needle = needle

    def filter(self, record: logging.LogRecord) -> bool:
        return self.needle not in record.getMessage()


def _quietly_set_graph_kernel(ms: Any) -> None:
    """``set_context(enable_graph_kernel=True)`` without its misleading deprecation warning."""
    from mindspore import log

    logger = log._get_logger()
    quiet = _DropMessage("enable_graph_kernel")
    logger.addFilter(quiet)
    try:
        ms.set_context(enable_graph_kernel=True)
    finally:
        logger.removeFilter(quiet)
