"""losscc plot: a PNG of sane size, the right curves in it, clear errors."""
import struct
import sys

import numpy as np
import pytest

import losscc
from losscc.cli import main
from losscc.plot import _loss_and_gradient

pytest.importorskip("matplotlib")


def png_size(path):
    """(width, height) from the PNG's IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_plot_writes_a_png(tmp_path, capsys):
    out = tmp_path / "losses.png"
    code = main(["plot", "abs(d)", "square(d)", "square(square(d))", "0.5*square(pred) - pred*target",
                 "-o", str(out), "--range", "2.5"])
    assert code == 0, capsys.readouterr().err
    assert png_size(out) == (1100, 450)
    assert 10_000 < out.stat().st_size < 1_000_000  # four curves twice, not an empty canvas
    assert "wrote" in capsys.readouterr().err
    # a second run replaces its own PNG
    assert main(["plot", "abs(d)", "-o", str(out)]) == 0 and png_size(out) == (1100, 450)


def test_plotted_curves_are_the_loss_and_its_gradient():
    d = np.linspace(-2, 2, 9)
    loss, grad = _loss_and_gradient(losscc.program("square(square(d))"), d)
    np.testing.assert_allclose(loss, d**4)
    np.testing.assert_allclose(grad, 4 * d**3)
    loss, grad = _loss_and_gradient(losscc.program("abs(d - 1)"), d)
    np.testing.assert_allclose(loss, np.abs(d - 1))
    np.testing.assert_allclose(grad[d != 1], np.sign(d - 1)[d != 1])
    # pred and target, drawn along pred with target = 0: 0.5 p^2 - p t -> p
    loss, grad = _loss_and_gradient(losscc.program("0.5*square(pred) - pred*target"), d)
    np.testing.assert_allclose(loss, 0.5 * d**2)
    np.testing.assert_allclose(grad, d)


def test_refuses_to_overwrite_a_non_png(tmp_path, capsys):
    mine = tmp_path / "notes.png"
    mine.write_text("my notes")
    assert main(["plot", "abs(d)", "-o", str(mine)]) == 2
    assert "exists and is not a PNG" in capsys.readouterr().err
    assert mine.read_text() == "my notes"


def test_bad_range_and_bad_formula(tmp_path, capsys):
    out = tmp_path / "x.png"
    assert main(["plot", "abs(d)", "-o", str(out), "--range", "0"]) == 2
    assert "positive" in capsys.readouterr().err
    assert main(["plot", "abs(d", "-o", str(out)]) == 2
    assert not out.exists()


def test_missing_matplotlib_says_how_to_install(tmp_path, capsys, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    out = tmp_path / "x.png"
    assert main(["plot", "abs(d)", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "matplotlib" in err and "pip install 'losscc[plot]'" in err and "Traceback" not in err
    assert not out.exists()
