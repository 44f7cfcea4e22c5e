"""Generated source → a class MindSpore can compile, run from the source just generated.

The module is compiled from the source string losscc has just generated and
executed into a fresh module object: Python's import system is not involved,
so no bytecode (``__pycache__/*.pyc``) is ever looked for, read or written,
and nothing planted next to a file can run.

MindSpore's GRAPH_MODE reads a cell's source through ``inspect`` at its
first call. ``inspect`` finds it in ``linecache``, where this module puts the
very source it executed, in an entry ``linecache.checkcache`` never drops; so
what MindSpore compiles is what was executed, whatever happens to the file
afterwards. Should someone clear ``linecache``, every method also carries
the ``source`` attribute MindSpore falls back on.

A copy of the module is written to the cache directory (``losscc.cache``:
private, checked, written atomically without following links), named after
its content hash, for people to read and for warnings to point at. Without a
usable cache (a read-only home directory) the module gets a name that is no
file, and works the same. A cache directory the user chose
(``$LOSSCC_CACHE_DIR``) that cannot be used is an error.

>>> cls = load_class(
...     "class Half:\\n    def __call__(self, x):\\n        return x / 2\\n", "Half")
>>> cls()(3.0)
1.5
"""
from __future__ import annotations

import hashlib
import linecache
import os
import sys
import types
from typing import Any

from ..cache import CACHE_ENV, PRIVATE_HINT, open_cache
from ..errors import LossccError


def load_class(source: str, name: str) -> Any:
    """Execute ``source`` as a module (once per process) and return its class ``name``."""
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:24]
    module_name = f"losscc_generated_{digest}"
    module = sys.modules.get(module_name)
    if module is not None and getattr(module, "__losscc_source__", None) == source:
        _remember_source(module.__file__, source)  # again: someone may have cleared linecache
    else:
        module = _execute(source, _source_file(source, f"{module_name}.py"), module_name)
    return getattr(module, name)


def _source_file(source: str, filename: str) -> str:
    """The cache file holding ``source`` (written if need be), or a name that is no file."""
    virtual = f"<losscc {filename}>"
    cache = open_cache()
    if cache is None:
        return virtual
    data = source.encode("utf-8")
    with cache:
        try:
            # Compared as bytes: a damaged entry (invalid UTF-8, half a file) is replaced.
            if cache.read(filename, len(data)) != data:
                cache.write(filename, data)
        except OSError as e:
            if not os.environ.get(CACHE_ENV):
                return virtual
            raise LossccError(
                f"cannot use the cache directory {cache.path}: {e.strerror or e}",
                hint="losscc keeps a copy of each compiled loss there; " + PRIVATE_HINT,
                source="cache",
            ) from None
        return os.path.join(cache.path, filename)


def _execute(source: str, path: str, module_name: str) -> types.ModuleType:
    """A fresh module from ``source``, said to come from ``path``, registered in sys.modules."""
    code = compile(source, path, "exec", dont_inherit=True)
    module = types.ModuleType(module_name)
    module.__file__ = path
    module.__cached__ = None  # there is no bytecode file, and there never will be
    module.__losscc_source__ = source  # type: ignore[attr-defined]
    _remember_source(path, source)
    sys.modules[module_name] = module
    try:
        exec(code, module.__dict__)  # losscc's own generated source, never user text
    except BaseException:
        del sys.modules[module_name]
        raise
    _attach_method_sources(module, source)
    return module


def _remember_source(path: str, source: str) -> None:
    """Put ``source`` in linecache for ``path``; mtime None: checkcache never drops it."""
    linecache.cache[path] = (len(source), None, source.splitlines(True), path)


def _attach_method_sources(module: types.ModuleType, source: str) -> None:
    """Give each method the ``source`` = (lines, first line) MindSpore reads if inspect fails."""
    import inspect

    lines = source.splitlines(True)
    for value in vars(module).values():
        if not (isinstance(value, type) and value.__module__ == module.__name__):
            continue
        for function in vars(value).values():
            if isinstance(function, types.FunctionType):
                first = function.__code__.co_firstlineno
                function.source = (list(inspect.getblock(lines[first - 1:])), first)
