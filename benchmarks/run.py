#!/usr/bin/env python
"""losscc benchmarks: compiled losses against the losses people write by hand.

    python benchmarks/run.py            # 1,000,000 float32 elements, writes docs/performance.md
    python benchmarks/run.py --large    # 10,000,000 elements
    python benchmarks/run.py --quick    # fewer repetitions, report on stdout: a smoke run
    python benchmarks/run.py --only logcosh-r   # just the log(cosh(d)) on R section

Every number in the report is measured by this script in this run. Method:

- Throughput: each row compares implementations of one loss on the same
  inputs, forward (the scalar loss) and forward+backward
  (``ms.value_and_grad`` with respect to the prediction), in GRAPH_MODE and
  PYNATIVE_MODE. After a warm-up (which also compiles the GRAPH_MODE
  graphs), the implementations of a row run interleaved, A B C, B C A, ...
  (the order rotates each round, so drift and cache effects fall on all
  alike), at least 20 rounds; the report gives median and minimum per call
  and the ratio of medians to the row's reference (its first column).
  Each call ends with ``ms.runtime.synchronize()``. GRAPH_MODE is measured
  first, in MindSpore's default configuration; PyNative afterwards with
  ``ms.runtime.launch_blocking()`` (otherwise its asynchronous pipeline
  makes medians jump in 4 ms steps on 2 cores).
- The memory-bandwidth floor: NumPy ``((p - t) ** 2).mean()`` and a NumPy
  copy of the two input arrays (reads and writes the same bytes a loss
  reads once).
- Compile latency: whole processes (``losscc compile``, ``python -c "import
  mindspore"``), and the first GRAPH_MODE call of a freshly loaded cell.
- Fusion: GRAPH_MODE, losscc cells without and with ``fuse=True``; the
  unfused graphs are compiled before fusion is switched on (it is
  process-wide), and the script checks that they were not rebuilt fused.

The prose of docs/performance.md lives here (TEMPLATE, WHY), so that
regenerating the file keeps it; its numbers are filled in from the run.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

os.environ.setdefault("GLOG_v", "4")  # silence MindSpore's C++ log; before it is imported

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO / "docs" / "performance.md"

# The degree-8 Taylor polynomial of log(cosh(d)), in the formula language.
LOGCOSH8 = "d^2/2 - d^4/12 + d^6/45 - 17*d^8/2520"

import mindspore as ms  # noqa: E402
import numpy as np  # noqa: E402
from mindspore import nn, ops  # noqa: E402
from mindspore.nn import LossBase  # noqa: E402

import losscc  # noqa: E402
import losscc.files  # noqa: E402
import losscc.compiler.fuse  # noqa: E402


# Hand-written references. GRAPH_MODE reads construct() from this file, so
# each is straight-line code, written the way a person would write it.
class ArticleQuartic(LossBase):
    """The seed article's section 5 class: Square(Square(base - target))."""

    def __init__(self, reduction="mean"):
        super().__init__(reduction)
        self.square = ops.Square()

    def construct(self, base, target):
        return self.get_loss(self.square(self.square(base - target)))


class PowLoss(LossBase):
    """ops.Pow(d, k): what `d ** k` becomes in MindSpore."""

    def __init__(self, exponent, reduction="mean"):
        super().__init__(reduction)
        self.pow = ops.Pow()
        self.exponent = float(exponent)

    def construct(self, base, target):
        return self.get_loss(self.pow(base - target, self.exponent))


class MulChain4(LossBase):
    """d*d*d*d, left to right: three Muls."""

    def construct(self, base, target):
        d = base - target
        return self.get_loss(d * d * d * d)


class Binary15(LossBase):
    """d^15 by left-to-right square-and-multiply (1111b): 6 ops, losscc's chain has 5."""

    def __init__(self, reduction="mean"):
        super().__init__(reduction)
        self.square = ops.Square()

    def construct(self, base, target):
        d = base - target
        d3 = self.square(d) * d
        d7 = self.square(d3) * d
        d15 = self.square(d7) * d
        return self.get_loss(d15)


class Binary64(LossBase):
    """d^64 by square-and-multiply: six Squares (the same as the shortest chain)."""

    def __init__(self, reduction="mean"):
        super().__init__(reduction)
        self.square = ops.Square()

    def construct(self, base, target):
        d = base - target
        d64 = self.square(self.square(self.square(self.square(self.square(self.square(d))))))
        return self.get_loss(d64)


class NaivePoly(LossBase):
    """sum of c_k * Pow(d, k): what a lambdify-style translation of the polynomial emits."""

    def __init__(self, reduction="mean"):
        super().__init__(reduction)
        self.pow = ops.Pow()

    def construct(self, base, target):
        d = base - target
        loss = (0.5 * self.pow(d, 2.0) - 0.08333333333333333 * self.pow(d, 4.0)
                + 0.022222222222222223 * self.pow(d, 6.0) - 0.006746031746031746 * self.pow(d, 8.0))
        return self.get_loss(loss)


@dataclass(frozen=True)
class Impl:
    label: str
    make: Callable[[], Any]  # a fresh loss cell


def compiled(formula: str) -> Impl:
    return Impl(f"losscc `{formula}`", lambda: losscc.compile(formula))


@dataclass(frozen=True)
class Row:
    key: str
    title: str
    impls: tuple[Impl, ...]  # the first is the reference


