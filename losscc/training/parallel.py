"""Data-parallel training on local msrun workers (``losscc train --workers N``).

MindSpore's own data parallelism, which runs on CPU too: ``msrun`` starts N
worker processes; each calls ``init()``, sets ``DATA_PARALLEL`` with
``gradients_mean=True``, and trains on its slice of every global batch. After
each backward pass the workers' gradients are averaged (an AllReduce), so all
workers take the same step and hold the same weights.

Which reductions survive the split (a global batch of N·B rows, B per worker):

* ``mean`` (and a scaled mean such as ``-mean``): the mean of the workers'
  means of equal slices IS the mean of the global batch, so N workers with
  batch B train exactly like one process with batch N·B (up to float rounding);
* ``sum``: each worker's gradient is a sum over B rows; averaging them gives
  1/N of the global batch's sum gradient, so the run is the single-process run
  with the learning rate divided by N;
* ``prod``: the product of the global batch is the product of the workers'
  products, but its gradient is not an average of theirs: nothing matches the
  single-process run;
* ``none``: the loss is not a scalar; MindSpore sums its gradient per worker,
  then averages: again 1/N of the single-process gradient, at best.

``reduction_warning`` says this for a run; the CLI prints it before launching.

msrun starts ``python`` from ``PATH``, so the venv's ``bin`` (where this
Python lives) is put first. Each worker rebuilds the same data from the same
spec and seed, draws the same global row order, and writes its result as JSON
(or, if it fails, its error); the launcher checks that the workers agree and
reports one result, or names the rank that failed and its error.

Time: MindSpore's cluster bootstrap retries at intervals of several seconds,
which ``LAUNCH_ENV`` shortens, and msrun's teardown takes seconds more after
the workers are done: the launcher stops msrun as soon as every rank has
written its result (measured on 2 CPU workers: 16-20 s before, about 7.5 s
now, for a run with 1-3 s of training; docs/training.md). The whole launch is
bounded by ``launch_timeout``: a worker that hangs leaves msrun waiting, and
losscc stops it rather than wait with it.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, replace
from typing import Callable, Optional

from ..compiler.program import Program
from ..compiler.runtime import QUIET_LEVEL
from ..errors import LossccError
from ..language.reduction import Reduction
from .options import TrainOptions
from .train import TrainResult, plan, planned_steps, progress_line

# Why a reduction does not give the single-process run when split over workers.
REDUCTION_ACROSS_WORKERS = {
    "mean": None,
    "sum": "a sum's gradient is averaged over the workers, so each step is 1/{n} of the "
           "single-process step with the same global batch (as if --lr were divided by {n})",
    "prod": "a product over the batch does not decompose into per-worker pieces whose "
            "gradients average to the global one: the run matches no single-process run",
    "none": "an unreduced loss is summed per worker and then averaged: each step is 1/{n} "
            "of the single-process step, and the printed loss is only a mean",
}

WORKER_SCRIPT = """\
# Started by losscc train --workers: one msrun worker.
import sys

from losscc.training.parallel import worker_main

