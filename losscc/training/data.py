"""Regression data for ``losscc train`` and ``losscc compare``.

Two sources, one shape of result (``Regression``: NumPy arrays, a training
split and a held-out split):

* the seed article's data: z = 2x² + 3y³ + 5 + noise(0, 0.03) from features
  [x², y³], x and y uniform in [-1, 1], drawn in the article's order (x, y,
  noise per sample) from NumPy's Mersenne Twister seeded like ``ms.set_seed``
  seeds it. The first ``samples`` draws are the training set (the article's
  160), the next ``held_out`` draws a fresh held-out set;
* a CSV table (a header row, numeric cells): the user's, or one shipped
  with losscc (``example:grunfeld``, see ``EXAMPLES``), split into training
  and held-out rows by a seeded shuffle. The features AND the target are
  standardised with the training rows' mean and standard deviation, so one
  optimiser setting fits every table whatever its units: the network learns
  a standardised target and the training wraps it so that its predictions,
  and so every loss's d and every metric, are in the target's own units
  (``target_mean``, ``target_std``; see ``losscc.training.nets.TargetScale``).

The article's layout (``article_layout=True``) gives each sample features of
shape (1, 2) and a label of shape (1,): the network's output is then
(batch, 1, 1) against labels (batch, 1), and ``logits - labels`` broadcasts
to (batch, batch, 1). The article's published numbers come from that layout;
the default layout gives features (2,) so prediction and label are both
(batch, 1).

>>> data = article_data(samples=160, held_out=40)
>>> data.train_x.shape, data.train_y.shape, data.test_x.shape
((160, 2), (160,), (40, 2))
>>> data.sample_shapes()
((2,), (1,))
>>> article_data(article_layout=True).sample_shapes()
((1, 2), (1,))
"""
from __future__ import annotations

import csv
import math
import os
import re
import stat
from array import array
from dataclasses import dataclass, field
from typing import NamedTuple, Optional

import numpy as np

from ..errors import LossccError, closest
from ..floats import to_float32
from ..limits import MAX_DATA_BYTES

# Tables shipped with losscc (losscc/training/examples/, source and licence in its README.md):
# --data example:NAME.
EXAMPLE_PREFIX = "example:"
EXAMPLES = {"grunfeld": "Grunfeld's investment data: 11 U.S. firms, 1935-1954 (public domain)"}

# The article's data: z = A x² + B y³ + C + noise(0, NOISE).
ARTICLE_TRUTH = {"a": 2.0, "b": 3.0, "c": 5.0}
ARTICLE_NOISE = 0.03
ARTICLE_SAMPLES = 160
ARTICLE_HELD_OUT = 40