ROWS = (
    Row("square", "square(d)", (Impl("nn.MSELoss", nn.MSELoss), compiled("square(d)"),
                                Impl("nn.MSELoss again (A/A control: the noise)", nn.MSELoss))),
    Row("abs", "abs(d)", (Impl("nn.L1Loss", nn.L1Loss), compiled("abs(d)"))),
    Row("quartic", "square(square(d))",
        (Impl("the article's hand-written class", ArticleQuartic), compiled("square(square(d))"),
         Impl("ops.Pow(d, 4)", lambda: PowLoss(4)), Impl("Mul chain d*d*d*d", MulChain4))),
    Row("d15", "d^15", (Impl("ops.Pow(d, 15)", lambda: PowLoss(15)), compiled("d^15"),
                        Impl("binary method (6 ops)", Binary15))),
    Row("d64", "d^64", (Impl("ops.Pow(d, 64)", lambda: PowLoss(64)), compiled("d^64"),
                        Impl("binary method (6 Squares)", Binary64))),
    Row("logcosh", "log(cosh(d)), Taylor degree 8",
        (Impl("naive sum of c_k * ops.Pow(d, k)", NaivePoly), compiled(LOGCOSH8))),
    Row("huber", "huber(d, 1)", (Impl("nn.HuberLoss", nn.HuberLoss), compiled("huber(d, 1)"))),
    Row("smooth_l1", "smooth_l1(d, 1)",
        (Impl("nn.SmoothL1Loss (reduction mean)", lambda: nn.SmoothL1Loss(reduction="mean")),
         compiled("smooth_l1(d, 1)"))),
)

# Fused losscc cells, each timed against its unfused self and, where MindSpore
# ships the loss, against MindSpore's own cell (compiled before fusion is on).
FUSED = {
    "logcosh": (LOGCOSH8, None),
    "quartic": ("square(square(d))", None),
    "huber": ("huber(d, 1)", ("nn.HuberLoss", nn.HuberLoss)),
    "smooth_l1": ("smooth_l1(d, 1)",
                  ("nn.SmoothL1Loss", lambda: nn.SmoothL1Loss(reduction="mean"))),
}

CONFIGS = (("graph", "forward"), ("graph", "forward+backward"),
           ("pynative", "forward"), ("pynative", "forward+backward"))
MODES = {"graph": ms.GRAPH_MODE, "pynative": ms.PYNATIVE_MODE}
MODE_NAMES = {"graph": "GRAPH_MODE", "pynative": "PYNATIVE_MODE"}


@dataclass
class Timing:
    times: list[float] = field(default_factory=list)  # seconds per call

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def min(self) -> float:
        return min(self.times)


def interleaved(calls: list[Callable[[], Any]], rounds: int, warmup: int) -> list[Timing]:
    """Time each call ``rounds`` times, interleaved, the order rotating each round."""
    for call in calls:
        for _ in range(warmup):
            call()
    timings = [Timing() for _ in calls]
    n = len(calls)
    for r in range(rounds):
        for i in [(r + k) % n for k in range(n)]:
            start = time.perf_counter()
            calls[i]()
            timings[i].times.append(time.perf_counter() - start)
    return timings


def synced(fn: Callable[..., Any], *args: Any) -> Callable[[], None]:
    def call() -> None:
        fn(*args)
        ms.runtime.synchronize()
    return call


def loss_calls(cells: list[Any], pred: Any, target: Any, pass_: str) -> list[Callable[[], None]]:
    if pass_ == "forward":
        return [synced(cell, pred, target) for cell in cells]
    return [synced(ms.value_and_grad(cell, grad_position=0), pred, target) for cell in cells]


# Inputs -------------------------------------------------------------------

def make_inputs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """target ~ N(0, 1); pred = target + d with |d| in [0.5, 1.5], random sign.

    |d| stays away from 0 and from large values so that d^64 neither
    underflows into subnormals (slow on CPUs) nor overflows float32.
    """
    rng = np.random.default_rng(20240607)
    target = rng.standard_normal(n).astype(np.float32)
    d = rng.choice(np.array([-1.0, 1.0], np.float32), n) * rng.uniform(0.5, 1.5, n).astype(np.float32)
    return (target + d).astype(np.float32), target


def check_agreement(row: Row, cells: list[Any], pred: Any, target: Any) -> None:
    """All implementations of a row compute the same loss (else timing them means nothing)."""
    values = [float(cell(pred, target).asnumpy()) for cell in cells]
    for impl, value in zip(row.impls, values):
        if not np.isclose(value, values[0], rtol=1e-4):
            raise SystemExit(f"{row.title}: {impl.label} gives {value}, "
                             f"{row.impls[0].label} gives {values[0]}")


# Measurements -------------------------------------------------------------

def throughput(mode: str, pred: Any, target: Any, rounds: int, warmup: int) -> dict:
    ms.set_context(mode=MODES[mode])
    out = {}
    for row in ROWS:
        cells = [impl.make() for impl in row.impls]
        check_agreement(row, cells, pred, target)
        for pass_ in ("forward", "forward+backward"):
            out[(row.key, mode, pass_)] = interleaved(loss_calls(cells, pred, target, pass_),
                                                       rounds, warmup)
            print(f"  {MODE_NAMES[mode]:13} {pass_:16} {row.title}: " + ", ".join(
                f"{t.median * 1e3:.2f}" for t in out[(row.key, mode, pass_)]) + " ms", flush=True)
    return out


def bandwidth_floor(p: np.ndarray, t: np.ndarray, rounds: int, warmup: int) -> dict:
    out_p, out_t = np.empty_like(p), np.empty_like(t)

    def mse() -> None:
        ((p - t) ** 2).mean()

    def copy() -> None:
        np.copyto(out_p, p)
        np.copyto(out_t, t)

    mse_t, copy_t = interleaved([mse, copy], rounds, warmup)
    return {"numpy_mse": mse_t, "numpy_copy": copy_t}


def first_call_compile(pred: Any, target: Any, samples: int) -> dict:
    """The first GRAPH_MODE call of a freshly loaded cell (a new class each time)."""
    ms.set_context(mode=ms.GRAPH_MODE)
    first, load = Timing(), Timing()
    for i in range(samples):
        start = time.perf_counter()
        cell = losscc.compile("square(square(d))", name=f"FreshQuartic{i}")
        load.times.append(time.perf_counter() - start)
        start = time.perf_counter()
        cell(pred, target)
        ms.runtime.synchronize()
        first.times.append(time.perf_counter() - start)
    return {"load": load, "first_call": first}


def process(argv: list[str], cwd: Path) -> Callable[[], None]:
    """A call that runs ``argv`` as a whole process (and fails loudly if it fails)."""
    def call() -> None:
        done = subprocess.run(argv, check=False, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr}")
    return call


