"""The cache of generated modules: concurrent loads, unusable directories, damaged files.

Concurrency is tested with real processes started together. They import a
stand-in ``mindspore`` package (a few empty classes on PYTHONPATH) because
the cache does not depend on MindSpore and a real import costs seconds per
process, which would spread the processes out instead of making them collide.
A control run with a deliberately non-atomic writer shows the harness does
catch half-written files.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import losscc
from losscc import LossccError

# A formula whose generated module is large (its comment lines are copied
# into the module), so that writing it takes long enough to be caught.
BIG_FORMULA = "square(d)\n" + "\n".join(f"# {i:06d} " + "x" * 200 for i in range(1500))

HARNESS = textwrap.dedent('''
    import os, sys, time
    from pathlib import Path
    import losscc, losscc.compiler.load

    role, sync, count, naive = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "naive"
    source = losscc.program(open(sys.argv[5]).read()).source("BigLoss")
    if naive:  # the control: a writer that leaves half-written files for a while
        from losscc.cache import CacheDir
        def write_in_pieces(self, name, data):
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600, dir_fd=self.fd)
            with os.fdopen(fd, "wb") as f:
                for i in range(0, len(data), len(data) // 20 + 1):
                    f.write(data[i:i + len(data) // 20 + 1]); f.flush(); time.sleep(0.005)
        CacheDir.write = write_in_pieces
    # A barrier: every process is ready before any goes.
    (sync / f"ready-{role}-{os.getpid()}").touch()
    while len(list(sync.glob("ready-*"))) < count:
        time.sleep(0.001)
    if role == "load":
        try:
            cls = losscc.compiler.load.load_class(source, "BigLoss")
            module_file = Path(sys.modules[cls.__module__].__file__)
            ok = cls.__name__ == "BigLoss" and module_file.read_text() == source
            print("loaded" if ok else "wrong module")
        except Exception as e:  # a half-written module fails to import
            print("failed", type(e).__name__)
    else:  # read until the loaders are done: a module file, when there, must be complete
        directory = Path(os.environ["LOSSCC_CACHE_DIR"])
        seen = bad = 0
        deadline = time.time() + 120
        while not (sync / "done").exists() and time.time() < deadline:
            for path in directory.glob("losscc_generated_*.py"):
                try:
                    text = path.read_text()
                except FileNotFoundError:
                    continue
                seen += 1
                bad += text != source
        print("read", seen, bad)
''')

STUB_MINDSPORE = {
    "mindspore/__init__.py": "",
    "mindspore/nn.py": "class LossBase:\n    def __init__(self, reduction='mean'):\n        pass\n",
    "mindspore/ops.py": "def __getattr__(name):\n    return lambda *a, **k: None\n",
}


def concurrent_loads(tmp_path: Path, mode: str, loaders: int = 4) -> tuple[list[str], list[int]]:
    for name, text in STUB_MINDSPORE.items():
        (tmp_path / "stub" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "stub" / name).write_text(text)
    (tmp_path / "harness.py").write_text(HARNESS)
    (tmp_path / "formula.txt").write_text(BIG_FORMULA)
    cache = tmp_path / f"cache-{mode}"
    cache.mkdir()
    env = {**os.environ, "LOSSCC_CACHE_DIR": str(cache),
           "PYTHONPATH": os.pathsep.join([str(tmp_path / "stub"), os.environ.get("PYTHONPATH", "")])}
    sync = tmp_path / f"sync-{mode}"
    sync.mkdir()
    roles = ["read"] + ["load"] * loaders
    procs = [subprocess.Popen([sys.executable, str(tmp_path / "harness.py"), role, str(sync),
                               str(len(roles)), mode, str(tmp_path / "formula.txt")],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for role in roles]
    def result(p: subprocess.Popen) -> str:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        return out.strip()

    loads = [result(p) for p in procs[1:]]
    (sync / "done").touch()  # the loaders are done: the reader may stop
    _, seen, bad = result(procs[0]).split()
    return loads, [int(seen), int(bad)]


@pytest.mark.slow
def test_concurrent_loads_never_see_a_half_written_module(tmp_path):
    loads, (seen, bad) = concurrent_loads(tmp_path, "atomic")
    assert loads == ["loaded"] * len(loads)
    assert seen > 0, "the reader never saw the module: the test did not exercise anything"
    assert bad == 0


@pytest.mark.slow
def test_the_harness_catches_a_non_atomic_writer(tmp_path):
    """Control: the same harness with a writer that is not atomic sees broken files."""
    loads, (seen, bad) = concurrent_loads(tmp_path, "naive")
    assert bad > 0 or any(result != "loaded" for result in loads), (loads, seen, bad)


# Directories that cannot be used ---------------------------------------------

def load_with_cache(monkeypatch, directory: Path):
    monkeypatch.setenv("LOSSCC_CACHE_DIR", str(directory))
    return losscc.compile("square(d) + abs(d) * 0.125", name="CacheProbe")


def assert_clear_cache_error(error: LossccError, directory: Path) -> None:
    text = error.render()
    assert str(directory) in text
    assert "LOSSCC_CACHE_DIR" in text  # the hint says what to do
    assert error.source == "cache"


def test_a_cache_directory_that_cannot_be_created_is_a_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    directory = blocker / "cache"
    with pytest.raises(LossccError) as info:
        load_with_cache(monkeypatch, directory)
    assert_clear_cache_error(info.value, directory)
    assert "Not a directory" in info.value.render()


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs Linux sysfs (read-only)")
def test_a_cache_directory_on_a_read_only_file_system_is_a_clear_error(monkeypatch):
    directory = Path("/sys/losscc-cache")  # read-only even for root
    with pytest.raises(LossccError) as info:
        load_with_cache(monkeypatch, directory)
    assert_clear_cache_error(info.value, directory)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root writes into read-only directories")
def test_a_read_only_cache_directory_is_a_clear_error(tmp_path, monkeypatch):
    directory = tmp_path / "read-only"
    directory.mkdir()
    directory.chmod(0o555)
    try:
        with pytest.raises(LossccError) as info:
            load_with_cache(monkeypatch, directory)
        assert_clear_cache_error(info.value, directory)
        assert "Permission denied" in info.value.render()
    finally:
        directory.chmod(0o755)


def test_a_damaged_cache_file_is_replaced_not_imported(tmp_path, monkeypatch):
    import mindspore as ms
    import numpy as np

    directory = tmp_path / "cache"
    monkeypatch.setenv("LOSSCC_CACHE_DIR", str(directory))
    source = losscc.source("square(d) - d/8", name="Damaged")
    losscc.compile("square(d) - d/8", name="Damaged")
    (cached,) = directory.glob("*.py")
    assert cached.read_text() == source
    cached.write_text(source[: len(source) // 2])  # as if an old writer had crashed
    monkeypatch.delitem(sys.modules, cached.stem)  # a new process, as far as load knows
    cell = losscc.compile("square(d) - d/8", name="Damaged")
    assert cached.read_text() == source
    pred, target = np.array([1.0, 3.0], np.float32), np.array([0.0, 1.0], np.float32)
    d = pred - target
    got = cell(ms.Tensor(pred), ms.Tensor(target)).asnumpy()
    assert np.isclose(got, np.mean(d**2 - d / 8))
