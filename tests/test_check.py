"""losscc check end to end: it passes good cells and fails broken ones.

A check that cannot fail proves nothing, so these tests break things on
purpose: the emitted source (a gradient cut with stop_gradient: same values,
zero gradients; d = labels - logits: wrong values) and the reference evaluator.
"""
import json

import pytest

import losscc.compiler.program
import losscc.ir.interpret
from losscc.cli.main import main


def run_check(capsys, *argv):
    code = main(["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_good_formula_passes_in_both_modes_and_all_dtypes(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_check(capsys, "square(square(d))")
    # the strict guard's raise fails a GRAPH_MODE compile: MindSpore's analyze_fail.ir is removed
    assert list(tmp_path.iterdir()) == []
    assert code == 0, out + err
    for mode in ("graph", "pynative"):
        for dtype in ("float32", "float16", "float64"):
            assert f"{mode:<9} {dtype:<8}" in out
    # 24 uniform comparisons, one near the roots and one far out per mode, the shape guard's 6
    assert "MISMATCH" not in out and out.count(" ok\n") == 24 + 2 + 2 + 6
    assert "ok: 28 comparisons" in out
    for mode in ("graph", "pynative"):
        assert f"{mode:<9} strict   raises ValueError  ok" in out
        assert f"{mode:<9} warn     1 warning over 2 calls (want 1)" in out
    assert "analysis of mean(d**4)" in out  # the analysis follows the table


@pytest.mark.parametrize("formula,reduction", [
    ("abs(d - 1) + 0.5*mul(pred, target)", "prod"),
    ("d^7 - 2*abs(d)^3 + 0.25*d", "-mean"),
    ("0.5*square(pred) - pred*target", "0.5*sum"),
])
def test_reductions_and_pred_target_formulas_pass(capsys, formula, reduction):
    code, out, err = run_check(capsys, formula, "-r", reduction, "--mode", "pynative")
    assert code == 0, out + err
    assert f"{reduction:<10}" in out  # the reduced loss was compared too


def test_float16_underflow_is_skipped_with_its_reason(capsys):
    code, out, _ = run_check(capsys, "d^15", "-r", "prod", "--mode", "pynative",
                             "--dtype", "float16")
    assert code == 0
    assert "skipped: float16 cannot hold the exact loss or gradient" in out
    # the shape guard's product of 16 values of d^15: tiny partial products underflow
    # float32 in an order-dependent way (GRAPH_MODE's ReduceProd gives -0.0 here)
    assert "broadcast value not compared: partial products leave float32's range" in out


def break_source(monkeypatch, new_line, old_line="d = logits - labels"):
    """Generated cells say ``new_line`` where they should say ``old_line``."""
    original = losscc.compiler.program.Program.source

    def broken(self, *args, **kwargs):
        text = original(self, *args, **kwargs)
        return text.replace(old_line, new_line)

    monkeypatch.setattr(losscc.compiler.program.Program, "source", broken)


@pytest.mark.parametrize("mode", ["graph", "pynative"])
def test_wrong_gradient_fails(capsys, monkeypatch, mode):
    break_source(monkeypatch, "d = ops.stop_gradient(logits) - labels")
    code, out, err = run_check(capsys, "square(d)", "--mode", mode, "--dtype", "float32")
    assert code == 3
    assert "MISMATCH" in out and "check failed" in err
    rows = [line.split() for line in out.splitlines()
            if line.startswith(f"{mode:<9} float32") and "@" not in line]  # uniform inputs
    value_errors = [float(row[4]) for row in rows]
    gradient_errors = [float(row[5]) for row in rows]
    assert max(value_errors) < 1e-5  # the values are right...
    assert min(gradient_errors) == 1.0  # ...the gradients are 0


def test_wrong_values_fail(capsys, monkeypatch):
    break_source(monkeypatch, "d = labels - logits")
    code, out, _ = run_check(capsys, "square(d) + d", "--mode", "pynative", "--dtype", "float32")
    assert code == 3 and "MISMATCH" in out


@pytest.mark.parametrize("shapes, changes", [
    # warn mode stays silent: neither __call__ (a call from Python) nor construct warns
    ("warn", [("_shapes_differ(logits, labels) and", "False and"),
              ("if not self.shapes_warned and logits.shape != labels.shape:", "if False:")]),
    # strict mode does not raise, in __call__ or in construct
    ("strict", [("if _shapes_differ(logits, labels):", "if False:"),
                ("if logits.shape != labels.shape:", "if False:")]),
])
def test_a_broken_shape_guard_fails(capsys, monkeypatch, shapes, changes):
    for old, new in changes:
        assert old in losscc.source("abs(d)", shapes=shapes)  # the guard is there to break
        break_source(monkeypatch, new, old)
    code, out, _ = run_check(capsys, "abs(d)", "--mode", "pynative", "--dtype", "float32")
    assert code == 3
    assert [line for line in out.splitlines() if line.endswith("MISMATCH")]


def test_a_wrong_reference_fails(capsys, monkeypatch):
    original = losscc.ir.interpret.evaluate
    monkeypatch.setattr(losscc.ir.interpret, "evaluate", lambda *a, **k: original(*a, **k) * 1.001)
    code, out, _ = run_check(capsys, "abs(d)", "--mode", "pynative")
    assert code == 3
    # 1e-3 is beyond float32's and float64's tolerances, within float16's
    for line in out.splitlines():
        if line.startswith("pynative") and " none " in line:
            assert line.endswith("MISMATCH") == ("float16" not in line), line


def test_json_output(capsys):
    code, out, _ = run_check(capsys, "abs(d)", "-r", "-mean", "--mode", "pynative",
                             "--dtype", "float32", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["ok"] is True and data["reduction"] == "-mean"
    assert {c["reduction"] for c in data["cases"]} == {"none", "-mean"}
    assert all(c["value_error"] <= c["tolerance"] for c in data["cases"])
    assert data["analysis"]["verdicts"]["bounded_below"] is False
    assert [(c["shapes"], c["ok"]) for c in data["shape_cases"]] == [
        ("strict", True), ("warn", True), ("allow", True)]


def test_bad_formula_exits_2(capsys):
    code, out, err = run_check(capsys, "square(d")
    assert code == 2 and "Traceback" not in err and "line 1" in err


def test_a_check_that_compared_nothing_fails(capsys):
    # float16 holds nothing near 3e38 * d^2: every case is skipped, which proves nothing
    code, out, err = run_check(capsys, "3e38*square(d)", "--mode", "graph", "--dtype", "float16")
    assert code == 3 and "nothing could be compared" in err
    assert "every comparison was skipped" in out


def test_repeated_modes_run_once(capsys):
    code, out, _ = run_check(capsys, "abs(d)", "--mode", "pynative", "--mode", "pynative",
                             "--dtype", "float32")
    assert code == 0, out
    assert out.count("pynative  float32  7          none") == 1
    assert out.count("pynative  warn") == 1


@pytest.mark.parametrize("formula,ok", [
    ("square(d)", True),             # inf only where d^2 is beyond float32 (from 1.8e19)
    ("0.1*square(d)", True),         # inf at 2e19, where d^2 as written overflows too
    ("min(d^4, 1)", True),           # the power taken below the min: 1, never NaN
    ("relu(1 - square(d))", False),  # 0 by the math, NaN in float32 once d^2 is inf
])
def test_far_out_residuals_show_nan_where_the_loss_is_a_number(capsys, formula, ok):
    code, out, err = run_check(capsys, formula, "--mode", "pynative", "--dtype", "float32")
    line = next(row for row in out.splitlines() if "20@big" in row)
    assert line.endswith(" ok") == ok and code == (0 if ok else 3), out
