"""Stacking the text models: each block's class probabilities, out-of-fold for the training
rows and refit for the others, as features of the network and the estimators; the documents'
token counts are computed once per process (a small cache) and reused by every fit."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import FeatureUnion

from workflow_scripts.features.song_texts import text_inputs
from workflow_scripts.features.text_models import text_model
from workflow_scripts.features.tfidf_counts import TfidfCounts

_COUNTS_CACHE: dict[tuple[str, str, str], list[TfidfCounts]] = {}


def _block_counts(block: str, column: pd.Series) -> list[TfidfCounts]:
    """The counts of each vectorizer of ``text_model(block)`` over ``column``, computed once
    per process for the same texts (prepare_features calls stacked_text once per fold)."""
    vectorizer = text_model(block).named_steps["vec"]
    parts = [v for _, v in vectorizer.transformer_list] if isinstance(vectorizer, FeatureUnion) else [vectorizer]
    digest = hashlib.sha1(pd.util.hash_pandas_object(column, index=False).to_numpy().tobytes()).hexdigest()
    key = (block, repr([v.get_params() for v in parts]), digest)
    if key not in _COUNTS_CACHE:
        while len(_COUNTS_CACHE) >= 4:
            _COUNTS_CACHE.pop(next(iter(_COUNTS_CACHE)))
        _COUNTS_CACHE[key] = [TfidfCounts(v, column.tolist()) for v in parts]
    return _COUNTS_CACHE[key]


def _fit_predict(
    counts: list[TfidfCounts], lr: LogisticRegression, y: np.ndarray, fit_rows: np.ndarray, predict_rows: list[np.ndarray]
) -> list[np.ndarray]:
    """``text_model`` fit on ``fit_rows`` (labels ``y``), its probabilities for each of ``predict_rows``."""
    fitted = [c.fit(fit_rows) for c in counts]
    X = fitted[0][2] if len(counts) == 1 else sp.hstack([f[2] for f in fitted]).tocsr()
    model = clone(lr).fit(X, y)
    out = []
    for rows in predict_rows:
        parts = [c.transform(rows, kept, tfidf) for c, (kept, tfidf, _) in zip(counts, fitted, strict=True)]
        out.append(model.predict_proba(parts[0] if len(parts) == 1 else sp.hstack(parts).tocsr()))
    return out


def stacked_text(
    songs: pd.DataFrame, y: np.ndarray, train_idx: np.ndarray, other_idx: dict[str, np.ndarray], blocks: Sequence[str], seed: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Class probabilities (as 2p - 1) of one text model per block: out-of-fold for the training
    rows (5 inner folds grouped by artist, training rows only), refit on all training rows for
    the others. Returns the training block and one block per entry of ``other_idx``.

    The same numbers as ``cross_val_predict(text_model(block), ...)`` and
    ``text_model(block).fit(...)``, to the last bit (tests/test_song_features.py), without
    tokenising every document again for every fit (TfidfCounts)."""
    texts = text_inputs(songs)
    groups = songs["Artist"].astype(str).to_numpy()
    train_idx = np.asarray(train_idx)
    labels = np.unique(y[train_idx])
    encoded = np.searchsorted(labels, y[train_idx])  # as cross_val_predict encodes them
    train_parts: list[np.ndarray] = []
    other_parts: dict[str, list[np.ndarray]] = {name: [] for name in other_idx}
    inner = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed)
    for block in blocks:
        lr = text_model(block).named_steps["lr"]
        counts = _block_counts(block, texts[block])
        oof = np.zeros((len(train_idx), len(labels)))
        for fit, held_out in inner.split(train_idx, encoded, groups[train_idx]):
            (proba,) = _fit_predict(counts, lr, encoded[fit], train_idx[fit], [train_idx[held_out]])
            fold_labels = np.unique(encoded[fit])
            oof[np.ix_(held_out, fold_labels)] = proba
        train_parts.append(2 * oof - 1)
        predictions = _fit_predict(counts, lr, y[train_idx], train_idx, [np.asarray(idx) for idx in other_idx.values()])
        for name, proba in zip(other_idx, predictions, strict=True):
            other_parts[name].append(2 * proba - 1)
    return np.hstack(train_parts), {name: np.hstack(parts) for name, parts in other_parts.items()}
