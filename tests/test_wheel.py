"""The wheel: built from the sources, installed (not editable) into a fresh
environment, used from outside the source tree.

This is what a user gets from ``pip install losscc``: the grammar must be
inside the wheel, the ``losscc`` script must work, and a cell must load. The
fresh environment gets losscc's dependencies (MindSpore, 2.5 GB) by seeing
this environment's site-packages through a .pth file rather than by
downloading them again; the wheel itself is installed with --no-deps.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from importlib.util import find_spec
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SOURCES = ["pyproject.toml", "README.md", "losscc", "grammar"]


def run(argv, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, **kwargs)
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the sources (the build writes build/ next to them)."""
    work = tmp_path_factory.mktemp("wheel")
    tree = work / "src"
    tree.mkdir()
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, tree / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        elif source.exists():
            shutil.copy2(source, tree / name)
    # With this environment's setuptools when it has one, no download:
    # --no-isolation, and --skip-dependency-check because a Python 3.11 venv
    # seeds setuptools 65, below the >=68 that isolated builds fetch (65 builds
    # this project: the tests below check what is in the wheel and that it works).
    offline = ["--no-isolation", "--skip-dependency-check"] if find_spec("setuptools") else []
    run([sys.executable, "-m", "build", "--wheel", *offline, "--outdir", str(work / "dist"),
         str(tree)])
    (built,) = (work / "dist").glob("losscc-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel installed; returns its bin/ directory."""
    env_dir = tmp_path_factory.mktemp("fresh") / "venv"
    run([sys.executable, "-m", "venv", str(env_dir)])
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    site = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    # The dependencies, from this environment (after the fresh one's own packages).
    Path(site.stdout.strip(), "zz_losscc_test_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n")
    run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", str(wheel)])
    return bindir


def outside_env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["LOSSCC_CACHE_DIR"] = str(tmp_path / "cache")
    env["GLOG_v"] = "4"
    return env


@pytest.mark.slow
def test_the_wheel_ships_the_grammar_and_the_packages(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "losscc/grammar/loss.lark" in names
    # --data example:grunfeld, with its source and licence
    assert {"losscc/training/examples/grunfeld.csv", "losscc/training/examples/README.md"} <= names
    packages = {p.parent.relative_to(REPO).as_posix() for p in (REPO / "losscc").rglob("__init__.py")}
    assert {"losscc", "losscc/ir", "losscc/language", "losscc/compiler", "losscc/compiler/passes",
            "losscc/series", "losscc/analysis", "losscc/training", "losscc/tools", "losscc/cli",
            "losscc/cli/commands"} <= packages
    for package in packages:  # every package of the source tree, none forgotten
        assert f"{package}/__init__.py" in names, package
    assert not any(n.startswith(("tests/", "benchmarks/")) for n in names)


@pytest.mark.slow
def test_the_installed_command_compiles_outside_the_source_tree(installed, tmp_path):
    done = run([str(installed / "losscc"), "compile", "square(square(d))"],
               cwd=tmp_path, env=outside_env(tmp_path))
    assert "class CompiledLoss(nn.LossBase):" in done.stdout
    assert done.stdout.count("self.square(") == 2
    bad = subprocess.run([str(installed / "losscc"), "compile", "square(d"], cwd=tmp_path,
                         env=outside_env(tmp_path), capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ")


@pytest.mark.slow
def test_the_installed_package_loads_a_working_cell(installed, tmp_path):
    script = textwrap.dedent(f"""
        import numpy as np
        import mindspore as ms
        import losscc
        from importlib import resources

        # The installed copy, not the source tree or an editable install.
        assert losscc.__file__.startswith({str(installed.parent)!r}), losscc.__file__
        assert resources.files("losscc.grammar").joinpath("loss.lark").is_file()
        from losscc.training.data import example_path, load_csv
        table = load_csv(example_path("grunfeld"), "invest")
        assert table.train_x.shape == (176, 3) and example_path("grunfeld").startswith(
            {str(installed.parent)!r})
        ms.set_context(mode=ms.GRAPH_MODE)
        cell = losscc.compile("square(square(d))")
        pred = np.array([1.0, -2.0, 0.5], np.float32)
        got = float(cell(ms.Tensor(pred), ms.Tensor(np.zeros(3, np.float32))).asnumpy())
        assert abs(got - np.mean(pred.astype(np.float64) ** 4)) < 1e-5, got
        print("ok")
    """)
    done = run([str(installed / "python"), "-c", script], cwd=tmp_path, env=outside_env(tmp_path))
    assert done.stdout.strip().endswith("ok")
