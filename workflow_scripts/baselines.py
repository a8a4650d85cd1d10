"""Models beside the network: KNN, RBF SVM (one-vs-one), and the artist-lookup ceiling."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC


def make_knn(cfg: Mapping[str, Any]) -> KNeighborsClassifier:
    """k-nearest neighbours (the study's k=12)."""
    return KNeighborsClassifier(n_neighbors=int(cfg.get("n_neighbors", 12)))


def make_svm(cfg: Mapping[str, Any], seed: int) -> SVC:
    """RBF support vector machine; libsvm trains one-vs-one, probabilities by Platt scaling."""
    return SVC(
        kernel="rbf",
        C=float(cfg.get("C", 1.0)),
        gamma=cfg.get("gamma", "scale"),
        decision_function_shape="ovo",
        probability=True,
        random_state=seed,
    )


class ArtistLookup:
    """Predict a song's genre as its artist's majority genre in training (the overall majority
    genre for an artist never seen): the ceiling of any model that encodes artist identity."""

    def fit(self, artists: pd.Series, y: np.ndarray, n_classes: int) -> ArtistLookup:
        frame = pd.DataFrame({"artist": artists.to_numpy(), "y": y})
        counts = frame.groupby(["artist", "y"]).size().unstack(fill_value=0).reindex(columns=range(n_classes), fill_value=0)
        self.table_ = counts.div(counts.sum(axis=1), axis=0)
        prior = np.bincount(y, minlength=n_classes).astype(float)
        self.prior_ = prior / prior.sum()
        return self

    def predict_proba(self, artists: pd.Series) -> np.ndarray:
        known = self.table_.reindex(artists.to_numpy())
        proba = np.array(known.to_numpy(dtype=float), copy=True)
        missing = np.isnan(proba).any(axis=1)
        proba[missing] = self.prior_
        return proba

    def predict(self, artists: pd.Series) -> np.ndarray:
        return self.predict_proba(artists).argmax(axis=1)
