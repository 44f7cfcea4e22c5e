"""float32, the precision MindSpore computes losses in, and how losscc writes numbers.

Every limit of float32 that losscc checks against, and every way it turns a
number into text, is here and nowhere else.

``LossBase.get_loss`` casts a loss to float32: a constant beyond
``FLOAT32_MAX`` is inf there, one below ``FLOAT32_MIN_SUBNORMAL`` is 0.

>>> literal(2.0), literal(0.1), literal(1e-7)
('2.0', '0.1', '1e-07')
>>> show(2.0), show(-0.5), show(3.14159265), show(None)
('2', '-0.5', '3.14159', 'n/a')
"""
from __future__ import annotations

import json
import math
import struct
from typing import Any, Optional

FLOAT32_MAX = 3.4028234663852886e38  # the largest finite float32
FLOAT32_MIN_NORMAL = 2.0**-126  # the smallest normal float32 (NumPy's finfo.tiny)
FLOAT32_MIN_SUBNORMAL = 2.0**-149  # the smallest float32 above 0; below half of it, 0
FLOAT32_UNIT = 2.0**-24  # unit roundoff u: |fl(x) - x| <= u |x| for normal results


def float32_trouble(value: float) -> Optional[str]:
    """Why ``value`` cannot be a loss's constant in float32, or None if it can.

    >>> float32_trouble(1e39)
    "beyond float32's range (at most about 3.4e38)"
    >>> float32_trouble(1e-30) is None
    True
    """
    rounded = to_float32(value)  # what the cell holds: 3.40282347e38 rounds to the max
    if math.isinf(rounded):
        return "beyond float32's range (at most about 3.4e38)"
    if value != 0 and rounded == 0:
        return "0 in float32 (nothing below about 1.4e-45)"
    return None


def to_float32(value: float) -> float:
    """``value`` rounded to the nearest float32 (inf beyond its range), as a Python float.

    >>> to_float32(0.1)
    0.10000000149011612
    """
    if math.isfinite(value) and abs(value) >= 3.4028235677973366e38:  # rounds past the max
        return math.copysign(math.inf, value)
    return struct.unpack("f", struct.pack("f", value))[0]


def float32_below(value: float) -> float:
    """The float32 next below a positive float32 ``value``.

    >>> float32_below(1.0) == 1 - 2**-24
    True
    """
    (bits,) = struct.unpack("<I", struct.pack("<f", value))
    return struct.unpack("<f", struct.pack("<I", bits - 1))[0]


def literal(value: float) -> str:
    """The shortest text that reads back as the same float: numbers in generated code."""
    if value == int(value) and abs(value) < 1e16:
        return f"{int(value)}.0"
    return repr(float(value))


def show(value: Optional[float], digits: int = 6) -> str:
    """A number for people: whole numbers exactly, others to ``digits`` significant digits."""
    if value is None:
        return "n/a"
    value = float(value)
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.{digits}g}"


def show_float32(value: Optional[float]) -> str:
    """A float as MindSpore prints a float32 (NumPy's shortest round-trip), or 'n/a'.

    >>> show_float32(2.5267091)
    '2.526709'
    """
    if value is None:
        return "n/a"
    if not math.isfinite(value) or abs(value) >= 1e10:
        return f"{value:.8g}"
    import numpy as np  # only training reports print float32s: the compile path stays NumPy-free

    return str(np.float32(value))


def strict(value: Any) -> Any:
    """``value`` as strict JSON data: non-finite floats None, NumPy scalars and arrays Python.

    JSON has no NaN or Infinity (Python's json writes them anyway, and other
    tools then refuse the file), so a diverged run's inf becomes null.

    >>> strict({"loss": float("inf"), "w": [1.5, float("nan")], "n": (1, 2)})
    {'loss': None, 'w': [1.5, None], 'n': [1, 2]}
    """
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()  # a NumPy array or scalar: Python lists and numbers
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    return value


def json_text(value: Any, indent: Optional[int] = 2) -> str:
    """``value`` as strict JSON text (see ``strict``); every --json output goes through here.

    >>> json_text({"mae": float("nan")}, indent=None)
    '{"mae": null}'
    """
    return json.dumps(strict(value), indent=indent, allow_nan=False)
