"""The networks ``losscc train`` trains (imports MindSpore: load it lazily).

Module-level cells, as MindSpore's GRAPH_MODE parser prefers them: a cell
class defined inside a function resolves its names through that function's
closure, and MindSpore's parse cache can then confuse two such classes of the
same name from different functions.
"""
from __future__ import annotations

import numpy as np
from mindspore import Tensor, nn


class LinearNet(nn.Cell):
    """The seed article's network: ``fc = Dense(k, 1, 0.02, 0.02)``."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.fc = nn.Dense(k, 1, 0.02, 0.02)

    def construct(self, x):
        return self.fc(x)


class MLP(nn.Cell):
    """One hidden ReLU layer, its initial weights given (seeded by the caller)."""

    def __init__(self, w_hidden: np.ndarray, w_out: np.ndarray) -> None:
        super().__init__()
        h, k = w_hidden.shape
        self.hidden = nn.Dense(k, h, Tensor(w_hidden.astype(np.float32)), "zeros",
                               activation="relu")
        self.out = nn.Dense(h, 1, Tensor(w_out.astype(np.float32)), "zeros")

    def construct(self, x):
        return self.out(self.hidden(x))


class TargetScale(nn.Cell):
    """``prediction = mean + std * net(x)``: the network learns a standardised target.

    ``mean`` and ``std`` are the training rows' target statistics, held as
    float32 constants (not parameters: nothing trains them). The loss sees
    the prediction in the target's own units, so ``huber(d, 10)`` means 10
    units of the target whatever its scale. ``auto_prefix=False`` keeps the
    inner network's parameter names (``fc.weight``, not ``net.fc.weight``).
    """

    def __init__(self, net: nn.Cell, mean: float, std: float) -> None:
        super().__init__(auto_prefix=False)
        self.net = net
        self.mean = Tensor(np.float32(mean))
        self.std = Tensor(np.float32(std))

    def construct(self, x):
        return self.net(x) * self.std + self.mean