def compile_latency(samples: int, import_samples: int) -> dict:
    losscc_bin = Path(sys.executable).parent / "losscc"
    compile_cmd = ([str(losscc_bin)] if losscc_bin.exists()
                   else [sys.executable, "-m", "losscc"]) + ["compile", "square(square(d))"]
    with tempfile.TemporaryDirectory() as scratch:
        where = Path(scratch)
        # What the compile path imports, checked in the same kind of process.
        probe = subprocess.run(
            [sys.executable, "-c", ("import sys, io, contextlib, losscc.cli.main as c\n"
             "with contextlib.redirect_stdout(io.StringIO()): c.main(['compile', 'square(square(d))'])\n"
             "print(' '.join(m for m in ('mindspore', 'sympy', 'numpy') if m in sys.modules))")],
            cwd=where, capture_output=True, text=True, check=True)
        # Where the compile path's time goes: importing losscc, loading lark's tables.
        parts = [subprocess.run(
            [sys.executable, "-c", ("import time; t = time.perf_counter(); import losscc.cli.main\n"
             "u = time.perf_counter(); import losscc.language.grammar as p; p.parser()\n"
             "print(u - t, time.perf_counter() - u)")],
            cwd=where, capture_output=True, text=True, check=True).stdout.split()
            for _ in range(samples)]
        python, losscc_compile = interleaved(
            [process([sys.executable, "-c", "pass"], where), process(compile_cmd, where)],
            samples, 1)
        (import_mindspore,) = interleaved(
            [process([sys.executable, "-c", "import mindspore"], where)], import_samples, 1)
        out = {
            "python": python, "losscc_compile": losscc_compile,
            "import_mindspore": import_mindspore,
            "import_losscc": Timing([float(a) for a, _ in parts]),
            "build_parser": Timing([float(b) for _, b in parts]),
            "compile_imports": probe.stdout.strip() or "none of them",
            "compile_cmd": "losscc compile \"square(square(d))\"",
            "taylor": None,
        }
        from losscc.cli.main import COMMANDS

        if "taylor" in COMMANDS:  # the Taylor route, where this build has it
            (out["taylor"],) = interleaved(
                [process(compile_cmd[:-2] + ["taylor", "log(cosh(d))"], where)], samples, 1)
        return out


def fusion(pred: Any, target: Any, rounds: int, warmup: int) -> dict:
    """losscc cells without and with fuse=True, GRAPH_MODE (fusion is process-wide: last).

    The unfused graphs are compiled, and timed, before fusion is switched on.
    MindSpore keys a compiled graph by cell and arguments, not by context, so
    they stay unfused; their times before and after are both reported, which
    shows it (a recompiled graph would run at the fused speed).
    """
    ms.set_context(mode=ms.GRAPH_MODE)
    formulas = {key: formula for key, (formula, _) in FUSED.items()}
    passes = ("forward", "forward+backward")
    plain = {key: losscc.compile(f, name=f"Unfused_{key}") for key, f in formulas.items()}
    unfused = {(key, p): loss_calls([cell], pred, target, p)[0]
               for key, cell in plain.items() for p in passes}
    # MindSpore's own losses, compiled (by a first call) before fusion is switched on
    theirs = {(key, p): loss_calls([ref[1]()], pred, target, p)[0]
              for key, (_, ref) in FUSED.items() if ref for p in passes}
    for call in theirs.values():
        call()
    before = dict(zip(unfused, interleaved(list(unfused.values()), rounds, warmup)))
    start = time.perf_counter()
    fused_cells = {key: losscc.compile(f, name=f"Fused_{key}", fuse=True)
                   for key, f in formulas.items()}
    enable_s = time.perf_counter() - start
    fused, first_fused = {}, {}
    for key, cell in fused_cells.items():
        for p in passes:
            fused[(key, p)] = loss_calls([cell], pred, target, p)[0]
            start = time.perf_counter()
            fused[(key, p)]()
            first_fused[(key, p)] = time.perf_counter() - start
    kernels = losscc.compiler.fuse.scratch_dir() / "akg_kernel_meta"
    built = len(list(kernels.glob("*.so"))) if kernels.is_dir() else 0
    if built == 0:
        raise SystemExit("fuse=True built no fused kernel: nothing to compare")
    out: dict = {"enable_s": enable_s, "first_fused": first_fused, "kernels": built,
                 "before": before}
    for key in formulas:
        values = [float(c(pred, target).asnumpy()) for c in (plain[key], fused_cells[key])]
        if not np.isclose(values[0], values[1], rtol=1e-4):
            raise SystemExit(f"fused {key} gives {values[1]}, unfused {values[0]}")
        for p in passes:
            calls = [unfused[(key, p)], fused[(key, p)]]
            if (key, p) in theirs:
                calls.append(theirs[(key, p)])
            out[(key, p)] = interleaved(calls, rounds, warmup)
    return out


# log(cosh(d)) on all of R (a section of its own) -------------------------------------

LOG2 = 0.6931471805599453
SECTION_START = "<!-- section logcosh-r: written by benchmarks/run.py --only logcosh-r -->"
SECTION_END = "<!-- end of section logcosh-r -->"


class NaiveLogCosh(LossBase):
    """ops.log(ops.cosh(d)): what people write; inf in float32 from |d| = 89."""

    def construct(self, base, target):
        return self.get_loss(ops.log(ops.cosh(base - target)))


class StableLogCosh(LossBase):
    """|d| + softplus(-2|d|) - log 2: a stable expression, by hand."""

    def construct(self, base, target):
        a = ops.abs(base - target)
        return self.get_loss(a + ops.softplus(-2.0 * a) - 0.6931471805599453)


def logcosh_r_inputs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """target ~ N(0, 1), d ~ N(0, 4): every |d| below 80, so all three give finite losses."""
    rng = np.random.default_rng(20240607)
    target = rng.standard_normal(n).astype(np.float32)
    d = np.clip(4 * rng.standard_normal(n), -60, 60).astype(np.float32)
    return (target + d).astype(np.float32), target


