"""The runnable examples in the core modules' docstrings stay true."""
import doctest
import importlib

import pytest

MODULES = [
    "losscc", "losscc.errors", "losscc.parse", "losscc.lower", "losscc.ir", "losscc.reduce",
    "losscc.schedule", "losscc.evaluate", "losscc.compiler", "losscc.passes",
    "losscc.passes.fold", "losscc.passes.rules", "losscc.passes.powers", "losscc.passes.poly",
    "losscc.series", "losscc.series.number_systems", "losscc.series.recurrences",
    "losscc.series.target", "losscc.series.taylor", "losscc.series.chebyshev",
    "losscc.series.radius", "losscc.series.grid_error", "losscc.series.rounding",
    "losscc.series.certificate", "losscc.series.report", "losscc.series.options",
    "losscc.series.tolerance", "losscc.series.lowering",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0, f"{name} has no runnable example"
