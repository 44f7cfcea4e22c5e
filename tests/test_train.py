"""`losscc train` end to end: the article's published runs, metrics against NumPy,
divergence as a result, CSV tables and their errors."""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from losscc.cli.main import main
from reference_data import (
    article_rows,
    assert_seed_run,
    heavy_tailed_table,
    held_out_rows,
    linear_errors,
    reference_metrics,
    split_rows,
)

RESULT_KEYS = {"formula", "reduction", "compiled", "data", "options", "steps", "losses",
               "final_loss", "parameters", "held_out", "time_s", "diverged", "divergence",
               "workers", "notes", "analysis", "passes", "status", "reason", "hint",
               "references", "skill", "coefficients"}


def strict_json(text):
    """JSON as other tools read it: NaN or Infinity would be an error."""
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")
    return json.loads(text, parse_constant=refuse)


def train_json(capsys, *args):
    status = main(["train", *args, "--json"])
    out = capsys.readouterr()
    return status, strict_json(out.out), out.err


@pytest.mark.slow
def test_article_quartic_run_reproduces_the_published_numbers(capsys):
    status, result, err = train_json(capsys, "square(square(d))", "--article")
    assert status == 0 and set(result) == RESULT_KEYS
    assert_seed_run(result, "quartic")
    assert result["steps"] == 160 and len(result["losses"]) == 160
    assert result["data"]["layout"] == "article"
    assert result["data"]["sample_shapes"] == {"features": [1, 2], "label": [1]}
    assert result["options"]["shapes"] == "allow"  # the article's numbers need the broadcast
    assert result["diverged"] is False and result["divergence"] is None
    assert result["analysis"]["verdicts"]["bounded_below"] is True
    # Progress lines in LossMonitor's words: ten of them by default.
    lines = err.strip().splitlines()
    assert len(lines) == 10 and lines[-1] == "epoch: 1 step: 160, loss is 16.992222"
    # Judged against the references, the article's run has not converged: in the
    # broadcast layout it learns little more than the mean. The references, by NumPy:
    x, z = article_rows(200)
    expected = reference_metrics(x[:160], z[:160], x[160:], z[160:])
    got = {name: r["mae"] for name, r in result["references"].items()}
    assert got == pytest.approx(expected, rel=1e-6)
    median, ols = expected["training median"], expected["least squares"]
    skill = (median - result["held_out"]["mae"]) / (median - ols)
    assert result["skill"] == pytest.approx(skill, rel=1e-6) and skill < 0.25
    assert result["status"] == "not converged" and result["hint"].startswith("leave out --article")


@pytest.mark.slow
def test_article_mse_run(capsys):
    status, result, _ = train_json(capsys, "square(d)", "--article", "-q")
    assert status == 0 and result["options"]["mode"] == "graph"
    assert_seed_run(result, "mse")


@pytest.mark.slow
def test_the_negated_mean_is_reported_as_diverged(capsys):
    status, result, _ = train_json(capsys, "square(d)", "-r", "-mean", "--article", "-q")
    assert status == 3  # diverged: a result, not a crash
    assert result["diverged"] is True and "exploded" in result["divergence"]
    assert_seed_run(result, "negmean")  # it still ran all its steps, as the article's did
    assert result["analysis"]["verdicts"]["bounded_below"] is False


@pytest.mark.slow
def test_matching_shapes_metrics_agree_with_numpy(capsys):
    status, result, _ = train_json(capsys, "square(d)", "-q")
    assert status == 0
    assert result["data"]["layout"] == "matching"
    assert result["data"]["sample_shapes"] == {"features": [2], "label": [1]}
    x, z = held_out_rows()
    errors = linear_errors(result["parameters"], x, z)
    held = result["held_out"]
    np.testing.assert_allclose(held["mae"], errors.mean(), rtol=1e-5)
    np.testing.assert_allclose(held["rmse"], np.sqrt(np.mean(errors ** 2)), rtol=1e-5)
    np.testing.assert_allclose(held["max_error"], errors.max(), rtol=1e-5)
    # With each prediction compared to its own label, the fit finds a and c
    # (b, the y^3 weight, is still climbing after 160 steps).
    w = np.reshape(result["parameters"]["fc.weight"], -1)
    assert abs(w[0] - 2.0) < 0.05 and abs(result["parameters"]["fc.bias"][0] - 5.0) < 0.1
    assert result["data"]["truth"] == {"a": 2.0, "b": 3.0, "c": 5.0}