def logcosh_r(n: int, rounds: int, warmup: int) -> dict:
    """The compiled log(cosh(d)) on R (--tol 1e-5) against ops.log(ops.cosh(d)) and the
    stable expression: GRAPH_MODE, PyNative, then GRAPH_MODE fused (fusion is process-wide
    and PyNative's launch_blocking cannot be undone, so this runs in a process of its own)."""
    from losscc.series import approximate

    approximation = approximate("log(cosh(d))", tol=1e-5, range=float("inf"))
    p, t = logcosh_r_inputs(n)
    pred, target = ms.Tensor(p), ms.Tensor(t)
    labels = ("losscc cell on R", "ops.log(ops.cosh(d))",
              "abs(d) + ops.softplus(-2 abs(d)) - log 2")

    def cells(fuse: bool) -> list:
        suffix = "Fused" if fuse else "Plain"
        return [approximation.program.load(f"LogCoshR{suffix}", fuse=fuse), NaiveLogCosh(),
                StableLogCosh()]

    out: dict = {"ops": approximation.program.op_count, "labels": labels, "n": n,
                 "bound": approximation.report.certified_bound}
    # where the naive loss overflows, and what the others give there
    far_p, far_t = ms.Tensor(np.float32([100.0, 1e30])), ms.Tensor(np.float32([0.0, 0.0]))
    plain = cells(False)
    out["far"] = [[float(v) for v in c(far_p, far_t).asnumpy().ravel()] for c in
                  [approximation.program.load("LogCoshRFar", reduction="none"),
                   NaiveLogCosh("none"), StableLogCosh("none")]]
    for mode in ("graph", "pynative"):
        ms.set_context(mode=MODES[mode])
        if mode == "pynative":
            ms.runtime.launch_blocking()
        values = [float(c(pred, target).asnumpy()) for c in plain]
        if not np.allclose(values, values[0], rtol=1e-4):
            raise SystemExit(f"log(cosh(d)) on R: the three disagree: {values}")
        for pass_ in ("forward", "forward+backward"):
            out[(mode, pass_)] = interleaved(loss_calls(plain, pred, target, pass_), rounds, warmup)
            print(f"  log(cosh(d)) on R, {MODE_NAMES[mode]} {pass_}: " + ", ".join(
                f"{x.median * 1e3:.2f}" for x in out[(mode, pass_)]) + " ms", flush=True)
    ms.set_context(mode=ms.GRAPH_MODE)
    fused = cells(True)  # the first cell's __init__ turns fusion on, for all three
    for pass_ in ("forward", "forward+backward"):
        out[("fused", pass_)] = interleaved(loss_calls(fused, pred, target, pass_), rounds, warmup)
        print(f"  log(cosh(d)) on R, GRAPH_MODE fused {pass_}: " + ", ".join(
            f"{x.median * 1e3:.2f}" for x in out[("fused", pass_)]) + " ms", flush=True)
    return out


def logcosh_r_section(r: dict, rounds: int, warmup: int) -> str:
    lines = [SECTION_START, "## log(cosh(d)) on all of R", "",
             f"`losscc taylor \"log(cosh(d))\" --tol 1e-5 --range inf` compiles a cell of "
             f"{r['ops']} element-wise operations whose mixed error is certified at "
             f"{r['bound']:.2g} for every float32 d (docs/approximation.md). It is timed here "
             "against `ops.log(ops.cosh(d))`, what people write, and against a stable "
             "expression written by hand, `|d| + ops.softplus(-2|d|) - log 2`, on "
             f"{r['n']:,} float32 elements with d ~ N(0, 16) clipped to |d| <= 60 (so that "
             f"all three are finite and agree), median and minimum of {rounds} interleaved "
             f"rounds after {warmup} warm-up call{'' if warmup == 1 else 's'}, ratio to the "
             "losscc cell (above 1: slower than it). GRAPH_MODE and "
             "PyNative without fusion, then GRAPH_MODE with graph-kernel fusion on (for all "
             "three: it is process-wide), in a process of its own "
             "(`python benchmarks/run.py --only logcosh-r`).", "",
             "| configuration | implementation | median ms | min ms | ratio to losscc |",
             "|---|---|---:|---:|---:|"]
    names = {("graph", "forward"): "GRAPH_MODE, forward",
             ("graph", "forward+backward"): "GRAPH_MODE, forward+backward",
             ("pynative", "forward"): "PYNATIVE_MODE, forward",
             ("pynative", "forward+backward"): "PYNATIVE_MODE, forward+backward",
             ("fused", "forward"): "GRAPH_MODE fused, forward",
             ("fused", "forward+backward"): "GRAPH_MODE fused, forward+backward"}
    for key, name in names.items():
        timings = r[key]
        for i, (label, x) in enumerate(zip(r["labels"], timings)):
            shown = f"**{label}**" if i == 0 else label
            lines.append(f"| {name if i == 0 else ''} | {shown} | {ms_(x.median)} | {ms_(x.min)} "
                         f"| {x.median / timings[0].median:.2f} |")
    far = r["far"]
    lines += ["", "The same three on d = 100 and d = 1e30 (log(cosh(d)) = 99.3069 and "
              "1e30 - 0.693): " + "; ".join(f"{label}: {v[0]:.6g}, {v[1]:.6g}"
                                            for label, v in zip(r["labels"], far))
              + ". The naive form is inf from |d| = 89 on (cosh overflows float32).", "",
              "Why: without fusion MindSpore runs one kernel per operation, each a pass over "
              "the million elements, so the cell's 32 Abs/Mul/Add/Sub cost more than the two or "
              "three transcendental kernels of the hand-written forms (and its backward pass "
              "has as many again). With fusion the cell's plain arithmetic is fused into one "
              "kernel that reads its input once; the hand-written forms, built on Log, Cosh "
              "and Softplus, gain less from fusion (compare their rows with and without it). "
              "Either way the numbers the cell computes are certified on all of R; the naive "
              "form's are not even finite there.",
              "", SECTION_END, ""]
    return "\n".join(lines)


