#!/usr/bin/env python
"""Draw docs/approximation.png: log(cosh(d)), its Taylor and Chebyshev polynomials.

    python docs/make_approximation_plot.py

Both polynomials have degree 8 and are the float32 programs losscc compiles
(evaluated with losscc's NumPy reference of the IR, in float32). Left: the
loss and the two polynomials on [-3, 3]. Right: |f - p| on a log scale, with
the radius of convergence of the Taylor series and each certified bound
over the range its report is about.
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


if __name__ == "__main__":
    main()