sys.exit(worker_main(sys.argv[1]))
"""

# The msrun launch waits at most this long for the workers to find each other (s).
CLUSTER_TIMEOUT = 120
# MindSpore's cluster start-up retries every second instead of every few (a user's own
# settings win). MS_DISABLE_HEARTBEAT=1 saved no more time here, and without heartbeats
# msrun's scheduler cannot tell that a worker died: a failed rank left msrun waiting.
LAUNCH_ENV = {"MS_RETRY_INTERVAL_LOWER": "1", "MS_RETRY_INTERVAL_UPPER": "1"}
# The whole launch may take the cluster's time-out, this long to start and finish the
# workers, and this long per training step (PyNative's steps are the slow ones: about
# 0.03 s for a small MLP; this leaves room for a loaded machine).
START_S = 120
STEP_S = 0.25
# A rank that failed may leave the others waiting for it: they get this long to fail too (s).
FAILURE_GRACE_S = 2.0
POLL_S = 0.1  # how often the launcher looks for the ranks' results (s)


def reduction_warning(reduction: Reduction, workers: int) -> Optional[str]:
    """Why ``workers`` data-parallel workers do not reproduce one process, or None.

    >>> from losscc.language.reduction import parse_reduction
    >>> reduction_warning(parse_reduction("-mean"), 2) is None
    True
    >>> reduction_warning(parse_reduction("sum"), 2).startswith("a sum")
    True
    """
    if workers <= 1:
        return None
    text = REDUCTION_ACROSS_WORKERS[reduction.kind]
    return None if text is None else text.format(n=workers)


def train_parallel(program: Program, data_spec: dict, options: TrainOptions, workers: int,
                   rows: int, progress: Optional[Callable[[str], None]] = None) -> TrainResult:
    """Train on ``workers`` local msrun workers; the combined result of all of them.

    ``rows``, the spec's training rows, bounds the time the launch may take.
    """
    options.check()
    plan(rows, options, size=workers)  # a batch the workers cannot fill: refused before msrun
    say = progress or (lambda line: None)
    warning = reduction_warning(program.reduction, workers)
    if warning:
        say(f"warning: reduction {program.reduction} across {workers} workers: {warning}")
    bin_dir = os.path.dirname(sys.executable)
    path = bin_dir + os.pathsep + os.environ.get("PATH", "")
    msrun = shutil.which("msrun", path=path)
    if msrun is None:
        raise LossccError("--workers needs MindSpore's msrun launcher, which is not on PATH",
                          hint=f"it comes with MindSpore; looked in {bin_dir} and PATH",
                          source="options")
    work = tempfile.mkdtemp(prefix="losscc-msrun-")
    job = {"formula": program.formula, "reduction": str(program.reduction), "data": data_spec,
           "options": asdict(options), "out": work}
    with open(os.path.join(work, "job.json"), "w", encoding="utf-8") as f:
        json.dump(job, f)
    script = os.path.join(work, "losscc_worker.py")
    with open(script, "w", encoding="utf-8") as f:
        f.write(WORKER_SCRIPT)
    command = [msrun, f"--worker_num={workers}", f"--local_worker_num={workers}",
               "--master_addr=127.0.0.1", f"--master_port={_free_port()}", "--join=True",
               f"--cluster_time_out={CLUSTER_TIMEOUT}", f"--log_dir={os.path.join(work, 'logs')}",
               script, os.path.join(work, "job.json")]
    env = {**LAUNCH_ENV, **os.environ, "PATH": path}
    env.setdefault("GLOG_v", QUIET_LEVEL)  # the workers' logs: errors, for the message below
    say(f"msrun: {workers} workers, batch {options.batch_size} each "
        f"(global batch {options.batch_size * workers})")
    timeout = launch_timeout(options, rows)
    status = _launch(command, work, env, workers, timeout)
    results = [_read_result(work, rank) for rank in range(workers)]
    if status != "done" or any(r is None for r in results):
        logs = os.path.join(work, "logs")
        kept = (f"the workers' logs are kept in {logs}" if os.path.isdir(logs) else
                f"msrun stopped before the workers wrote logs; its output is kept in {work}")
        raise LossccError(_failure(work, workers, status, timeout), source="workers", hint=kept)
    result = _combine([r for r in results if r is not None], warning)
    if progress:
        every = options.log_every or max(1, result.steps // 10)
        per_epoch = max(1, result.steps // options.epochs)
        for step in range(every, result.steps + 1, every):
            progress(progress_line(step, per_epoch, result.losses[step - 1])
                     + " (mean over the workers)")
    shutil.rmtree(work, ignore_errors=True)
    return result


def launch_timeout(options: TrainOptions, rows: int) -> float:
    """How long the whole msrun launch may take, in seconds (see ``STEP_S``).

    >>> launch_timeout(TrainOptions(), 160)
    280.0
    """
    return START_S + CLUSTER_TIMEOUT + STEP_S * planned_steps(rows, options)


def _launch(command: list[str], work: str, env: dict, workers: int, timeout: float) -> str:
    """Run msrun until every rank has written its result (or an error), or ``timeout``.

    Returns "done" (every rank's result is written), "failed" (msrun ended, or a
    rank wrote its error) or "timeout". msrun is not waited for once the ranks
    are done: its teardown adds seconds, and can fail or hang on its own.
    """
    script = command[-2]
    deadline = time.monotonic() + timeout
    settled: Optional[float] = None  # when every rank had written something
    with open(os.path.join(work, "msrun.out"), "wb") as out:
        # cwd=work: MindSpore's scratch files (rank_*/, *.ir) land there, not in the user's tree.
        process = subprocess.Popen(command, cwd=work, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            while True:
                results = sum(os.path.exists(os.path.join(work, f"rank{r}.json"))
                              for r in range(workers))
                failed = any(os.path.exists(os.path.join(work, f"rank{r}.error.json"))
                             for r in range(workers))
                if results == workers:
                    return "done"
                if process.poll() is not None:
                    return "failed"
                if failed:  # the other ranks may wait for it forever: give them a moment
                    settled = settled or time.monotonic()
                    if time.monotonic() - settled > FAILURE_GRACE_S:
                        return "failed"
                if time.monotonic() > deadline:
                    return "timeout"
                time.sleep(POLL_S)
        finally:
            _stop(process, script)


def _stop(process: subprocess.Popen, script: str) -> None:
    """End msrun, its scheduler and its workers (each in a session of its own).

    The scheduler and the workers run ``script``, so they are found by it.
    """
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    for pid in _processes_running(script):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass  # already gone


def _processes_running(script: str) -> list[int]:
    """The live processes whose command line names ``script`` (Linux's /proc; none elsewhere)."""
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                arguments = f.read().split(b"\0")
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]  # after "pid (name)"
        except (OSError, IndexError):
            continue
        if script.encode() in arguments and state not in (b"Z", b"X"):  # not dead or dying
            found.append(int(entry))
    return found