def splice(document: str, section: str) -> str:
    """``document`` with its logcosh-r section replaced by ``section`` (appended if absent)."""
    if SECTION_START in document and SECTION_END in document:
        head, rest = document.split(SECTION_START, 1)
        _, tail = rest.split(SECTION_END, 1)
        return head + section.rstrip("\n") + tail
    return document.rstrip("\n") + "\n\n" + section


# Report -------------------------------------------------------------------

def machine() -> dict:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, check=False,
                                capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu": model, "cores": cores, "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(), "mindspore": ms.__version__,
        "numpy": np.__version__, "losscc": losscc.__version__ + (f" (git {commit})" if commit else ""),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def ms_(seconds: float) -> str:
    return f"{seconds * 1e3:.2f}"


def throughput_table(results: dict, floor: Timing, mode: str, pass_: str) -> list[str]:
    lines = [f"#### {MODE_NAMES[mode]}, {pass_}", "",
             "| loss | implementation | median ms | min ms | ratio to reference | x copy floor |",
             "|---|---|---:|---:|---:|---:|"]
    for row in ROWS:
        timings = results[(row.key, mode, pass_)]
        ref = timings[0].median
        for k, (impl, t) in enumerate(zip(row.impls, timings)):
            label = f"**{impl.label}**" if impl.label.startswith("losscc") else impl.label
            lines.append(f"| {row.title if k == 0 else ''} | {label}{' (reference)' if k == 0 else ''} "
                         f"| {ms_(t.median)} | {ms_(t.min)} | {t.median / ref:.2f} "
                         f"| {t.median / floor.median:.1f} |")
    return lines + [""]


def ratio(results: dict, key: str, mode: str, pass_: str, i: int, j: int = 0) -> float:
    t = results[(key, mode, pass_)]
    return t[i].median / t[j].median


def targets(results: dict, latency: dict, fused: dict) -> list[str]:
    def worst(key: str, i: int, j: int = 0) -> float:
        return max(ratio(results, key, m, p, i, j) for m, p in CONFIGS)

    rows = [
        ("square(d) vs nn.MSELoss", "ratio <= 1.05", worst("square", 1), lambda r: r <= 1.05),
        ("abs(d) vs nn.L1Loss", "ratio <= 1.05", worst("abs", 1), lambda r: r <= 1.05),
        ("square(square(d)) vs the article's class", "ratio <= 1.0", worst("quartic", 1),
         lambda r: r <= 1.0),
        ("square(square(d)) vs ops.Pow(d, 4)", "ratio < 1", worst("quartic", 1, 2), lambda r: r < 1.0),
        ("degree-8 log(cosh) vs naive Pow sum, forward+backward", "speed-up >= 1.5",
         min(1 / ratio(results, "logcosh", m, "forward+backward", 1) for m in MODES),
         lambda r: r >= 1.5),
        ("huber(d, 1) vs nn.HuberLoss, forward+backward, unfused", "ratio <= 1.0",
         max(ratio(results, "huber", m, "forward+backward", 1) for m in MODES),
         lambda r: r <= 1.0),
        ("smooth_l1(d, 1) vs nn.SmoothL1Loss (one fused kernel), losscc fused, GRAPH",
         "ratio <= 1.0", max(fused[("smooth_l1", p)][1].median / fused[("smooth_l1", p)][2].median
                             for p in ("forward", "forward+backward")), lambda r: r <= 1.0),
        ("smooth_l1(d, 1) vs nn.SmoothL1Loss, unfused (reported, no goal)", "-",
         worst("smooth_l1", 1), lambda r: True),
        ("`losscc compile` whole process", "<= 0.25 s", latency["losscc_compile"].median,
         lambda s: s <= 0.25),
    ]
    lines = ["| target | goal | measured (worst of the four configurations) | met |",
             "|---|---|---:|---|"]
    for what, goal, value, ok in rows:
        shown = f"{value:.3f} s" if goal.endswith(" s") else f"{value:.3f}"
        met = "" if goal == "-" else ("yes" if ok(value) else "**no**")
        lines.append(f"| {what} | {goal} | {shown} | {met} |")
    aa = max(max(ratio(results, "square", m, p, 2), 1 / ratio(results, "square", m, p, 2))
             for m, p in CONFIGS)
    lines.append(f"| A/A control: nn.MSELoss against a second nn.MSELoss | 1 (noise) "
                 f"| {aa:.2f} (the larger of a/b and b/a) | |")
    return lines + [""]


TEMPLATE = """\
# Performance

Generated by `python benchmarks/run.py{flags}` on {date}. Do not edit the
numbers by hand: rerun the script (a full run takes a few minutes on 2 cores).
{quick_note}
Machine: {cpu}, {cores} cores available, {os}. Python {python}, MindSpore
{mindspore} (CPU), NumPy {numpy}, losscc {losscc}.

Inputs: {n:,} float32 elements; target ~ N(0, 1), pred = target + d with |d| uniform in
[0.5, 1.5] and a random sign (so d^64 stays within float32 and out of subnormals).
Each implementation is checked to give the same loss before it is timed. Per call:
median and minimum over {rounds} interleaved rounds after {warmup} warm-up calls; the ratio
is the median over the row's reference (its first line), below 1 is faster. "x copy
floor" divides by the time NumPy takes to copy the two input arrays: how far a loss is
from touching its inputs once. The method is described at the top of `benchmarks/run.py`.

## Targets

{targets}
## Throughput

{tables}
## Memory-bandwidth floor (NumPy, one thread)

| operation | median ms | min ms |
|---|---:|---:|
| `((p - t) ** 2).mean()` | {np_mse} | {np_mse_min} |
| copy of p and t (`np.copyto`, same bytes) | {np_copy} | {np_copy_min} |

## Compile latency

| what | median | min |
|---|---:|---:|
| `python -c pass` (interpreter start-up) | {py_start} s | {py_start_min} s |
| `{compile_cmd}`, whole process | {lc_compile} s | {lc_compile_min} s |
| of which: `import losscc.cli.main` | {imp_lc} s | {imp_lc_min} s |
| of which: lark loading the LALR parser (the tables shipped with losscc) | {lark} s | {lark_min} s |
{taylor_row}| `python -c "import mindspore"` | {import_ms} s | {import_ms_min} s |
| `losscc.compile(...)` in a process that has MindSpore loaded (new class) | {load} s | {load_min} s |
| its first GRAPH_MODE call (graph compile + run) | {first_call} s | {first_call_min} s |

Heavy modules the `losscc compile` path imported: {compile_imports}.

## Graph-kernel fusion (`fuse=True`, GRAPH_MODE)

| loss | pass | unfused, before fusion was on | unfused | fused | fused / unfused | MindSpore's loss: ms, fused/it | fused first call |
|---|---|---:|---:|---:|---:|---:|---:|
{fusion_rows}

Median ms per call. All three columns are measured after `ms.runtime.launch_blocking()`
(switched on for PyNative above; it cannot be switched off), so they compare with each
other rather than with the GRAPH_MODE tables.

Switching fusion on (`losscc.compile(..., fuse=True)` for the first time in a process:
starting MindSpore's kernel build server and building one tiny kernel) took
{enable_s:.1f} s; the run built {kernels} fused kernels.

## Why each number is what it is

{why}
"""

