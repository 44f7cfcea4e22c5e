"""Data-parallel training on local msrun workers (`losscc train --workers N`)."""
import json
import os
import shutil
import sys
import time

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


def test_a_batch_the_workers_cannot_fill_is_refused_before_msrun(tmp_path, monkeypatch, capsys):
    table = tmp_path / "small.csv"
    table.write_text("x,y\n" + "".join(f"{i},{2 * i + 1}\n" for i in range(50)))
    launched = []
    monkeypatch.setattr(losscc.training.parallel, "_launch", lambda *a, **k: launched.append(a))
    monkeypatch.setattr(losscc.training.parallel.tempfile, "mkdtemp",
                        lambda **k: launched.append(k) or str(tmp_path / "work"))
    # 50 rows, 20% held out: 40 training rows, less than 2 workers x 32
    assert main(["train", "square(d)", "--data", str(table), "--target", "y",
                 "--workers", "2", "-q"]) == 2
    err = capsys.readouterr().err
    assert "40 training rows make no global batch of 64" in err and "Traceback" not in err
    assert launched == []  # no msrun, no work directory left behind


def weights(result):
    return np.concatenate([np.reshape(v, -1) for v in result["parameters"].values()])


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_MSRUN, reason="MindSpore's msrun launcher is not installed")
def test_two_workers_train_like_one_process_with_the_doubled_batch(capsys):
    assert main(["train", "square(d)", "--workers", "2", "--batch-size", "10", "--json"]) == 0
    out, err = capsys.readouterr()
    parallel = json.loads(out)
    assert "msrun: 2 workers, batch 10 each (global batch 20)\n" in err  # no log path: deleted
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
    # The same verdict and references as the one-process run, and everything it reports.
    assert set(parallel) == set(single)
    assert parallel["references"] == single["references"] and parallel["status"] == single["status"]

    assert main(["train", "square(d)", "--batch-size", "10", "--json", "-q"]) == 0
    half = json.loads(capsys.readouterr().out)
    assert np.max(np.abs(weights(half) - weights(single))) > 1e-2


def _program_and_options():
    from losscc.compiler.program import build
    from losscc.training.options import TrainOptions

    return build("square(d)"), TrainOptions()


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_MSRUN, reason="MindSpore's msrun launcher is not installed")
def test_a_failing_worker_is_named_with_its_error(tmp_path):
    from losscc.errors import LossccError
    from losscc.training.parallel import train_parallel

    program, options = _program_and_options()
    spec = {"kind": "csv", "path": str(tmp_path / "gone.csv"), "target": "y", "features": None,
            "holdout": 0.2, "seed": 0, "standardise": True}  # each worker fails to read it
    with pytest.raises(LossccError) as info:
        train_parallel(program, spec, options, 2, rows=160)
    message = info.value.message
    assert message.startswith("the msrun workers failed")
    # the first rank to fail is named with its error (msrun may stop the others first)
    named = [line for line in message.splitlines()
             if line.strip().startswith("rank ") and ": LossccError: no such file: " in line]
    assert named and str(tmp_path / "gone.csv") in named[0]
    assert_stopped_and_clean_up(info.value.hint)


def assert_stopped_and_clean_up(hint):
    """No process of the launch is left; then remove the logs the error kept for the user."""
    from losscc.training.parallel import _processes_running

    if "the workers' logs are kept in " in hint:
        work = hint.split("the workers' logs are kept in ", 1)[1].removesuffix("/logs")
        assert os.path.isdir(os.path.join(work, "logs"))
    else:  # stopped before any worker wrote a log (a slow start on a busy machine)
        work = hint.split("its output is kept in ", 1)[1]
        assert os.path.isdir(work)
    script = os.path.join(work, "losscc_worker.py")
    for _ in range(50):  # SIGKILL is sent; the kernel takes a moment to end them
        if not _processes_running(script):
            break
        time.sleep(0.1)
    assert _processes_running(script) == []
    shutil.rmtree(work)


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_MSRUN, reason="MindSpore's msrun launcher is not installed")
def test_a_launch_that_runs_out_of_time_is_stopped(monkeypatch):
    from losscc.errors import LossccError
    from losscc.training.parallel import train_parallel

    monkeypatch.setattr(losscc.training.parallel, "launch_timeout", lambda options, rows: 1.0)
    program, options = _program_and_options()
    spec = {"kind": "article", "samples": 160, "seed": 0, "article_layout": False}
    with pytest.raises(LossccError, match="did not finish within 1 s and was stopped") as info:
        train_parallel(program, spec, options, 2, rows=160)
    assert_stopped_and_clean_up(info.value.hint)


def test_the_launch_environment_shortens_msruns_start_up():
    from losscc.training.parallel import LAUNCH_ENV, launch_timeout
    from losscc.training.options import TrainOptions

    assert LAUNCH_ENV == {"MS_RETRY_INTERVAL_LOWER": "1", "MS_RETRY_INTERVAL_UPPER": "1"}
    # The bound grows with the run: 10 passes of 160 rows, batch 10 -> 160 steps.
    assert launch_timeout(TrainOptions(), 1600) > launch_timeout(TrainOptions(), 160)
