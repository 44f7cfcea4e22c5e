"""The runnable examples in the core modules' docstrings stay true."""
import doctest
import importlib

import pytest

MODULES = [
    "losscc", "losscc.errors", "losscc.parse", "losscc.lower", "losscc.ir", "losscc.reduce",
    "losscc.schedule", "losscc.evaluate", "losscc.compiler", "losscc.passes",
    "losscc.passes.fold", "losscc.passes.rules", "losscc.passes.powers", "losscc.passes.poly",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0, f"{name} has no runnable example"