WHY = {
    "square": (
        "**square(d) vs nn.MSELoss.** losscc compiles `square(d)` to what MSELoss runs: "
        "`logits - labels`, one `ops.Square`, and LossBase's `get_loss` (a cast to float32, a "
        "Mul by the weights, a ReduceMean), plus its shape check (settled at compile time in "
        "GRAPH_MODE, one tuple comparison per call in PyNative). The same kernels on the "
        "same bytes, so the ratios "
        "of medians ({square}) and of minimums ({square_min}) can differ from 1 only by "
        "measurement noise. A second `nn.MSELoss`, timed alongside as an A/A control, gives "
        "{square_aa} against the first: that is the size of the noise. On this shared 2-core "
        "machine one median moves by several percent from run to run, more in "
        "forward+backward (compare the median and min columns), so the 1.05 target is at the "
        "edge of what the measurement can resolve rather than a property of the code."),
    "abs": (
        "**abs(d) vs nn.L1Loss.** The same story with `ops.Abs`: identical operations, "
        "ratios of medians {abs}, of minimums {abs_min}."),
    "quartic": (
        "**square(square(d)).** losscc emits the article's hand-written class line for line "
        "(two Squares), so against it the ratios are noise: {quartic_article} (of minimums: "
        "{quartic_article_min}). `ops.Pow(d, 4)` "
        "is one operation, but a general power per element, dearer than two Squares: "
        "forward it takes {quartic_pow_fwd} times the hand-written class's time (GRAPH, "
        "PyNative). Forward+backward, losscc/Pow is {quartic_losscc_pow}: there the backward "
        "pass weighs in too, about the same size for both (Pow's gradient is another Pow and "
        "a Mul, two Squares' gradients are two Muls by 2x), and the numbers are as noisy as "
        "the A/A control above. The left-to-right Mul chain does three "
        "Muls instead of two Squares: {quartic_mul} against the hand-written class."),
    "d15": (
        "**d^15.** The shortest addition chain 1, 2, 4, 5, 10, 15 takes 5 operations (3 "
        "Squares, 2 Muls); the binary method (square-and-multiply on 1111b) takes 6. Each "
        "operation is one pass over a million floats, so one fewer saves about a sixth of the "
        "element-wise work, which is what the ratios losscc/binary show within the noise: "
        "{d15_binary}. `ops.Pow(d, 15)` is one operation but a slow one: losscc/Pow = "
        "{d15_pow}."),
    "d64": (
        "**d^64.** For a power of two the binary method is the shortest chain: six Squares "
        "either way, so losscc and the hand-written chain do the same work (losscc/binary: "
        "{d64_tie}, noise; of minimums {d64_tie_min}). Against `ops.Pow(d, 64)`: {d64_pow}."),
    "logcosh": (
        "**Degree-8 log(cosh(d)).** losscc evaluates the even polynomial by Horner's rule in "
        "d^2: one Square, then four Muls and three Adds/Subs (8 operations; `losscc taylor "
        "\"log(cosh(d))\"` produces the same program). The naive translation computes four "
        "`ops.Pow`, four scalings and three additions (11 operations, the four Pows the "
        "expensive ones), and its backward differentiates every Pow. Speed-up of losscc over "
        "the naive form: {logcosh}."),
    "robust": (
        "**Robust losses.** `huber(d, 1)` compiles to 9 element-wise operations (Abs, Sub, "
        "Mul, Abs, Add, Sub, Square, Mul, Add), exact in float32 for every input; nn.HuberLoss "
        "computes |d|, both branches and a Select, and its backward differentiates both "
        "branches: losscc/HuberLoss = {huber}. nn.SmoothL1Loss is one fused MindSpore kernel "
        "(forward and backward), so unfused losscc's 9 operations cannot match it: "
        "{smooth_l1}; fused (one AKG kernel for the whole chain), losscc/SmoothL1Loss = "
        "{smooth_l1_fused} (forward, forward+backward; and huber fused against "
        "nn.HuberLoss: {huber_fused})."),
    "floor": (
        "**The floor.** Copying the two inputs moves the bytes a loss must read at least once "
        "({np_copy} ms); NumPy's unfused `((p - t)**2).mean()` takes {np_mse} ms. The cheapest "
        "MindSpore loss here, losscc's `square(d)` in GRAPH_MODE forward, takes {sq_floor} "
        "times the copy: MindSpore runs one kernel per operation (Sub, Square, the weights' "
        "Mul, ReduceMean), each a pass over memory with its own launch, plus the Python call "
        "and the graph's start. That is why the number of element-wise operations, which "
        "losscc minimises, is what moves these times, and why fusion helps."),
    "latency": (
        "**Compile latency.** `losscc compile` takes {lc_compile} s as a whole process (median; "
        "{lc_compile_min} s at best). Its parts, timed separately: the interpreter's start "
        "({py_start} s), importing losscc ({imp_lc} s: its modules and lark), lark loading "
        "the LALR tables shipped with losscc ({lark} s); the rest is argparse registering every "
        "subcommand, the compile and the output. It imports neither "
        "MindSpore, SymPy nor NumPy; importing MindSpore alone takes {import_ms} s. {taylor}"
        "Loading a cell in a process that has MindSpore costs {load} s (its source compiled "
        "and run, a copy written to the cache); its first GRAPH_MODE call compiles the graph "
        "({first_call} s), once per cell."),
    "fusion": (
        "**Fusion.** With `fuse=True`, MindSpore's AKG compiles `logits - labels` and the "
        "element-wise chain into one kernel per graph that reads the inputs once and keeps "
        "intermediates in registers: fused/unfused is {fusion_fwd} forward and {fusion_bwd} "
        "forward+backward (degree-8 polynomial, square(square(d))). The price is build time: "
        "{enable_s} s once per process (the kernel build server and a first kernel), then "
        "each new graph builds its kernels at its first call (the table's last column). "
        "Fusion is a process-wide MindSpore setting and acts in GRAPH_MODE only."),
}


