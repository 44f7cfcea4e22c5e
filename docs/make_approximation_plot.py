#!/usr/bin/env python
"""Draw docs/approximation.png and docs/approximation-r.png.

    python docs/make_approximation_plot.py

approximation.png: log(cosh(d)), its degree-8 Taylor and Chebyshev
polynomials, as the float32 programs losscc compiles (evaluated with
losscc's NumPy reference of the IR, in float32). Left: the loss and the two
polynomials on [-3, 3]. Right: |f - p| on a log scale, with the radius of
convergence of the Taylor series and each certified bound over the range
its report is about.

approximation-r.png: the mixed error |cell - f| / max(1, |f|) over |d| from
1e-3 to float32's largest number, both on log scales, of the cell that
``losscc taylor "log(cosh(d))" --tol 1e-5 --range inf`` compiles, with its
certified bound; next to it the naive float32 ``log(cosh(d))`` (what
``ops.log(ops.cosh(d))`` computes) and a degree-16 Chebyshev polynomial on
[-3, 3]. The reference is log(cosh(d)) = |d| - log 2 + log1p(exp(-2|d|)) in
float64, which is accurate everywhere.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from losscc.ir.interpret import evaluate  # noqa: E402
from losscc.series import approximate  # noqa: E402

OUTPUT = Path(__file__).resolve().parent / "approximation.png"
OUTPUT_R = Path(__file__).resolve().parent / "approximation-r.png"
FLOAT32_MAX = float(np.finfo(np.float32).max)


def on_r() -> None:
    """approximation-r.png: the certified cell on all of R against what else there is."""
    cell = approximate("log(cosh(d))", tol=1e-5, range=math.inf)
    polynomial = approximate("log(cosh(d))", order=16, method="chebyshev", range=3)
    d = np.unique(np.concatenate([np.geomspace(1e-3, FLOAT32_MAX, 400_001),
                                  np.linspace(1e-3, 100, 400_001)]).astype(np.float32))
    d64 = d.astype(np.float64)
    exact = d64 - math.log(2) + np.log1p(np.exp(-2 * d64))

    def mixed(values: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            error = np.abs(values.astype(np.float64) - exact) / np.maximum(1, np.abs(exact))
        return np.where(np.isnan(error), np.inf, error)

    edges = np.geomspace(1e-3, FLOAT32_MAX, 501)
    which = np.clip(np.searchsorted(edges, d64) - 1, 0, len(edges) - 2)
    middles = np.sqrt(edges[:-1] * edges[1:])

    def envelope(error: np.ndarray) -> np.ndarray:
        """The largest error in each of 500 bins of |d| (what a line can show of 8e5 points)."""
        top = np.full(len(middles), np.nan)
        np.fmax.at(top, which, error)
        return top

    with np.errstate(all="ignore"):
        naive = np.log(np.cosh(d))  # float32 throughout, as ops.log(ops.cosh(d))
    ours = mixed(evaluate(cell.program.root, d=d, dtype=np.float32))
    poly = mixed(evaluate(polynomial.program.root, d=d, dtype=np.float32))
    naive_error = mixed(naive)
    bound = cell.report.certified_bound
    overflow = float(d[np.argmax(~np.isfinite(naive))])
    blowup = float(d[np.argmax(~np.isfinite(poly))])
    fig, ax = plt.subplots(figsize=(9, 4.6))
    floor = 1e-10  # an exact value (error 0) drawn at the bottom
    ax.loglog(middles, np.maximum(envelope(ours), floor), color="tab:blue", lw=1.3,
              label=f"losscc cell on R, --tol 1e-5 ({cell.program.op_count} ops)")
    ax.axhline(bound, color="tab:blue", ls="--", lw=1,
               label=f"its certified bound, for every float32 d: {bound:.2g}")
    ax.loglog(middles, np.maximum(envelope(poly), floor),
              color="tab:red", lw=1.1,
              label=f"degree-16 Chebyshev polynomial on [-3, 3] (inf from |d| = {blowup:.3g})")
    ax.loglog(middles, np.maximum(envelope(naive_error), floor), color="gray", lw=1.1,
              label=f"float32 log(cosh(d)), as ops.log(ops.cosh(d)) (inf from |d| = "
              f"{overflow:.3g})")
    for x, color in ((overflow, "gray"), (blowup, "tab:red")):
        ax.axvline(x, color=color, ls=":", lw=1)
    clip = cell.report.structure["clip"]
    ax.axvline(clip, color="tab:blue", ls=":", lw=1)
    ax.text(3e9, 1e-7, f"beyond the clip point |d| = {clip:g} (dotted) the cell is\n"
            "|d| + p(clip) = |d| - log 2, up to float32's rounding of |d|",
            color="tab:blue", fontsize=8)
    ax.set_xlim(1e-3, FLOAT32_MAX)
    ax.set_ylim(floor, 1e3)
    ax.set_xlabel("|d| (log scale, up to float32's largest number)")
    ax.set_ylabel("mixed error |p - f| / max(1, |f|)")
    ax.set_title("log(cosh(d)) on all of R, in float32 (largest error per bin of |d|)")
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(OUTPUT_R, dpi=110, metadata={"Software": None})
    print(f"wrote {os.path.relpath(OUTPUT_R)}; cell: {cell.program.op_count} ops, bound "
          f"{bound:.3g}, measured here {np.max(ours):.3g} on {d.size} points; float32 "
          f"log(cosh(d)) overflows at |d| = {overflow:.4g}, the polynomial at {blowup:.4g}")


def main() -> None:
    taylor = approximate("log(cosh(d))", order=8, range=1.5)
    chebyshev = approximate("log(cosh(d))", order=8, method="chebyshev", range=3)
    d = np.linspace(-3, 3, 2401)
    exact = np.log(np.cosh(d))
    curves = {
        "Taylor, degree 8 about 0": (taylor, "tab:red"),
        "Chebyshev, degree 8 on [-3, 3]": (chebyshev, "tab:blue"),
    }
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot(d, exact, color="black", lw=2.5, label="log(cosh(d))")
    for label, (approximation, color) in curves.items():
        values = evaluate(approximation.program.root, d=d.astype(np.float32), dtype=np.float32)
        left.plot(d, values, color=color, lw=1.3, label=label)
        error = np.abs(values.astype(np.float64) - exact)
        right.semilogy(d, np.maximum(error, 1e-12), color=color, lw=1.1, label=label)
        r, bound = approximation.report.range, approximation.report.certified_bound
        right.hlines(bound, -r, r, colors=color, linestyles="--", lw=1,
                     label=f"certified bound on [-{r:g}, {r:g}]: {bound:.2g}")
    radius = taylor.report.radius
    for ax in (left, right):
        for x in (-radius, radius):
            ax.axvline(x, color="gray", lw=0.8, ls=":")
    left.text(radius, 0.3, " radius of\n convergence\n pi/2", color="gray", fontsize=8)
    left.set_ylim(-0.5, 3.5)
    left.set_xlabel("d = prediction - target")
    left.set_title("the loss and two degree-8 polynomials")
    left.legend(fontsize=8, loc="upper center")
    right.set_ylim(1e-9, 1e2)
    right.set_xlabel("d")
    right.set_title("|f - p| of the float32 programs")
    right.legend(fontsize=7, loc="lower center")
    fig.tight_layout()
    fig.savefig(OUTPUT, dpi=110, metadata={"Software": None})  # no version stamp: reproducible
    print(f"wrote {os.path.relpath(OUTPUT)}; Taylor radius {radius:.5g}, "
          f"Taylor bound {taylor.report.certified_bound:.3g} on [-1.5, 1.5], "
          f"Chebyshev bound {chebyshev.report.certified_bound:.3g} on [-3, 3], "
          f"pi/2 = {math.pi / 2:.5g}")
    on_r()


if __name__ == "__main__":
    main()
