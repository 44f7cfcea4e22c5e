"""The runnable examples in every module's docstrings stay true."""
import doctest
import importlib
import pkgutil

import pytest

import losscc

# Modules that import MindSpore at import time (their examples are not run here).
NEEDS_MINDSPORE = {"losscc.training.nets"}
# Modules whose docstrings show examples that need MindSpore or files (not doctests).
NO_EXAMPLES = {
    "losscc.__main__", "losscc.files", "losscc.limits",
    "losscc.cli", "losscc.cli.commands", "losscc.cli.options", "losscc.compiler",
    "losscc.compiler.emit", "losscc.compiler.fuse",
    "losscc.compiler.runtime", "losscc.analysis", "losscc.analysis.piecewise",
    "losscc.language", "losscc.language.transformer", "losscc.training",
    "losscc.training.compare", "losscc.training.train", "losscc.tools", "losscc.tools.check",
    "losscc.tools.plot", "losscc.cli.main", "losscc.series.options",
}

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(losscc.__path__, "losscc.")
    if not m.name.startswith("losscc.cli.commands.") and m.name not in NEEDS_MINDSPORE
    and m.name != "losscc.__main__"
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    if name not in NO_EXAMPLES:
        assert result.attempted > 0, f"{name} has no runnable example"
