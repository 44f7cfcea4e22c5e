"""Shared test set-up: MindSpore's C++ log silenced, a private cache directory."""
import os

import pytest

os.environ.setdefault("GLOG_v", "4")  # before anything imports MindSpore


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Compiled cells go to a fresh cache, not the user's ~/.cache/losscc."""
    old = os.environ.get("LOSSCC_CACHE_DIR")
    os.environ["LOSSCC_CACHE_DIR"] = str(tmp_path_factory.mktemp("losscc-cache"))
    yield
    if old is None:
        os.environ.pop("LOSSCC_CACHE_DIR", None)
    else:
        os.environ["LOSSCC_CACHE_DIR"] = old


@pytest.fixture(autouse=True)
def _restore_mindspore_mode():
    """Tests that train in-process set MindSpore's global mode: put it back."""
    import sys

    ms = sys.modules.get("mindspore")
    previous = ms.get_context("mode") if ms else None
    yield
    if ms is not None:
        ms.set_context(mode=previous)


@pytest.fixture(params=["graph", "pynative"])
def ms_mode(request):
    """Run a test in GRAPH_MODE and in PYNATIVE_MODE."""
    import mindspore as ms

    mode = {"graph": ms.GRAPH_MODE, "pynative": ms.PYNATIVE_MODE}[request.param]
    previous = ms.get_context("mode")
    ms.set_context(mode=mode)
    yield request.param
    ms.set_context(mode=previous)
