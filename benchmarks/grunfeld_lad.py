"""Exact least absolute deviations against least squares on Grunfeld's table, over 50 splits.

The study behind docs/training.md's choice of the Grunfeld table for the
robust losses: for S = 0..49, the split of `--data example:grunfeld --target
invest --seed S` (a fifth of the rows held out), a linear model with
intercept fitted on the training rows twice: by least squares (losscc's own
reference, ``numpy.linalg.lstsq``) and by least absolute deviations, solved
exactly as a linear programme (HiGHS, through SciPy). No network is trained:
this is what the best linear model under each loss does on held-out rows.
It prints each split's held-out MAE, on how many splits LAD's is lower, and
by how much on average.

    python benchmarks/grunfeld_lad.py          # a few seconds
"""
from __future__ import annotations

import os
import sys

import numpy as np
from scipy.optimize import linprog

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from losscc.training.data import example_path, load_csv  # noqa: E402
from losscc.training.references import metrics, references  # noqa: E402

SEEDS = range(50)


def lad(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Coefficients (features, then intercept) minimising sum |y - [x 1] b|, exactly.

    The linear programme: minimise sum(u + v) subject to [x 1] b + u - v = y,
    u, v >= 0, b free.
    """
    design = np.c_[x, np.ones(len(y))]
    n, k = design.shape
    cost = np.r_[np.zeros(k), np.ones(2 * n)]
    equalities = np.c_[design, np.eye(n), -np.eye(n)]
    bounds = [(None, None)] * k + [(0, None)] * (2 * n)
    solved = linprog(cost, A_eq=equalities, b_eq=y, bounds=bounds, method="highs")
    assert solved.status == 0, solved.message
    return solved.x[:k]


def main() -> int:
    gains = []
    print("seed  least squares            LAD")
    for seed in SEEDS:
        data = load_csv(example_path("grunfeld"), "invest", seed=seed, standardise=False)
        train_x, train_y, test_x, test_y = (np.asarray(a, np.float64) for a in (
            data.train_x, data.train_y, data.test_x, data.test_y))
        ols = references(train_x, train_y, test_x, test_y)["least squares"]["mae"]
        coef = lad(train_x, train_y)
        mae = metrics(np.c_[test_x, np.ones(len(test_y))] @ coef, test_y)["mae"]
        gains.append((ols - mae) / ols)
        print(f"{seed:4d}  {ols:13.2f}  {mae:13.2f}", flush=True)
    gains = np.array(gains)
    wins = int(np.sum(gains > 0))
    print(f"LAD has the lower held-out MAE on {wins} of {len(gains)} splits "
          f"({100 * wins / len(gains):.0f}%)")
    print(f"mean of (MAE_least_squares - MAE_LAD) / MAE_least_squares over all splits: "
          f"{100 * gains.mean():.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