def why_text(results: dict, floor: dict, latency: dict, fused: dict) -> str:
    def four(key: str, i: int, j: int = 0) -> str:
        return ", ".join(f"{ratio(results, key, m, p, i, j):.2f}" for m, p in CONFIGS)

    def four_min(key: str, i: int, j: int = 0) -> str:
        return ", ".join(f"{results[(key, m, p)][i].min / results[(key, m, p)][j].min:.2f}"
                         for m, p in CONFIGS)

    def speedups(key: str) -> str:
        return ", ".join(f"{1 / ratio(results, key, m, p, 1):.2f}x" for m, p in CONFIGS)

    def fusion_ratios(pass_: str) -> str:
        return " and ".join(f"{fused[(k, pass_)][1].median / fused[(k, pass_)][0].median:.2f}"
                            for k in ("logcosh", "quartic"))

    def robust(key: str) -> str:
        return ", ".join(f"{ratio(results, key, m, p, 1):.2f}" for m, p in CONFIGS)

    copy = floor["numpy_copy"].median
    taylor = latency["taylor"]
    values = {
        "square": four("square", 1), "abs": four("abs", 1),
        "square_min": four_min("square", 1), "abs_min": four_min("abs", 1),
        "square_aa": four("square", 2),
        "quartic_article": four("quartic", 1), "quartic_article_min": four_min("quartic", 1),
        "d64_tie_min": four_min("d64", 1, 2),
        "quartic_pow_fwd": " and ".join(f"{ratio(results, 'quartic', m, 'forward', 2):.2f}"
                                        for m in MODES),
        "quartic_losscc_pow": " and ".join(
            f"{ratio(results, 'quartic', m, 'forward+backward', 1, 2):.2f}" for m in MODES),
        "quartic_mul": four("quartic", 3), "d15_pow": four("d15", 1),
        "d15_binary": four("d15", 1, 2), "d64_pow": four("d64", 1), "d64_tie": four("d64", 1, 2),
        "logcosh": speedups("logcosh"),
        "np_copy": ms_(copy), "np_mse": ms_(floor["numpy_mse"].median),
        "sq_floor": f"{results[('square', 'graph', 'forward')][1].median / copy:.1f}",
        "lc_compile": f"{latency['losscc_compile'].median:.3f}",
        "lc_compile_min": f"{latency['losscc_compile'].min:.3f}",
        "py_start": f"{latency['python'].median:.3f}",
        "imp_lc": f"{latency['import_losscc'].median:.3f}",
        "lark": f"{latency['build_parser'].median:.3f}",
        "import_ms": f"{latency['import_mindspore'].median:.2f}",
        "taylor": (f"`losscc taylor` imports SymPy and certifies the error bound: "
                   f"{taylor.median:.2f} s. " if taylor else ""),
        "load": f"{latency['load'].median:.3f}",
        "first_call": f"{latency['first_call'].median:.2f}",
        "fusion_fwd": fusion_ratios("forward"), "fusion_bwd": fusion_ratios("forward+backward"),
        "enable_s": f"{fused['enable_s']:.1f}",
        "huber": robust("huber"), "smooth_l1": robust("smooth_l1"),
        "huber_fused": " and ".join(f"{fused[('huber', p)][1].median / fused[('huber', p)][2].median:.2f}"
                                    for p in ("forward", "forward+backward")),
        "smooth_l1_fused": " and ".join(
            f"{fused[('smooth_l1', p)][1].median / fused[('smooth_l1', p)][2].median:.2f}"
            for p in ("forward", "forward+backward")),
    }
    order = ("square", "abs", "quartic", "d15", "d64", "logcosh", "robust", "floor", "latency",
             "fusion")
    note = ("Lists of four ratios are in the order GRAPH forward, GRAPH forward+backward, "
            "PyNative forward, PyNative forward+backward; a ratio a/b below 1 means a is "
            "faster.\n\n")
    return note + "\n\n".join(WHY[k].format(**values) for k in order) + "\n"


