"""What a trained model is measured against, and the verdict on a run.

Three reference predictors, fitted on the training rows with NumPy (float64)
and measured on the held-out rows like every model:

* the training mean: the best constant for squared error;
* the training median: the best constant for absolute error;
* least squares: a linear model with intercept (``numpy.linalg.lstsq``).

A model that does not beat the median on held-out MAE has learned nothing
from the features. How far it got is its *skill*,
``(MAE_median - MAE_model) / (MAE_median - MAE_least_squares)``: 0 for the
median's error, 1 for least squares' (above 1 beats it). A run with skill
below ``SKILL_MIN`` is reported as not converged, unless least squares
itself does not beat the median by ``SIGNAL_MIN`` (then the features say
little about the target, and the skill measures noise).

>>> import numpy as np
>>> x = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([1.0, 3.0, 5.0, 7.0])
>>> refs = references(x, y, np.array([[4.0]]), np.array([9.0]))
>>> {name: round(r["mae"], 6) for name, r in refs.items()}
{'training mean': 5.0, 'training median': 5.0, 'least squares': 0.0}
>>> round(skill(2.5, refs), 6)
0.5
>>> judge(4.5, refs).status
'not converged'
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..floats import show

# A run whose held-out MAE gets less than this fraction of the way from the training
# median's to least squares' has not converged (research: converged runs on generated
# tables reach 0.9 and more; runs stuck near their initial weights stay below 0.1).
SKILL_MIN = 0.25
# Least squares must beat the median by this fraction of its MAE for the skill to mean much.
SIGNAL_MIN = 0.05

REFERENCES = ("training mean", "training median", "least squares")


def metrics(pred: np.ndarray, y: np.ndarray) -> dict[str, Optional[float]]:
    """Held-out MAE, RMSE and max error of ``pred`` against ``y`` (None where not finite).

    >>> metrics(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
    {'mae': 1.0, 'rmse': 1.4142135623730951, 'max_error': 2.0}
    """
    err = np.abs(np.asarray(pred, np.float64).reshape(-1) - np.asarray(y, np.float64).reshape(-1))
    with np.errstate(over="ignore", invalid="ignore"):
        values = {"mae": err.mean(), "rmse": math.sqrt(np.mean(err ** 2)), "max_error": err.max()}
    return {k: (float(v) if math.isfinite(v) else None) for k, v in values.items()}


def references(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
               test_y: np.ndarray) -> dict[str, dict[str, Optional[float]]]:
    """The reference predictors' held-out metrics, by name (``REFERENCES``)."""
    y = np.asarray(train_y, np.float64)
    n = len(test_y)
    design = np.c_[np.asarray(train_x, np.float64), np.ones(len(y))]
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    held_out = np.c_[np.asarray(test_x, np.float64), np.ones(n)]
    predictions = {"training mean": np.full(n, y.mean()),
                   "training median": np.full(n, np.median(y)),
                   "least squares": held_out @ coef}
    return {name: metrics(predictions[name], test_y) for name in REFERENCES}


def skill(mae: Optional[float], refs: dict) -> Optional[float]:
    """How far ``mae`` got from the median's MAE towards least squares' (None if undefined)."""
    median, ols = refs["training median"]["mae"], refs["least squares"]["mae"]
    if mae is None or median is None or ols is None or median <= ols:
        return None
    return (median - mae) / (median - ols)


@dataclass(frozen=True)
class Verdict:
    """A run's status ("ok", "not converged"), what it rests on, and what to try."""

    status: str
    reason: str
    hint: Optional[str] = None


def judge(mae: Optional[float], refs: dict, hint: Optional[str] = None) -> Verdict:
    """The verdict on a finished, undiverged run with held-out MAE ``mae``.

    ``hint`` is what to try if it has not converged (the caller knows the options).
    """
    median, ols = refs["training median"]["mae"], refs["least squares"]["mae"]
    if mae is None or median is None or ols is None:
        return Verdict("ok", "no held-out MAE to judge by")
    if median == 0:
        return Verdict("ok", (
            "not judged: predicting the training median is already exact on every held-out "
            "row (is the target constant?)"))
    if ols > (1 - SIGNAL_MIN) * median:
        return Verdict("ok", (
            f"not judged: least squares itself (held-out MAE {show(ols, 5)}) does not beat "
            f"predicting the training median ({show(median, 5)}) by {SIGNAL_MIN:.0%}, so the "
            "features say little about the target here"))
    gained = skill(mae, refs)
    assert gained is not None
    if gained <= 0:
        return Verdict("not converged", (
            f"held-out MAE {show(mae, 5)} is no better than predicting the training median "
            f"({show(median, 5)}); least squares reaches {show(ols, 5)}"), hint)
    where = (f"{gained:.0%} of the way from predicting the training median "
             f"(MAE {show(median, 5)}) to least squares ({show(ols, 5)})")
    if gained < SKILL_MIN:
        return Verdict("not converged", f"held-out MAE {show(mae, 5)} is only {where}", hint)
    if gained > 1:
        return Verdict("ok", f"held-out MAE {show(mae, 5)}: better than least squares "
                             f"({show(ols, 5)}) and the training median ({show(median, 5)})")
    return Verdict("ok", f"held-out MAE {show(mae, 5)}: {where}")
