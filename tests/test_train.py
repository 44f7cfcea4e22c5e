"""`losscc train` end to end: the article's published runs, metrics against NumPy,
divergence as a result, CSV tables and their errors."""
import json
import re

import numpy as np
import pytest

from losscc.cli.main import main
from reference_data import assert_seed_run, held_out_rows, linear_errors

RESULT_KEYS = {"formula", "reduction", "compiled", "data", "options", "steps", "losses",
               "final_loss", "parameters", "held_out", "time_s", "diverged", "divergence",
               "workers", "notes", "analysis"}


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
                                   "--epochs", "3", "-q")
    assert status == 0
    data = result["data"]
    assert (data["train_rows"], data["held_out_rows"]) == (96, 24)
    assert data["features"] == ["a", "b"] and "truth" not in data
    # Back to the table's units: y = w.(x - mean)/std + c.
    w = np.reshape(result["parameters"]["fc.weight"], -1)
    mean, std = (np.array(data["standardised"][k]) for k in ("mean", "std"))
    coef = w / std
    intercept = result["parameters"]["fc.bias"][0] - np.sum(w * mean / std)
    np.testing.assert_allclose(coef, [3, -2], atol=0.05)
    assert abs(intercept - 1) < 0.1
    assert result["held_out"]["mae"] < 0.1


@pytest.mark.slow
def test_csv_table_mlp(tmp_path, capsys):
    table = tmp_path / "t.csv"
    write_table(table, n=40)
    status, result, _ = train_json(capsys, "abs(d)", "--data", str(table), "--target", "y",
                                   "--hidden", "4", "--optimizer", "adam", "--mode", "pynative",
                                   "-q")
    assert status == 0 and result["options"]["mode"] == "pynative"
    shapes = {k: np.shape(v) for k, v in result["parameters"].items()}
    assert shapes == {"hidden.weight": (4, 2), "hidden.bias": (4,), "out.weight": (1, 4),
                      "out.bias": (1,)}
    assert all(v is not None for v in result["held_out"].values())


BAD_TABLES = {
    "cell": ("a,b,y\n1,2,3\n4,x5,6\n", ["y"],
             ["column 'b' needs numbers", "line 3, column 3", "3 | 4,x5,6", "  ^^"]),
    "empty": ("a,b,y\n1,2,3\n4,,6\n", ["y"], ["an empty cell", "line 3, column 3"]),
    "ragged": ("a,b,y\n1,2,3\n1,2\n", ["y"], ["2 cells but the header names 3", "line 3"]),
    "column": ("a,b,price\n1,2,3\n", ["prices"], ["no column 'prices'", "did you mean 'price'"]),
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
    (["--batch-size", "0"], "--batch-size must be at least 1"),
    (["--workers", "0"], "--workers must be at least 1"),
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