def report(args: argparse.Namespace, n: int, rounds: int, warmup: int, results: dict,
           floor: dict, latency: dict, fused: dict) -> str:
    tables = []
    for mode, pass_ in CONFIGS:
        tables += throughput_table(results, floor["numpy_copy"], mode, pass_)
    fusion_rows = []
    for key, title in (("logcosh", "degree-8 log(cosh(d))"), ("quartic", "square(square(d))"),
                       ("huber", "huber(d, 1)"), ("smooth_l1", "smooth_l1(d, 1)")):
        for pass_ in ("forward", "forward+backward"):
            unfused, fused_t, *theirs = fused[(key, pass_)]
            against = (f"{FUSED[key][1][0]} {ms_(theirs[0].median)}: "
                       f"{fused_t.median / theirs[0].median:.2f}" if theirs else "")
            fusion_rows.append(
                f"| {title} | {pass_} | {ms_(fused['before'][(key, pass_)].median)} "
                f"| {ms_(unfused.median)} | {ms_(fused_t.median)} "
                f"| {fused_t.median / unfused.median:.2f} | {against} "
                f"| {fused['first_fused'][(key, pass_)]:.2f} s |")
    flags = "".join(f" --{f}" for f in ("large", "quick") if getattr(args, f))
    info = machine()
    return TEMPLATE.format(
        flags=flags, n=n, rounds=rounds, warmup=warmup, **info,
        quick_note=("\n**Quick run (--quick): too few repetitions to publish; run without "
                    "--quick for the real numbers.**\n" if args.quick else ""),
        targets="\n".join(targets(results, latency, fused)),
        tables="\n".join(tables),
        np_mse=ms_(floor["numpy_mse"].median), np_mse_min=ms_(floor["numpy_mse"].min),
        np_copy=ms_(floor["numpy_copy"].median), np_copy_min=ms_(floor["numpy_copy"].min),
        py_start=f"{latency['python'].median:.3f}", py_start_min=f"{latency['python'].min:.3f}",
        compile_cmd=latency["compile_cmd"],
        lc_compile=f"{latency['losscc_compile'].median:.3f}",
        lc_compile_min=f"{latency['losscc_compile'].min:.3f}",
        import_ms=f"{latency['import_mindspore'].median:.2f}",
        import_ms_min=f"{latency['import_mindspore'].min:.2f}",
        load=f"{latency['load'].median:.3f}", load_min=f"{latency['load'].min:.3f}",
        first_call=f"{latency['first_call'].median:.2f}",
        first_call_min=f"{latency['first_call'].min:.2f}",
        compile_imports=latency["compile_imports"],
        imp_lc=f"{latency['import_losscc'].median:.3f}",
        imp_lc_min=f"{latency['import_losscc'].min:.3f}",
        lark=f"{latency['build_parser'].median:.3f}", lark_min=f"{latency['build_parser'].min:.3f}",
        taylor_row=(f"| `losscc taylor \"log(cosh(d))\"`, whole process | "
                    f"{latency['taylor'].median:.3f} s | {latency['taylor'].min:.3f} s |\n"
                    if latency["taylor"] else
                    "| `losscc taylor` | not in this build | |\n"),
        fusion_rows="\n".join(fusion_rows), enable_s=fused["enable_s"], kernels=fused["kernels"],
        why=why_text(results, floor, latency, fused),
    )


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large", action="store_true", help="10,000,000 elements, not 1,000,000")
    parser.add_argument("--quick", action="store_true",
                        help="few repetitions: a smoke run whose numbers are not for publishing")
    parser.add_argument("--rounds", type=int, default=None,
                        help="interleaved rounds per comparison (default 30, quick 5)")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help=f"the Markdown report (default {DEFAULT_OUTPUT.relative_to(REPO)}, "
                        "or standard output with --quick); '-' prints it")
    parser.add_argument("--only", choices=("logcosh-r",), default=None,
                        help="run one section (in this process) and replace it in the report")
    args = parser.parse_args(argv)
    if args.output is None:  # a smoke run does not replace the published numbers
        args.output = Path("-") if args.quick else DEFAULT_OUTPUT
    rounds = args.rounds or (5 if args.quick else 30)
    if rounds < 20 and not args.quick:
        parser.error("at least 20 rounds (or --quick for a smoke run)")
    warmup = 1 if args.quick else 3
    n = 10_000_000 if args.large else 1_000_000
    started = time.perf_counter()
    if args.only == "logcosh-r":
        return run_logcosh_r(args, n, rounds, warmup)
    # A private cache: the first-call and fusion numbers are not helped by earlier runs.
    cache = tempfile.TemporaryDirectory(prefix="losscc-bench-")
    os.environ["LOSSCC_CACHE_DIR"] = cache.name
    os.environ.pop("MS_COMPILER_CACHE_PATH", None)

    print("compile latency (whole processes) ...", flush=True)
    latency = compile_latency(3 if args.quick else 10, 2 if args.quick else 5)
    p, t = make_inputs(n)
    print("memory-bandwidth floor (NumPy) ...", flush=True)
    floor = bandwidth_floor(p, t, rounds, warmup)
    pred, target = ms.Tensor(p), ms.Tensor(t)
    print("throughput ...", flush=True)
    results = throughput("graph", pred, target, rounds, warmup)
    latency.update(first_call_compile(pred, target, 3 if args.quick else 5))
    ms.runtime.launch_blocking()  # PyNative only from here (it cannot be switched off)
    results.update(throughput("pynative", pred, target, rounds, warmup))
    print("graph-kernel fusion ...", flush=True)
    fused = fusion(pred, target, rounds, warmup)
    text = report(args, n, rounds, warmup, results, floor, latency, fused)
    if str(args.output) == "-":
        sys.stdout.write(text)
    else:
        losscc.files.write_atomic(args.output, text)
        print(f"wrote {args.output}")
    # log(cosh(d)) on R turns fusion on and off in its own way: a process of its own.
    print("log(cosh(d)) on all of R (a process of its own) ...", flush=True)
    subprocess.run([sys.executable, __file__, "--only", "logcosh-r", "--rounds", str(rounds),
                    "-o", str(args.output)] + (["--quick"] if args.quick else [])
                   + (["--large"] if args.large else []), check=True)
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


def run_logcosh_r(args: argparse.Namespace, n: int, rounds: int, warmup: int) -> int:
    """--only logcosh-r: that section alone, spliced into the report (or printed)."""
    cache = tempfile.TemporaryDirectory(prefix="losscc-bench-")
    os.environ["LOSSCC_CACHE_DIR"] = cache.name
    section = logcosh_r_section(logcosh_r(n, rounds, warmup), rounds, warmup)
    if str(args.output) == "-":
        sys.stdout.write(section)
    else:
        old = args.output.read_text() if args.output.exists() else ""
        losscc.files.write_atomic(args.output, splice(old, section))
        print(f"wrote the logcosh-r section of {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
