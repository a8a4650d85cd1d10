"""The genres stage's figure: songs per kept genre."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from workflow_scripts.core.figure_files import plt, save_figure


def genre_counts(counts: pd.DataFrame, path: str | Path) -> None:
    """Songs per kept genre."""
    fig, ax = plt.subplots(figsize=(max(6, 0.7 * len(counts) + 2), 3.8), layout="constrained")
    bars = ax.bar(counts["genre"], counts["songs"], color="tab:blue")
    ax.bar_label(bars, fontsize=8)
    ax.set_ylabel("songs")
    ax.set_title("Songs per genre after selection")
    ax.tick_params(axis="x", rotation=30)
    for label in ax.get_xticklabels():
        label.set_ha("right")
    save_figure(fig, path)
