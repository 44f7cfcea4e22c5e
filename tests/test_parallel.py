"""Data-parallel training on local msrun workers (`losscc train --workers N`)."""
import json
import os
import shutil
import sys

import numpy as np
import pytest

import losscc.training.parallel
from losscc.cli.main import main
from losscc.training.parallel import reduction_warning
from losscc.language.reduction import parse_reduction

VENV_PATH = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
HAVE_MSRUN = shutil.which("msrun", path=VENV_PATH) is not None


@pytest.mark.parametrize("reduction, expected", [
    ("mean", None), ("-mean", None), ("0.5*mean", None),
    ("sum", "1/2 of the single-process step"), ("2*sum", "1/2 of the single-process step"),
    ("prod", "does not decompose"), ("none", "1/2 of the single-process step"),
])
def test_which_reductions_decompose_across_workers(reduction, expected):
    warning = reduction_warning(parse_reduction(reduction), 2)
    assert warning is None if expected is None else expected in warning
    assert reduction_warning(parse_reduction(reduction), 1) is None  # one process: nothing split


def test_missing_msrun_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setattr(losscc.training.parallel.shutil, "which", lambda *a, **k: None)
    assert main(["train", "square(d)", "-r", "sum", "--workers", "2"]) == 2
    err = capsys.readouterr().err
    assert "warning: reduction sum across 2 workers" in err  # said before launching
    assert "--workers needs MindSpore's msrun launcher" in err and "Traceback" not in err


def weights(result):
    return np.concatenate([np.reshape(v, -1) for v in result["parameters"].values()])


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_MSRUN, reason="MindSpore's msrun launcher is not installed")
def test_two_workers_train_like_one_process_with_the_doubled_batch(capsys):
    assert main(["train", "square(d)", "--workers", "2", "--batch-size", "10", "--json"]) == 0
    out, err = capsys.readouterr()
    parallel = json.loads(out)
    assert "msrun: 2 workers, batch 10 each (global batch 20)" in err
    assert parallel["workers"] == 2 and parallel["steps"] == 80

    assert main(["train", "square(d)", "--batch-size", "20", "--json", "-q"]) == 0
    single = json.loads(capsys.readouterr().out)
    assert single["steps"] == 80
    # Mean of the workers' means of equal halves = the mean of the whole batch, so
    # only the float32 summation order differs: a few ulps per step (~1e-7
    # relative), and Momentum on this convex problem does not amplify them over
    # 80 steps. 1e-5 leaves 100x room for that and is far below the gap to any
    # run that trains differently (the batch-10 run below ends about 0.8 away).
    np.testing.assert_allclose(weights(parallel), weights(single), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(parallel["losses"], single["losses"], rtol=1e-4)
    assert parallel["held_out"]["mae"] == pytest.approx(single["held_out"]["mae"], rel=1e-5)

    assert main(["train", "square(d)", "--batch-size", "10", "--json", "-q"]) == 0
    half = json.loads(capsys.readouterr().out)
    assert np.max(np.abs(weights(half) - weights(single))) > 1e-2
