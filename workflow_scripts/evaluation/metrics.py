"""Test-set metrics: accuracy, macro and micro AUC-PR, per-genre precision/recall, confusion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, average_precision_score, confusion_matrix, precision_recall_fscore_support
from sklearn.preprocessing import label_binarize

from workflow_scripts.evaluation import pooling


def metrics(y_true: np.ndarray, proba: np.ndarray, classes: Sequence[str], y_pred: np.ndarray | None = None) -> dict[str, Any]:
    """All test metrics of one model; ``y_pred`` defaults to the most probable class."""
    labels = np.arange(len(classes))
    y_pred = proba.argmax(axis=1) if y_pred is None else y_pred
    onehot = label_binarize(y_true, classes=labels)
    if onehot.shape[1] == 1:  # two classes: label_binarize gives one column
        onehot = np.hstack([1 - onehot, onehot])
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "auc_pr_macro": float(average_precision_score(onehot, proba, average="macro")),
        "auc_pr_micro": float(average_precision_score(onehot, proba, average="micro")),
        "per_genre": {
            c: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for c, p, r, f, s in zip(classes, precision, recall, f1, support, strict=True)
        },
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "n": int(len(y_true)),
    }


def pool_by_artist(proba: np.ndarray, artists: Sequence[Any]) -> np.ndarray:
    """Each song's probabilities replaced by the mean over the songs of its artist in these
    rows (genres are labels of the artist); songs without an artist stay alone
    (:mod:`~workflow_scripts.evaluation.pooling`'s ``mean`` rule)."""
    return pooling.pool(proba, artists, "mean")
