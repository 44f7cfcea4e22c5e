"""Where losscc keeps what it generates: compiled loss modules, grammar tables, fused kernels.

The cache is ``$LOSSCC_CACHE_DIR``, else ``$XDG_CACHE_HOME/losscc``, else
``~/.cache/losscc``. MindSpore's GRAPH_MODE compiles a cell from its source
file, so a compiled loss must live in a file: this directory.
"""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    configured = os.environ.get("LOSSCC_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "losscc"
