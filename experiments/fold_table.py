"""The table the experiments print: each variant's scores as mean ± sample std over the folds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def print_table(scores: Mapping[str, Sequence[Sequence[float]]], columns: Sequence[str]) -> None:
    """Print a Markdown table: one row per variant, one ``mean ± std`` cell per column, where
    ``scores[variant]`` holds one tuple of ``len(columns)`` figures per fold."""
    print("\n| variant | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for variant, per_fold in scores.items():
        table = np.asarray(per_fold, dtype=float)
        cells = [f"{m:.4f} ± {s:.4f}" for m, s in zip(table.mean(0), table.std(0, ddof=1), strict=True)]
        print(f"| {variant} | {' | '.join(cells)} |")
