"""The stacked text features as first written (before issue #14): cross_val_predict of each
block's text model on the training rows, then a refit on all of them. The test suite checks
``song_features.stacked_text`` against it bit for bit; benchmarks/bench_features.py times it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from workflow_scripts.features import song_features


def reference_stacked_text(
    songs: pd.DataFrame,
    y: np.ndarray,
    train_idx: np.ndarray,
    other_idx: Mapping[str, np.ndarray],
    blocks: Sequence[str],
    seed: int,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Out-of-fold probabilities (as 2p - 1) of the training rows, and the refit model's for
    each of ``other_idx``, one block after the other (what ``stacked_text`` returns)."""
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

    texts = song_features.text_inputs(songs)
    groups = songs["Artist"].astype(str).to_numpy()
    train_parts: list[np.ndarray] = []
    other_parts: dict[str, list[np.ndarray]] = {name: [] for name in other_idx}
    inner = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed)
    for block in blocks:
        model = song_features.text_model(block)
        column = texts[block]
        oof = cross_val_predict(model, column.iloc[train_idx], y[train_idx], groups=groups[train_idx], cv=inner, method="predict_proba")
        train_parts.append(2 * oof - 1)
        model.fit(column.iloc[train_idx], y[train_idx])
        for name, idx in other_idx.items():
            other_parts[name].append(2 * model.predict_proba(column.iloc[idx]) - 1)
    return np.hstack(train_parts), {name: np.hstack(parts) for name, parts in other_parts.items()}
