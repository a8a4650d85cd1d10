"""Writing figures: matplotlib set up headless, panels in a grid, a figure saved as a PNG
atomically. The stages' figures (genres, search, evaluation) are drawn with these."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from workflow_scripts.core.fileio import atomic_path  # noqa: E402

__all__ = ["panel_grid", "plt", "save_figure"]


def panel_grid(n: int, ncols: int, width: float, height: float) -> tuple[plt.Figure, np.ndarray]:
    """``n`` panels in rows of at most ``ncols``, spaced by constrained layout (no overlaps);
    panels left over are hidden."""
    ncols = max(1, min(ncols, n))
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, layout="constrained")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    return fig, axes


def save_figure(fig: plt.Figure, path: str | Path) -> None:
    """Write ``fig`` to ``path`` as a PNG (atomically) and close it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