@pytest.mark.slow
def test_text_report_and_analysis(capsys):
    assert main(["train", "abs(d)", "--log-every", "40"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("analysis of mean(")
    assert "differentiable at 0  no: a kink at d = 0" in out
    for expected in ("final loss: ", "not comparable across losses", "fc.weight", "fc.bias",
                     "true a, b, c: 2.0, 3.0, 5.0", "held out (40 rows): MAE ", "RMSE",
                     "max error", "time: "):
        assert expected in out
    steps = [int(m) for m in re.findall(r"^epoch: 1 step: (\d+), loss is \S+$", err, re.M)]
    assert steps == [40, 80, 120, 160]


@pytest.mark.slow
def test_an_infinite_loss_stops_training_and_is_reported(capsys):
    # The 4th power with the article's learning rate and matching shapes overflows in a few steps.
    status, result, _ = train_json(capsys, "square(square(d))", "-q")
    assert status == 3 and result["diverged"] is True
    assert result["steps"] < 160  # stopped at the first non-finite loss
    assert result["final_loss"] is None  # inf/NaN become null in strict JSON
    assert "became" in result["divergence"] or "exploded" in result["divergence"]


def write_table(path, n=120, seed=1):
    rng = np.random.RandomState(seed)
    a, b = rng.uniform(-2, 2, n), rng.uniform(0, 10, n)
    y = 3 * a - 2 * b + 1 + rng.normal(0, 0.01, n)
    with open(path, "w") as f:
        f.write("a,b,y\n")
        for row in zip(a, b, y):
            f.write(",".join(f"{v:.6f}" for v in row) + "\n")


@pytest.mark.slow
def test_csv_table_linear_model(tmp_path, capsys):
    table = tmp_path / "t.csv"
    write_table(table)
    status, result, _ = train_json(capsys, "square(d)", "--data", str(table), "--target", "y",
                                   "-q")
    assert status == 0 and result["status"] == "ok"
    data, options = result["data"], result["options"]
    assert (data["train_rows"], data["held_out_rows"]) == (96, 24)
    assert data["features"] == ["a", "b"] and "truth" not in data
    # The table defaults: Adam, cosine, batch 32, 10 passes raised to 1000 steps.
    assert (options["optimizer"], options["schedule"]) == ("adam", "cosine")
    assert (options["batch_size"], options["eps"]) == (32, 1e-16)
    assert result["steps"] == 3 * 334 and result["passes"] == 334
    # The network saw standardised features and target: back to the table's units,
    # y = t_mean + t_std * (w.(x - f_mean)/f_std + b).
    w = np.reshape(result["parameters"]["fc.weight"], -1)
    b = result["parameters"]["fc.bias"][0]
    f_mean, f_std = (np.array(data["standardised"]["features"][k]) for k in ("mean", "std"))
    t_mean, t_std = (data["standardised"]["target"][k] for k in ("mean", "std"))
    coef = t_std * w / f_std
    intercept = t_mean + t_std * (b - np.sum(w * f_mean / f_std))
    np.testing.assert_allclose(result["coefficients"]["weights"], coef, rtol=1e-9)
    assert result["coefficients"]["intercept"] == pytest.approx(intercept, rel=1e-9)
    # MSE's minimiser is least squares: NumPy's, on the same training rows.
    values = np.loadtxt(table, delimiter=",", skiprows=1)
    train, _ = split_rows(values)
    ols, *_ = np.linalg.lstsq(np.c_[train[:, :2], np.ones(len(train))], train[:, 2], rcond=None)
    np.testing.assert_allclose(coef, ols[:2], atol=2e-3)
    assert abs(intercept - ols[2]) < 5e-3
    assert result["held_out"]["mae"] < 0.02


@pytest.mark.slow
def test_csv_table_mlp(tmp_path, capsys):
    table = tmp_path / "t.csv"
    write_table(table, n=40)
    status, result, _ = train_json(capsys, "abs(d)", "--data", str(table), "--target", "y",
                                   "--hidden", "4", "--mode", "pynative", "--min-steps", "0",
                                   "-q")  # PyNative takes ~10 ms a step: 10 steps, not 1000
    assert status == 0 and result["options"]["mode"] == "pynative"
    shapes = {k: np.shape(v) for k, v in result["parameters"].items()}
    assert shapes == {"hidden.weight": (4, 2), "hidden.bias": (4,), "out.weight": (1, 4),
                      "out.bias": (1,)}
    assert all(v is not None for v in result["held_out"].values())


BAD_TABLES = {
    "float32": ("a,b,y\n1,2,3\n4,1e39,6\n", ["y"],
                ["column 'b' has 1e39, beyond float32's range", "line 3, column 3", "^^^^"]),
    "target float32": ("a,y\n1,2\n4,-5e38\n3,3\n", ["y"], ["column 'y' has -5e38", "line 3"]),
    "cell": ("a,b,y\n1,2,3\n4,x5,6\n", ["y"],
             ["column 'b' needs numbers", "line 3, column 3", "3 | 4,x5,6", "  ^^"]),
    "empty": ("a,b,y\n1,2,3\n4,,6\n", ["y"], ["an empty cell", "line 3, column 3"]),
    "ragged": ("a,b,y\n1,2,3\n1,2\n", ["y"], ["2 cells but the header names 3", "line 3"]),
    "column": ("a,b,price\n1,2,3\n", ["prices"], ["no column 'prices'", "did you mean 'price'"]),
    "underscore": ("a,b,y\n1,2,3\n4,1_000,6\n", ["y"],
                   ["column 'b' needs numbers, but this row has '1_000'", "line 3, column 3"]),
    "full-width": ("a,b,y\n1,2,3\n4,\uff11\uff12,6\n", ["y"], ["column 'b' needs numbers"]),
    "open quote": ('a,b,y\n1,2,"3\n4,5,6\n', ["y"],
                   ["cannot be read as CSV", "line 2", "a quoted cell ends on its own line"]),
    "carriage returns": ("a,b,y\r1,2,3\r4,x5,6\r", ["y"],
                         ["column 'b' needs numbers", "line 3, column 3", "3 | 4,x5,6"]),
    "next line": ("a,b,y\x851,2,3\x854,x5,6\n", ["y"], ["line 3, column 3"]),
    "quoted line break": ('a,b,y\n1,2,3\n4,5,"6\n7"\n', ["y"],
                          ["cannot be read as CSV", "line 3"]),
}


@pytest.mark.parametrize("case", sorted(BAD_TABLES))
def test_bad_tables_are_positioned_errors(case, tmp_path, capsys):
    text, target, expected = BAD_TABLES[case]
    table = tmp_path / "bad.csv"
    table.write_text(text)
    assert main(["train", "square(d)", "--data", str(table), "--target", *target]) == 2
    out, err = capsys.readouterr()
    assert out == ""  # nothing trained, nothing printed
    for piece in expected:
        assert piece in err
    assert "Traceback" not in err


@pytest.mark.parametrize("args, expected", [
    (["--data", "/no/such/file.csv", "--target", "y"], "no such file: /no/such/file.csv"),
    (["--target", "y"], "--target needs --data"),
    (["--article", "--data", "x.csv", "--target", "y"], "cannot go with --data"),
    (["--holdout", "0.3"], "--holdout needs --data"),
    (["--data", "x.csv", "--target", "y", "--holdout", "1.5"], "strictly between 0 and 1"),
    (["--data", "x.csv"], "--data needs --target"),
    (["--lr", "-1"], "learning rate must be positive"),
    (["--lr", "1e39"], "learning rate 1e+39 is beyond float32's range"),
    (["--batch-size", "0"], "--batch-size must be at least 1"),
    (["--workers", "0"], "--workers must be between 1 and 64, not 0"),
    (["--seed", "99999999999"], "--seed 99999999999 is more than losscc's limit of 4294967295"),
    (["--hidden", "1000000000"], "--hidden 1000000000 is more than losscc's limit of 10000"),
    (["--epochs", "5000", "--repeat", "5000"], "are more than losscc's limits"),
    (["--data", "example:grunfed", "--target", "invest"], "did you mean example:grunfeld?"),
    (["--article", "--shapes", "strict"], "shapes='strict' refuses the article's layout"),
])
def test_bad_options_exit_2(args, expected, capsys):
    assert main(["train", "square(d)", *args, "-q"]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


@pytest.mark.parametrize("name", ["losscc.training.data", "losscc.training.train", "losscc.training.parallel"])
def test_docstring_examples(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0


def write_slow_table(path, n=200):
    rng = np.random.RandomState(4)
    a = rng.normal(size=n)
    y = 40 * a + 1000 + rng.normal(0, 1, n)
    with open(path, "w") as f:
        f.write("a,y\n" + "".join(f"{u:.6f},{v:.6f}\n" for u, v in zip(a, y)))
    return np.c_[a, y]


@pytest.mark.slow
def test_a_run_that_learns_nothing_is_not_converged(tmp_path, capsys):
    table = tmp_path / "t.csv"
    values = write_slow_table(table)
    # Ten steps at a tiny learning rate: the model stays near predicting the mean.
    status, result, _ = train_json(capsys, "abs(d)", "--data", str(table), "--target", "y",
                                   "--min-steps", "0", "--repeat", "2", "--lr", "1e-4", "-q")
    assert status == 0  # a finding, not an error
    train, test = split_rows(values)
    expected = reference_metrics(train[:, :1], train[:, 1], test[:, :1], test[:, 1])
    median, ols = expected["training median"], expected["least squares"]
    assert ols < 0.95 * median  # the features do predict the target
    skill = (median - result["held_out"]["mae"]) / (median - ols)
    assert skill < 0.25 and result["skill"] == pytest.approx(skill, abs=1e-4)
    assert result["status"] == "not converged"
    assert result["reason"].startswith(f"held-out MAE {result['held_out']['mae']:.5g}")
    assert result["hint"] == "more steps (--epochs, now 1) or another --lr (now 0.0001)"
    # The text report says it too.
    assert main(["train", "abs(d)", "--data", str(table), "--target", "y", "--min-steps", "0",
                 "--repeat", "2", "--lr", "1e-4", "-q"]) == 0
    out = capsys.readouterr().out
    assert "status:    NOT CONVERGED: held-out MAE" in out and "hint:      more steps" in out
    assert "references: training mean MAE" in out and "least squares MAE" in out


def test_a_constant_target_is_not_judged(tmp_path, capsys):
    """Every reference is exact on a constant target: nothing to judge by (it once
    failed an assertion, exit 1)."""
    table = tmp_path / "k.csv"
    table.write_text("a,b,y\n" + "".join(f"{i},{i * i},0\n" for i in range(20)))
    status, result, _ = train_json(capsys, "abs(d)", "--data", str(table), "--target", "y",
                                   "--min-steps", "0", "--repeat", "2", "-q")
    assert status == 0 and result["status"] == "ok"
    assert result["reason"].startswith(
        "not judged: predicting the training median is already exact")


@pytest.mark.slow
@pytest.mark.parametrize("scale, offset", [(1e-5, 0.05), (1.0, 5000.0), (1e4, 5000.0)])
def test_default_training_reaches_least_squares_at_any_scale(scale, offset, tmp_path, capsys):
    """The scale goal: heavy-tailed noise (Student-t, 2 degrees of freedom), targets of scale
    1e-5, 1 and 1e4 with an offset; every loss within 1.5x of least squares' held-out MAE
    with the default options. (benchmarks/scale_grid.py runs the full grid.)"""
    table = tmp_path / "scaled.csv"
    values = heavy_tailed_table(table, n=1000, scale=scale, offset=offset, seed=7)
    assert main(["compare", "abs(d)", "square(d)", "0.5*square(d) + abs(d)", "--data",
                 str(table), "--target", "y", "--json", "-q"]) == 0
    rows = json.loads(capsys.readouterr().out)["results"]
    train, test = split_rows(values)
    ols = reference_metrics(train[:, :-1], train[:, -1], test[:, :-1], test[:, -1])["least squares"]
    ratios = {r["formula"]: r["mae"] / ols for r in rows}
    assert all(ratio < 1.5 for ratio in ratios.values()), ratios
    assert all(r["status"] == "ok" for r in rows)


def test_quiet_by_default_and_verbose_on_request(monkeypatch):
    from losscc.compiler.runtime import quiet_mindspore

    monkeypatch.delenv("GLOG_v", raising=False)
    quiet_mindspore()
    assert os.environ["GLOG_v"] == "3"
    monkeypatch.delenv("GLOG_v")
    quiet_mindspore(verbose=True)
    assert os.environ["GLOG_v"] == "2"
    monkeypatch.setenv("GLOG_v", "1")  # the user's own level wins
    quiet_mindspore()
    assert os.environ["GLOG_v"] == "1"


@pytest.mark.slow
def test_a_new_user_sees_no_mindspore_log_line(tmp_path):
    """GLOG_v unset, as on a fresh machine: only losscc's own lines reach the terminal,
    and MindSpore leaves no file in the working directory."""
    env = {k: v for k, v in os.environ.items() if k != "GLOG_v"}
    done = subprocess.run([sys.executable, "-m", "losscc", "train", "abs(d)", "--data",
                           "example:grunfeld", "--target", "invest"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    progress = [line for line in done.stderr.splitlines()
                if not re.fullmatch(r"epoch: 1 step: \d+, loss is \S+", line)]
    assert progress == [] and len(done.stderr.splitlines()) == 10
    assert "[WARNING]" not in done.stdout and "status:    ok" in done.stdout
    assert list(tmp_path.iterdir()) == []


def test_reading_a_table_costs_its_numbers_not_an_object_per_cell(tmp_path):
    """200,000 rows: the peak of Python's allocations while reading stays within a few
    times the file (the text, its decoded copy, the numbers); a record per cell once
    made it about 80 times."""
    import tracemalloc

    from losscc.training.data import load_csv

    rng = np.random.default_rng(0)
    table = tmp_path / "big.csv"
    rows = rng.uniform(0, 1, size=(200_000, 3))
    np.savetxt(table, rows, fmt="%.6f", delimiter=",", header="a,b,y", comments="")
    size = table.stat().st_size
    tracemalloc.start()
    try:
        data = load_csv(str(table), "y")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(data.train_y) + len(data.test_y) == 200_000
    np.testing.assert_allclose(np.sort(np.r_[data.train_y, data.test_y]),
                               np.sort(rows[:, 2]), atol=1e-6)  # written with 6 decimals
    assert peak < 8 * size, (peak, size)


def test_a_table_beyond_the_size_limit_is_refused_before_it_is_read(tmp_path, capsys):
    from losscc.limits import MAX_DATA_BYTES

    table = tmp_path / "huge.csv"
    with open(table, "wb") as f:  # sparse: no disk, and nothing worth reading
        f.write(b"x,y\n")
        f.truncate(MAX_DATA_BYTES + 1)
    assert main(["train", "square(d)", "--data", str(table), "--target", "y", "-q"]) == 2
    assert f"is larger than {MAX_DATA_BYTES} bytes" in capsys.readouterr().err


def test_a_cell_that_rounds_to_float32s_largest_is_taken(tmp_path):
    """3.40282347e38 is how float32's largest number is printed: it is in range (as a
    formula's constant or --lr is), though its decimal value lies a little above."""
    from losscc.training.data import load_csv

    table = tmp_path / "t.csv"
    table.write_text("a,y\n1,2\n2,3\n3,3.40282347e38\n4,5\n5,6\n")
    data = load_csv(str(table), "y", standardise=False)
    held = np.r_[data.train_y, data.test_y]
    assert float(held.max()) == float(np.finfo(np.float32).max)