def worker_main(job_path: str) -> int:
    """One msrun worker: join the cluster, train on this rank's slices, write rank<N>.json."""
    import mindspore as ms
    from mindspore.communication import get_group_size, get_rank, init

    from ..compiler.program import build
    from .data import from_spec
    from .train import train

    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    options = TrainOptions(**job["options"])
    init()
    ms.set_auto_parallel_context(parallel_mode=ms.ParallelMode.DATA_PARALLEL,
                                 gradients_mean=True)
    rank, size = get_rank(), get_group_size()
    try:
        program = build(job["formula"], job["reduction"])
        result = train(program, from_spec(job["data"]), options, shard=(rank, size),
                       progress=lambda line: print(f"[rank {rank}] {line}", flush=True))
    except Exception as e:  # the launcher names this rank and its error
        message = e.message if isinstance(e, LossccError) else str(e)
        _write_json(job["out"], f"rank{rank}.error.json",
                    {"type": type(e).__name__, "message": message})
        raise
    _write_json(job["out"], f"rank{rank}.json", result.to_json())
    return 0


def _write_json(directory: str, name: str, data: dict) -> None:
    path = os.path.join(directory, name)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(path + ".tmp", path)


def _combine(results: list[TrainResult], warning: Optional[str]) -> TrainResult:
    """One result: rank 0's parameters and metrics (all ranks must agree), mean losses."""
    first = results[0]
    for other in results[1:]:
        if other.parameters != first.parameters:
            raise LossccError("the workers ended with different weights: the gradients were "
                              "not synchronised", source="workers",
                              hint="a bug or an msrun set-up problem; see the workers' logs")
    steps = min(r.steps for r in results)
    losses = [sum(r.losses[i] for r in results) / len(results) for i in range(steps)]
    notes = list(first.notes)
    notes.append(f"loss per step: the mean of the {len(results)} workers' losses on their slices")
    if warning:
        notes.append(f"reduction {first.reduction} across workers: {warning}")
    # The verdict of a rank that saw divergence (each sees only its slices' losses), else rank 0's.
    judged = next((r for r in results if r.diverged), first)
    return replace(first, steps=steps, losses=losses, time_s=max(r.time_s for r in results),
                   diverged=judged.diverged, divergence=judged.divergence, status=judged.status,
                   reason=judged.reason, hint=judged.hint, workers=len(results), notes=notes)


def _read_result(work: str, rank: int) -> Optional[TrainResult]:
    try:
        with open(os.path.join(work, f"rank{rank}.json"), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    data.pop("final_loss", None)
    data["losses"] = [float("nan") if v is None else v for v in data["losses"]]
    return TrainResult(**data)


def _free_port() -> int:
    """A TCP port nobody listens on now (msrun's scheduler binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _failure(work: str, workers: int, status: str, timeout: float) -> str:
    """What went wrong, naming each failed rank and its error."""
    head = (f"msrun did not finish within {timeout:.0f} s and was stopped" if status == "timeout"
            else "the msrun workers failed")
    problems = []
    for rank in range(workers):
        if os.path.exists(os.path.join(work, f"rank{rank}.json")):
            continue
        error = _read_error(work, rank)
        problems.append(f"rank {rank}: " + (f"{error['type']}: {error['message']}" if error
                                            else _log_tail(work, rank)))
    return head + "".join(f"\n  {p}" for p in problems)


def _read_error(work: str, rank: int) -> Optional[dict]:
    try:
        with open(os.path.join(work, f"rank{rank}.error.json"), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _log_tail(work: str, rank: int, lines: int = 8) -> str:
    """A rank that left no result and no error: the last lines of its log (or msrun's)."""
    for name in (f"worker_{rank}.log", "scheduler.log"):
        path = os.path.join(work, "logs", name)
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                tail = [line.rstrip() for line in f.readlines()[-lines:] if line.strip()]
        except OSError:
            continue
        return f"no result; {name} ends with:\n    " + "\n    ".join(tail)
    return f"no result and no log (msrun's own output is in {work}/msrun.out)"
