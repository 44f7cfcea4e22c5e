"""Generated source, byte for byte, against reviewed golden files.

After an intended change to the generated code, regenerate and review:
    LOSSCC_UPDATE_GOLDEN=1 pytest tests/test_golden.py && git diff tests/golden
"""
import os
from pathlib import Path

import pytest

import losscc

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("LOSSCC_UPDATE_GOLDEN") == "1"

CASES = {
    "mse": ("square(d)", "mean", "SquareLoss"),
    "l1": ("abs(d)", "mean", "AbsLoss"),
    "quartic": ("square(square(d))", "mean", "QuarticLoss"),
    "negmean": ("square(d)", "-mean", "NegMeanLoss"),
    "logcosh8": ("d^2/2 - d^4/12 + d^6/45 - 17*d^8/2520  # log(cosh(d)), degree 8", "sum", "LogCosh8"),
    "abs_poly_prod": ("abs(d)^3 + 2*abs(d)^2 + abs(d) + 1", "0.5*prod", None),
    "pred_target": ("0.5*square(pred) - pred*target", "none", "Mixed"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_source(case):
    formula, reduction, name = CASES[case]
    source = losscc.source(formula, reduction, name)
    path = GOLDEN / f"{case}.py"
    if UPDATE:
        path.write_text(source, encoding="utf-8")
    assert path.exists(), f"no golden file {path}: run with LOSSCC_UPDATE_GOLDEN=1"
    assert source == path.read_text(encoding="utf-8")


def test_source_is_deterministic_across_processes():
    import subprocess
    import sys

    code = "import losscc; print(losscc.source('d^7 - 2*abs(d)^3 + 0.25*d', '-mean', 'L'), end='')"
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout
            for seed in (1, 2, 3)}
    assert len(runs) == 1
    assert runs.pop() == losscc.source("d^7 - 2*abs(d)^3 + 0.25*d", "-mean", "L")
