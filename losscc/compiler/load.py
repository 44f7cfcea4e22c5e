"""Generated source → a class MindSpore can compile, via a file in a cache.

MindSpore's GRAPH_MODE reads a cell's source from its file, so a class exec'd
from a string cannot be compiled there. The source is written to a file named
after its content hash in the cache directory (atomically: concurrent loads
of one formula never see half a file), imported with importlib and registered
in ``sys.modules``. The file stays: GRAPH_MODE reads it at the first call.

The cache is ``$LOSSCC_CACHE_DIR``, else ``$XDG_CACHE_HOME/losscc``, else
``~/.cache/losscc``.
"""
from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from ..cache import cache_dir
from ..errors import LossccError
from ..files import write_atomic


def load_class(source: str, name: str) -> Any:
    """Import ``source`` from the cache and return its class ``name``."""
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:24]
    module_name = f"losscc_generated_{digest}"
    module = sys.modules.get(module_name)
    if module is None:
        path = _cached_file(source, f"{module_name}.py")
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]
            raise
    return getattr(module, name)


def _cached_file(source: str, filename: str) -> Path:
    directory = cache_dir()
    path = directory / filename
    try:
        if path.is_file() and path.read_text(encoding="utf-8") == source:
            return path
        directory.mkdir(parents=True, exist_ok=True)
        write_atomic(path, source)
    except OSError as e:
        raise LossccError(
            f"cannot use the cache directory {directory}: {e.strerror or e}",
            hint="losscc writes compiled losses there so that MindSpore can read their "
            "source; set LOSSCC_CACHE_DIR to a writable directory",
            source="cache",
        ) from None
    return path
