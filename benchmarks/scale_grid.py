"""The scale goal of `losscc train --data`: least squares' held-out MAE, with default options.

Generated tables, written as CSV files and read back the way a user's are:
y = offset + scale * (x . beta + noise), five features on offsets in [-100, 100]
and scales 1e-2 to 1e3, noise heavy-tailed (Student-t with 2 or 3 degrees of
freedom, or 90% N(0, 1) and 10% N(0, 10^2)), signal SD twice the noise scale.
The grid: rows {300, 1000, 5000} x target scale {1e-5, 1, 1e4} x offset
{0, 5000 (5000 * scale for 1e-5)} x noise x model {linear, --hidden 16}, each
table trained with abs(d), square(d) and 0.5*square(d) + abs(d) through
losscc.training.compare with the table defaults. Least squares (NumPy, float64,
with intercept) is fitted on the same training rows and measured on the same
held-out rows. The goal: every run within 1.5x of least squares' held-out MAE.

    python benchmarks/scale_grid.py            # the whole grid (about 10 minutes on 2 cores)
    python benchmarks/scale_grid.py --quick    # rows 1000, linear, t2 noise: 18 runs

It prints one line per table and a summary; docs/training.md shows the result.
"""
from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("GLOG_v", "3")  # MindSpore's log: errors only

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from losscc.compiler.program import build  # noqa: E402
from losscc.training.compare import compare  # noqa: E402
from losscc.training.data import load_csv  # noqa: E402
from losscc.training.options import TrainOptions  # noqa: E402

LOSSES = ("abs(d)", "square(d)", "0.5*square(d) + abs(d)")
GOAL = 1.5


def table(n: int, scale: float, offset: float, noise: str, seed: int = 0) -> np.ndarray:
    """Rows of a linear table with heavy-tailed noise, the target last (float64)."""
    rng = np.random.RandomState(seed)
    k = 5
    z = rng.normal(size=(n, k))
    x = rng.uniform(-100, 100, k) + 10.0 ** rng.uniform(-2, 3, k) * z
    signal = z @ rng.normal(size=k)
    signal *= 2.0 / signal.std()
    if noise == "t2":
        e = rng.standard_t(2, n)
    elif noise == "t3":
        e = rng.standard_t(3, n)
    else:  # contaminated: 90 % N(0, 1), 10 % N(0, 10^2)
        e = np.where(rng.uniform(size=n) < 0.1, 10.0, 1.0) * rng.normal(size=n)
    return np.c_[x, offset + scale * (signal + e)]


def least_squares_mae(data) -> float:
    """Least squares on the training rows, its MAE on the held-out rows (float64)."""
    design = np.c_[data.train_x.astype(np.float64), np.ones(len(data.train_y))]
    coef, *_ = np.linalg.lstsq(design, data.train_y.astype(np.float64), rcond=None)
    pred = np.c_[data.test_x.astype(np.float64), np.ones(len(data.test_y))] @ coef
    return float(np.mean(np.abs(pred - data.test_y.astype(np.float64))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="rows 1000, linear, t2 noise only")
    args = parser.parse_args()
    rows = (1000,) if args.quick else (300, 1000, 5000)
    noises = ("t2",) if args.quick else ("t2", "t3", "contam")
    hiddens = (0,) if args.quick else (0, 16)
    programs = [build(f) for f in LOSSES]
    worst: dict[tuple, float] = {}
    runs = failures = 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for n, scale, shifted, noise, hidden in itertools.product(
                rows, (1e-5, 1.0, 1e4), (False, True), noises, hiddens):
            offset = (5000 * scale if scale < 1 else 5000.0) if shifted else 0.0
            path = os.path.join(tmp, "table.csv")
            values = table(n, scale, offset, noise)
            header = ",".join([f"x{i}" for i in range(values.shape[1] - 1)] + ["y"])
            np.savetxt(path, values, delimiter=",", header=header, comments="", fmt="%.17g")
            data = load_csv(path, "y")
            ols = least_squares_mae(data)
            result = compare(programs, data, TrainOptions.for_table(hidden=hidden))
            ratios = {r.formula: (r.held_out["mae"] or float("inf")) / ols for r in result.results}
            for loss, ratio in ratios.items():
                runs += 1
                failures += ratio > GOAL
                key = (loss, hidden)
                worst[key] = max(worst.get(key, 0.0), ratio)
            print(f"n={n:5d} scale={scale:g} offset={offset:g} noise={noise:6s} "
                  f"hidden={hidden:2d}: "
                  + "  ".join(f"{loss} {ratio:.3f}" for loss, ratio in ratios.items()), flush=True)
    print(f"\n{runs} runs in {time.perf_counter() - start:.0f} s; {failures} above {GOAL}x "
          "least squares' held-out MAE")
    for (loss, hidden), ratio in sorted(worst.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        model = "linear" if hidden == 0 else f"hidden {hidden}"
        print(f"  worst {model:9s} {loss:24s} {ratio:.3f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