@dataclass(frozen=True)
class Regression:
    """A regression table split into training and held-out rows (float32)."""

    name: str
    features: tuple[str, ...]
    target: str
    train_x: np.ndarray          # (n_train, k)
    train_y: np.ndarray          # (n_train,)
    test_x: np.ndarray           # (n_held_out, k)
    test_y: np.ndarray           # (n_held_out,)
    truth: Optional[dict[str, float]] = None   # the generating a, b, c when known
    article_layout: bool = False
    # Standardisation (the training rows' mean and std), if any: the network sees
    # (x - feature_mean) / feature_std and predicts target_mean + target_std * output.
    feature_mean: Optional[tuple[float, ...]] = None
    feature_std: Optional[tuple[float, ...]] = None
    target_mean: Optional[float] = None
    target_std: Optional[float] = None
    notes: tuple[str, ...] = field(default=())

    def sample_shapes(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The shape of one sample's features and of its label, as the network sees them."""
        k = self.train_x.shape[1]
        return ((1, k) if self.article_layout else (k,)), (1,)

    def shaped(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``x`` (m, k) and targets ``y`` (m,) in this data's sample layout."""
        x_shape, y_shape = self.sample_shapes()
        return x.reshape((len(x),) + x_shape), y.reshape((len(y),) + y_shape)

    def describe(self) -> dict:
        """What the data is, for reports (JSON-ready)."""
        x_shape, y_shape = self.sample_shapes()
        out = {
            "name": self.name, "features": list(self.features), "target": self.target,
            "train_rows": int(len(self.train_y)), "held_out_rows": int(len(self.test_y)),
            "layout": "article" if self.article_layout else "matching",
            "sample_shapes": {"features": list(x_shape), "label": list(y_shape)},
        }
        if self.truth is not None:
            out["truth"] = dict(self.truth)
        if self.feature_mean is not None:
            out["standardised"] = {
                "features": {"mean": list(self.feature_mean), "std": list(self.feature_std)},
                "target": {"mean": self.target_mean, "std": self.target_std}}
        return out

    def in_table_units(self, weight: np.ndarray, bias: float) -> tuple[np.ndarray, float]:
        """A linear model on standardised data (``weight``, ``bias``) in the table's own units.

        The network computes t_mean + t_std * (w . (x - f_mean) / f_std + b), so in the
        table's units the weights are t_std * w / f_std and the intercept
        t_mean + t_std * (b - sum(w * f_mean / f_std)).
        """
        w = np.asarray(weight, dtype=np.float64).reshape(-1)
        if self.feature_mean is None:
            return w, float(bias)
        f_mean, f_std = np.array(self.feature_mean), np.array(self.feature_std)
        t_mean = 0.0 if self.target_mean is None else self.target_mean
        t_std = 1.0 if self.target_std is None else self.target_std
        return t_std * w / f_std, float(t_mean + t_std * (bias - np.sum(w * f_mean / f_std)))


def article_data(samples: int = ARTICLE_SAMPLES, held_out: int = ARTICLE_HELD_OUT, seed: int = 0,
                 article_layout: bool = False) -> Regression:
    """The seed article's regression data (see the module docstring)."""
    if samples < 1 or held_out < 1:
        raise LossccError("the article's data needs at least one training and one held-out sample",
                          source="data")
    # RandomState(seed) draws exactly what the article's np.random draws after ms.set_seed(seed).
    rng = np.random.RandomState(seed)
    rows = np.empty((samples + held_out, 3))
    for i in range(samples + held_out):
        x = rng.uniform(-1.0, 1.0)
        y = rng.uniform(-1.0, 1.0)
        noise = rng.normal(0, ARTICLE_NOISE)
        rows[i] = (x, y, noise)
    x, y, noise = rows.T
    a, b, c = ARTICLE_TRUTH["a"], ARTICLE_TRUTH["b"], ARTICLE_TRUTH["c"]
    features = np.stack([x ** 2, y ** 3], axis=1).astype(np.float32)
    target = np.asarray(a * x ** 2 + b * y ** 3 + c + noise, dtype=np.float32)
    return Regression(
        name="article: z = 2x^2 + 3y^3 + 5 + noise(0, 0.03)",
        features=("x^2", "y^3"), target="z",
        train_x=features[:samples], train_y=target[:samples],
        test_x=features[samples:], test_y=target[samples:],
        truth=dict(ARTICLE_TRUTH), article_layout=article_layout,
    )


def load_csv(path: str, target: str, features: Optional[list[str]] = None, holdout: float = 0.2,
             seed: int = 0, standardise: bool = True, name: Optional[str] = None) -> Regression:
    """A CSV table: a header row, then numeric rows.

    ``target`` names the column to predict; ``features`` the columns to predict
    it from (default: all the others). ``holdout`` is the fraction of rows kept
    out of training for the metrics. ``name`` is how reports call the table
    (default: the file's name).
    """
    if not 0.0 < holdout < 1.0:
        raise LossccError(f"the held-out fraction must lie strictly between 0 and 1, not {holdout}",
                          hint="e.g. --holdout 0.2 keeps a fifth of the rows for the metrics",
                          source="data")
    text = _read_text(path)
    table = _Table(text, path)
    header = table.header
    name_of = {column: i for i, column in enumerate(header)}
    shown = name or path  # what the messages call the table
    target_col = _column(target, name_of, shown, "target")
    if features is None:
        feature_cols = [i for i in range(len(header)) if i != target_col]
    else:
        feature_cols = [_column(f, name_of, shown, "feature") for f in features]
        if target_col in feature_cols:
            raise LossccError(f"the target column {target!r} is also listed as a feature",
                              hint="a model that sees the answer learns nothing", source="data")
    if not feature_cols:
        raise LossccError(f"{shown} has no column besides the target {target!r}",
                          hint="a table needs at least one feature column", source="data")
    values = table.numbers(feature_cols + [target_col])
    n = len(values)
    n_test = max(1, int(round(n * holdout)))
    if n - n_test < 2:
        raise LossccError(f"{path} has {n} data rows: too few to train and hold some out",
                          hint="a table needs at least 3 rows", source="data")
    order = np.random.RandomState(seed).permutation(n)
    train, test = values[order[n_test:]], values[order[:n_test]]
    train_x, train_y, test_x, test_y = train[:, :-1], train[:, -1], test[:, :-1], test[:, -1]
    # The target keeps its units here: the network's output is scaled back by its statistics.
    stats = _statistics(train) if standardise else None
    if stats is not None:
        mean, std = stats[0][:-1], stats[1][:-1]
        train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    return Regression(
        name=name or os.path.basename(path), features=tuple(header[i] for i in feature_cols),
        target=header[target_col],
        train_x=train_x.astype(np.float32), train_y=train_y.astype(np.float32),
        test_x=test_x.astype(np.float32), test_y=test_y.astype(np.float32),
        feature_mean=None if stats is None else tuple(float(v) for v in stats[0][:-1]),
        feature_std=None if stats is None else tuple(float(v) for v in stats[1][:-1]),
        target_mean=None if stats is None else float(stats[0][-1]),
        target_std=None if stats is None else float(stats[1][-1]),
        notes=(("features and target standardised with the training rows' mean and std; "
                "predictions, losses and metrics are in the target's units",)
               if standardise else ()),
    )


def _statistics(train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column's mean and standard deviation over the training rows (float64).

    Values within float32's range have a float64 mean and standard deviation
    within it too (neither exceeds the largest magnitude). A constant column
    gets std 1: it is only centred.
    """
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    return mean, np.where(std > 0, std, 1.0)


def _read_text(path: str) -> str:
    """A regular file's text (at most MAX_DATA_BYTES): never a pipe or device, which could block."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise LossccError(f"{path} is not a regular file", source="data",
                                  hint="--data takes a CSV file (not a pipe or a device)")
            if st.st_size > MAX_DATA_BYTES:
                raise _too_large(path)
            # read(n) sets n bytes aside first: ask for the file's size, not for the limit
            data = f.read(st.st_size + 1)
            if len(data) > st.st_size:  # it grew meanwhile: the rest, up to the limit
                data += f.read(max(0, MAX_DATA_BYTES + 1 - len(data)))
        if len(data) > MAX_DATA_BYTES:
            raise _too_large(path)
        return data.decode("utf-8-sig")
    except FileNotFoundError:
        raise LossccError(f"no such file: {path}", hint="--data takes a CSV file with a header row",
                          source="data") from None
    except IsADirectoryError:
        raise LossccError(f"{path} is a directory", hint="--data takes a CSV file",
                          source="data") from None
    except UnicodeDecodeError as e:
        raise LossccError(f"{path} is not UTF-8 text (byte {e.start})",
                          hint="--data takes a CSV file", source="data") from None
    except OSError as e:
        raise LossccError(f"cannot read {path}: {e.strerror or e}", source="data") from None


def _too_large(path: str) -> LossccError:
    return LossccError(f"{path} is larger than {MAX_DATA_BYTES} bytes", source="data",
                       hint="losscc trains on tables that fit in memory; sample the rows")


# Line breaks as str.splitlines knows them: \r\n, or one of these.
_LINE = re.compile("([^\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]*)"
                   "(\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]|\\Z)")


_AS_NEWLINE = {ord(c): "\n" for c in "\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}


class _Table:
    """A CSV text: its header, then its data rows read as numbers, one line at a time.

    Nothing is kept per cell (a 27 MB table once took 2 GB as cell objects): the
    numbers go into one array, and a cell's position is worked out again, from
    its line, only for a message. Blank lines are skipped.
    """

    def __init__(self, text: str, path: str) -> None:
        self.text, self.path = text, path
        self._lines = (m for m in _LINE.finditer(text) if m.group(1).strip())
        first = next(self._lines, None)
        if first is None:
            raise LossccError(f"{path} is empty", hint="a CSV file starts with a header row "
                              "of names", source="data")
        cells = self._cells(first)
        self.header = [cell.text.strip() for cell in cells]
        for i, cell in enumerate(cells):
            if not self.header[i]:
                raise self._error("a column has no name", cell,
                                  hint="the first row names the columns")
            if self.header.index(self.header[i]) != i:
                raise self._error(f"the column name {self.header[i]!r} appears twice", cell)

    @property
    def shown(self) -> str:
        """The text for a message: every line break the reader knows made a \\n (messages
        count lines by \\n), offsets unchanged; built only when a message needs it."""
        return self.text.replace("\r\n", " \n").translate(_AS_NEWLINE)

    def numbers(self, cols: list[int]) -> np.ndarray:
        """The data rows' numbers in columns ``cols`` (float64, one row per data line)."""
        out = array("d")
        width = len(self.header)
        for line in self._lines:
            body = line.group(1)
            texts = body.split(",") if '"' not in body else self._texts(line)
            if len(texts) != width:
                cells = self._cells(line)
                quoted = body.count('"') % 2 == 1
                raise LossccError(
                    f"this row has {len(texts)} cells but the header names {width} columns",
                    text=self.shown, start=cells[0].start, end=cells[-1].end, source=self.path,
                    hint="losscc reads one row per line: a quoted cell cannot hold a line "
                    "break" if quoted else None)
            for c in cols:
                value = _number(texts[c])
                if not (math.isfinite(value) and math.isfinite(to_float32(value))):
                    raise self._bad_number(line, c, value)
                out.append(value)
        if not out:
            raise LossccError(f"{self.path} has a header but no data rows", source="data")
        return np.frombuffer(out, dtype=np.float64).reshape(-1, len(cols))  # no copy

    def _bad_number(self, line: "re.Match[str]", c: int, value: float) -> LossccError:
        cell = self._cells(line)[c]
        shown = cell.text.strip()
        if math.isfinite(value):  # float32, the precision MindSpore trains in, cannot hold it
            return self._error(
                f"column {self.header[c]!r} has {shown}, beyond float32's range "
                "(at most about 3.4e38), which MindSpore trains in", cell,
                hint="rescale the column (e.g. to thousands or millions of its unit), "
                "or leave it out with --features")
        what = "an empty cell" if not shown else repr(shown)
        return self._error(
            f"column {self.header[c]!r} needs numbers, but this row has {what}", cell,
            hint="every feature and target cell must be a finite number; "
            "choose other columns with --features")

    def _error(self, message: str, cell: "_Cell", hint: Optional[str] = None) -> LossccError:
        return LossccError(message, text=self.shown, start=cell.start, end=cell.end,
                           source=self.path, hint=hint)

    def _texts(self, line: "re.Match[str]") -> list[str]:
        """The cells of a line with quotes, as csv reads them."""
        try:
            return next(csv.reader([line.group(1)], strict=True))
        except csv.Error as e:  # a cell beyond csv's limit of 131072 characters, say
            raise LossccError(f"this line cannot be read as CSV: {e}", text=self.shown,
                              start=line.start(), source=self.path,
                              hint="a quoted cell ends on its own line, with a closing quote"
                              if line.group(1).count('"') % 2 else None) from None

    def _cells(self, line: "re.Match[str]") -> list["_Cell"]:
        """The cells of one line (csv quoting honoured), with their offsets in the text."""
        body, offset = line.group(1), line.start()
        cells, pos = [], 0
        for t in self._texts(line):
            found = body.find(t, pos) if t else pos
            start = found if found >= 0 else pos
            end = start + max(len(t), 1)
            cells.append(_Cell(t, offset + start, offset + end))
            comma = body.find(",", end if found >= 0 else pos)
            pos = comma + 1 if comma >= 0 else len(body)
        return cells


def _number(text: str) -> float:
    """A cell's number as CSV writers write it (NaN if it is not one): Python's float()
    also takes 1_000 and full-width digits, which no table means as numbers."""
    if "_" in text or not text.isascii():
        return math.nan
    try:
        return float(text)
    except ValueError:
        return math.nan


class _Cell(NamedTuple):
    text: str
    start: int  # offset of the cell in the file's text
    end: int


def _column(name: str, name_of: dict[str, int], path: str, role: str) -> int:
    if name in name_of:
        return name_of[name]
    guess = closest(name, list(name_of))
    raise LossccError(
        f"{path} has no column {name!r} (the {role})",
        hint=(f"did you mean {guess!r}? " if guess else "")
        + "columns: " + ", ".join(name_of), source="data")


def example_path(name: str) -> str:
    """The file of the example table ``name`` (a key of ``EXAMPLES``).

    >>> os.path.basename(example_path("grunfeld"))
    'grunfeld.csv'
    """
    if name not in EXAMPLES:
        guess = closest(name, list(EXAMPLES))
        raise LossccError(
            f"no example table {name!r}", source="data",
            hint=(f"did you mean {EXAMPLE_PREFIX}{guess}? " if guess else "")
            + "examples: " + ", ".join(EXAMPLE_PREFIX + n for n in EXAMPLES))
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "examples", f"{name}.csv")


def from_spec(spec: dict) -> Regression:
    """The data a JSON-ready spec names (how ``--workers`` hands the data to each worker).

    >>> from_spec({"kind": "article", "samples": 20, "held_out": 5}).train_x.shape
    (20, 2)
    """
    spec = dict(spec)
    kind = spec.pop("kind")
    if kind == "article":
        return article_data(**spec)
    if kind == "csv":
        return load_csv(**spec)
    if kind == "example":
        name = spec.pop("name")
        return load_csv(example_path(name), name=EXAMPLE_PREFIX + name, **spec)
    raise ValueError(f"unknown data kind {kind!r}")
