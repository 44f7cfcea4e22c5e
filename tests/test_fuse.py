"""fuse=True / --fuse: graph-kernel fusion for a compiled loss.

Fusion is a process-wide MindSpore setting, so the test that turns it on
runs in its own process; it checks the fused cell's value against NumPy,
that MindSpore really built a fused kernel, and that nothing was written to
the working directory.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

import losscc
import losscc.compiler.fuse
from losscc import LossccError
from losscc.cli.main import main as cli_main
from losscc.files import is_generated


def test_fused_source_turns_fusion_on_when_the_cell_is_created():
    plain = losscc.source("square(square(d))")
    fused = losscc.source("square(square(d))", fuse=True)
    assert fused.splitlines()[0] == plain.splitlines()[0]  # still marked as generated
    assert "\nfrom losscc.compiler.fuse import enable as enable_fusion\n" in fused
    init = fused.split("def __init__", 1)[1].split("def construct", 1)[0]
    assert "        enable_fusion()" in init and "enable_fusion" not in plain
    # The computation itself is unchanged; the shape warning names its own line of each file.
    construct = lambda s: re.sub(r"__file__, \d+,", "__file__, LINE,",  # noqa: E731
                                 s.split("def construct", 1)[1])
    assert construct(fused) == construct(plain)
    line = int(re.search(r"__file__, (\d+),", fused).group(1))
    assert "warnings.warn_explicit(" in fused.splitlines()[line - 1]
    compile(fused, "fused.py", "exec")  # valid Python


def test_cli_fuse_writes_the_fused_module(tmp_path):
    out = tmp_path / "l4.py"
    code = cli_main(["compile", "square(square(d))", "--fuse", "-o", str(out)])
    assert code == 0
    assert out.read_text() == losscc.source("square(square(d))", fuse=True)
    assert is_generated(out)


def test_missing_decorator_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "decorator", None)  # import decorator -> ImportError
    with pytest.raises(LossccError) as info:
        losscc.compiler.fuse.enable()
    text = info.value.render()
    assert "decorator" in text and "losscc[fuse]" in text


def test_an_unusable_scratch_directory_is_a_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("MS_COMPILER_CACHE_PATH", str(blocker / "scratch"))
    with pytest.raises(LossccError) as info:
        losscc.compiler.fuse.scratch_dir()
    assert str(blocker / "scratch") in info.value.render()


@pytest.mark.slow
def test_a_fused_cell_computes_the_loss_and_leaves_the_working_directory_clean(tmp_path):
    work, cache = tmp_path / "work", tmp_path / "cache"
    work.mkdir()
    script = textwrap.dedent("""
        import json, os
        import numpy as np
        import mindspore as ms
        import losscc

        ms.set_context(mode=ms.GRAPH_MODE)
        cell = losscc.compile("d^2/2 - d^4/12", fuse=True)
        pred = np.linspace(-1.5, 1.5, 1000).astype(np.float32)
        target = np.zeros_like(pred)
        got = float(cell(ms.Tensor(pred), ms.Tensor(target)).asnumpy())
        d = pred.astype(np.float64)
        print(json.dumps({"got": got, "want": float(np.mean(d**2 / 2 - d**4 / 12)),
                          "graph_kernel": ms.get_context("enable_graph_kernel"),
                          "cwd": sorted(os.listdir("."))}))
    """)
    env = {**os.environ, "LOSSCC_CACHE_DIR": str(cache), "GLOG_v": "4"}
    env.pop("MS_COMPILER_CACHE_PATH", None)
    done = subprocess.run([sys.executable, "-c", script], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert abs(result["got"] - result["want"]) < 1e-6
    assert result["graph_kernel"] is True
    assert result["cwd"] == [] and sorted(os.listdir(work)) == []
    kernels = list((cache / "graph-kernel" / "akg_kernel_meta").glob("Fused_*.so"))
    assert any("Sub" in k.name and "Square" in k.name for k in kernels), kernels
