"""Regenerate every file in figures/ from the figure functions of the plotting modules.

Usage: `python -m rnnlib.plots.figures [OUTDIR]` (or `make figures`). Each plotting module lists its
figures in a dict FIGURES = {"NN-name.svg": function returning a matplotlib Figure}. The SVGs are
written with a fixed hash salt and no date, so regenerating unchanged figures changes no bytes.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# The plotting modules, in the order of the notebooks that introduce their figures.
MODULES = ["rnnlib.plots.diagrams", "rnnlib.plots.gradients", "rnnlib.plots.explorer_figure", "rnnlib.plots.remedies",
           "rnnlib.plots.training", "rnnlib.plots.lstm"]

DEFAULT_OUTDIR = Path(__file__).resolve().parents[2] / "figures"


def all_figures() -> dict:
    """{file name: figure function} gathered from every module in MODULES."""
    figures = {}
    for name in MODULES:
        module = importlib.import_module(name)
        for filename, fn in module.FIGURES.items():
            if filename in figures:
                raise ValueError(f"FIGURES: {filename!r} is listed by two modules")
            figures[filename] = fn
    return figures


def main(outdir: Path = DEFAULT_OUTDIR) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    plt.rcParams["svg.hashsalt"] = "rnnlib"  # stable ids inside the SVG
    for filename, fn in sorted(all_figures().items()):
        fig = fn()
        fig.savefig(outdir / filename, metadata={"Date": None}, bbox_inches="tight")
        plt.close(fig)
        print(f"wrote {outdir / filename}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUTDIR)
