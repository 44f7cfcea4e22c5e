"""An independent NumPy reference for the tests of train/compare/parallel.

The seed article's data ("custom loss functions in MindSpore") written out again from its script,
not taken from losscc.data: ``ms.set_seed(seed)`` seeds NumPy's global
Mersenne Twister, then each sample draws x, y (uniform in [-1, 1]) and the
noise (normal, sd 0.03). losscc holds out the 40 draws after the 160
training samples. And the article's published results (its script rerun under
MindSpore 2.10, CPU).
"""
import numpy as np

# run -> (final loss, weight, bias): the article's script rerun under MindSpore 2.10 (CPU).
SEED_RESULTS = {
    "mse": (2.5267091, [1.0694228, 0.12706375], 5.1867013),
    "abs": (1.8300732, [1.2687291, -0.09565887], 3.7297544),
    "quartic": (16.992222, [0.14460069, 0.32045615], 5.6676607),
    "negmean": (-310517120.0, [-6154.175, 667.4568], -16418.32),
}


def article_rows(n, seed=0):
    """Features [x^2, y^3] and targets z of the first n draws."""
    np.random.seed(seed)
    xs, zs = [], []
    for _ in range(n):
        x = np.random.uniform(-1.0, 1.0)
        y = np.random.uniform(-1.0, 1.0)
        noise = np.random.normal(0, 0.03)
        xs.append([x ** 2, y ** 3])
        zs.append(2.0 * x ** 2 + 3.0 * y ** 3 + 5.0 + noise)
    return np.array(xs), np.array(zs)


def held_out_rows(train=160, held_out=40, seed=0):
    x, z = article_rows(train + held_out, seed)
    return x[train:], z[train:]


def linear_errors(parameters, x, z):
    """|prediction - target| of the linear model fc.weight, fc.bias on rows x, in float64."""
    w = np.asarray(parameters["fc.weight"], dtype=np.float64).reshape(-1)
    b = float(np.asarray(parameters["fc.bias"]).reshape(-1)[0])
    return np.abs(x @ w + b - z)


def assert_seed_run(result, run, rtol=1e-5):
    """A train --json result equals the article's published run (float32 printing precision)."""
    loss, weight, bias = SEED_RESULTS[run]
    np.testing.assert_allclose(result["final_loss"], loss, rtol=rtol)
    np.testing.assert_allclose(np.reshape(result["parameters"]["fc.weight"], -1), weight,
                               rtol=rtol)
    np.testing.assert_allclose(result["parameters"]["fc.bias"], [bias], rtol=rtol)


def reference_metrics(train_x, train_y, test_x, test_y):
    """Held-out MAE of the training mean, the training median and least squares, by NumPy."""
    train_x, train_y, test_x, test_y = (np.asarray(a, np.float64)
                                        for a in (train_x, train_y, test_x, test_y))
    coef, *_ = np.linalg.lstsq(np.c_[train_x, np.ones(len(train_x))], train_y, rcond=None)
    predictions = {"training mean": np.full(len(test_y), train_y.mean()),
                   "training median": np.full(len(test_y), np.median(train_y)),
                   "least squares": np.c_[test_x, np.ones(len(test_x))] @ coef}
    return {name: float(np.mean(np.abs(p - test_y))) for name, p in predictions.items()}


def split_rows(values, holdout=0.2, seed=0):
    """The training and held-out rows of a table as losscc documents its split: a seeded
    shuffle (NumPy's RandomState(seed).permutation), the first round(n * holdout) held out."""
    n = len(values)
    n_test = max(1, int(round(n * holdout)))
    order = np.random.RandomState(seed).permutation(n)
    return values[order[n_test:]], values[order[:n_test]]


def heavy_tailed_table(path, n, scale, offset, seed=0, k=3):
    """A CSV of y = offset + scale * (x . beta + Student-t(2) noise), features on their own
    offsets and scales; returns the rows written (float64), the target last."""
    rng = np.random.RandomState(seed)
    z = rng.normal(size=(n, k))
    x = rng.uniform(-100, 100, k) + 10.0 ** rng.uniform(-2, 3, k) * z
    signal = z @ rng.normal(size=k)
    signal *= 2.0 / signal.std()
    y = offset + scale * (signal + rng.standard_t(2, n))
    rows = np.c_[x, y]
    with open(path, "w") as f:
        f.write(",".join([f"x{i}" for i in range(k)] + ["y"]) + "\n")
        for row in rows:
            f.write(",".join(repr(float(v)) for v in row) + "\n")
    return rows
