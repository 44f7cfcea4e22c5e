"""How to train: ``TrainOptions``, with the article's settings and the table defaults.

No NumPy or MindSpore here: the command line builds its parser from these names.

>>> TrainOptions().optimizer, TrainOptions.for_table().optimizer
('momentum', 'adam')
>>> TrainOptions(seed=2**40).check()
Traceback (most recent call last):
  ...
losscc.errors.LossccError: error: --seed 1099511627776 is more than losscc's limit of 4294967295
hint: the limits are listed in docs/architecture.md
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

from .. import limits
from ..compiler.runtime import MODES, OPTIMIZERS, SCHEDULES
from ..errors import LossccError
from ..floats import float32_trouble

# The defaults for a table (--data): scale-free (losscc.training.train's docstring says why).
TABLE_DEFAULTS = {"optimizer": "adam", "lr": 0.01, "schedule": "cosine", "eps": 1e-16,
                  "batch_size": 32, "repeat": 10, "min_steps": 1000, "sink": False}


@dataclass(frozen=True)
class TrainOptions:
    """How to train: the seed article's settings by default; ``for_table()`` for a table."""

    optimizer: str = "momentum"
    lr: float = 0.01
    momentum: float = 0.6          # Momentum only
    epochs: int = 1
    repeat: int = 10               # passes over the training rows per epoch
    batch_size: int = 10           # per worker
    seed: int = 0
    mode: str = "graph"
    sink: bool = True              # dataset sink mode: MindSpore ignores it on CPU
    hidden: int = 0                # 0: linear model; N: one hidden ReLU layer of N units
    shapes: Optional[str] = None   # the compiled cell's shapes= option, when given
    log_every: Optional[int] = None  # steps between progress lines; None: ten lines a run
    schedule: str = "constant"     # the learning rate: constant, or cosine from lr to 0
    eps: float = 1e-8              # Adam only: added to the root of its second moment
    min_steps: int = 0             # more passes over the rows, if needed, to take this many steps

    @classmethod
    def for_table(cls, **changes: Any) -> "TrainOptions":
        """The defaults for a table (``TABLE_DEFAULTS``), with ``changes``.

        >>> TrainOptions.for_table(seed=3).optimizer, TrainOptions().optimizer
        ('adam', 'momentum')
        """
        return cls(**{**TABLE_DEFAULTS, **changes})

    def check(self) -> None:
        """Raise a LossccError for options that cannot train."""
        problems = [
            (self.optimizer not in OPTIMIZERS, f"unknown optimizer {self.optimizer!r}",
             "optimizers: " + ", ".join(OPTIMIZERS)),
            (self.mode not in MODES, f"unknown mode {self.mode!r}", "modes: graph, pynative"),
            (not (math.isfinite(self.lr) and self.lr > 0), "the learning rate must be positive",
             "e.g. --lr 0.01"),
            (_not_float32(self.lr), f"the learning rate {self.lr:g} is {_not_float32(self.lr)}",
             "e.g. --lr 0.01"),
            (not (math.isfinite(self.momentum) and self.momentum >= 0),
             "the momentum must be zero or positive", "e.g. --momentum 0.6"),
            (_not_float32(self.momentum),
             f"the momentum {self.momentum:g} is {_not_float32(self.momentum)}",
             "e.g. --momentum 0.6"),
            (self.schedule not in SCHEDULES, f"unknown schedule {self.schedule!r}",
             "schedules: " + ", ".join(SCHEDULES)),
            (not (math.isfinite(self.eps) and self.eps > 0), "Adam's eps must be positive", None),
            (_not_float32(self.eps), f"Adam's eps {self.eps:g} is {_not_float32(self.eps)}", None),
            *_range("--epochs", self.epochs, 1, limits.MAX_EPOCHS),
            *_range("--repeat", self.repeat, 1, limits.MAX_REPEAT),
            *_range("--batch-size", self.batch_size, 1, limits.MAX_BATCH_SIZE),
            *_range("--seed", self.seed, 0, limits.MAX_SEED),
            *_range("--hidden", self.hidden, 0, limits.MAX_HIDDEN),
            *_range("--min-steps", self.min_steps, 0, limits.MAX_STEPS),
            (self.log_every is not None and self.log_every < 0, "--log-every must be >= 0", None),
        ]
        for bad, message, hint in problems:
            if bad:
                raise LossccError(message, hint=hint, source="options")


def _range(flag: str, value: int, low: int, high: int) -> list[tuple[bool, str, Optional[str]]]:
    """The check that an integer option lies in [low, high], as a problem row of ``check``."""
    if value < low:
        lowest = "zero or positive" if low == 0 else f"at least {low}"
        return [(True, f"{flag} must be {lowest}", None)]
    return [(value > high, f"{flag} {value} is more than losscc's limit of {high}",
             "the limits are listed in docs/architecture.md")]


def _not_float32(value: float) -> Optional[str]:
    """Why a finite option value is not a float32 number MindSpore can train with, or None."""
    return float32_trouble(value) if math.isfinite(value) else None
