"""Models beside the network: KNN, RBF SVM (one-vs-one), gradient boosting tuned on the
training folds, soft voting, and the artist-lookup ceiling."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GridSearchCV, PredefinedSplit
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

MODELS = ("knn", "svm", "hgb")


def make_knn(cfg: Mapping[str, Any]) -> KNeighborsClassifier:
    """k-nearest neighbours (the study's k=12)."""
    return KNeighborsClassifier(n_neighbors=int(cfg["n_neighbors"]))


def make_svm(cfg: Mapping[str, Any], seed: int) -> CalibratedClassifierCV:
    """RBF support vector machine (libsvm trains it one-vs-one), with probabilities by Platt
    scaling on 5 internal folds (what ``SVC(probability=True)`` did before scikit-learn 1.9)."""
    svc = SVC(kernel="rbf", C=float(cfg["C"]), gamma=cfg["gamma"], random_state=seed)
    return CalibratedClassifierCV(svc, method="sigmoid", cv=5, ensemble=False)


def make_hgb(cfg: Mapping[str, Any], seed: int, folds: np.ndarray | None = None) -> HistGradientBoostingClassifier | GridSearchCV:
    """Histogram gradient boosting with early stopping; with ``folds`` (the training rows' CV
    fold ids), its ``grid`` is searched on those folds only, by accuracy. Settings the grid
    chose (``max_leaf_nodes``, ``l2_regularization``, ``max_depth``) are taken as given."""
    tuned = {k: cfg[k] for k in ("max_leaf_nodes", "l2_regularization", "max_depth") if k in cfg}
    estimator = HistGradientBoostingClassifier(
        **tuned,
        learning_rate=float(cfg["learning_rate"]),
        max_iter=int(cfg["max_iter"]),
        early_stopping=True,
        validation_fraction=0.15,
        n_iter_no_change=20,
        random_state=seed,
    )
    grid = {k: list(v) for k, v in cfg["grid"].items()}
    if folds is None or not grid:
        return estimator
    return GridSearchCV(estimator, grid, cv=PredefinedSplit(folds), scoring="accuracy", n_jobs=1, refit=True)


def make(name: str, cfg: Mapping[str, Any], seed: int, folds: np.ndarray | None = None) -> Any:
    """The estimator called ``name`` (one of MODELS)."""
    if name == "knn":
        return make_knn(cfg)
    if name == "svm":
        return make_svm(cfg, seed)
    if name == "hgb":
        return make_hgb(cfg, seed, folds)
    raise ValueError(f"unknown model {name!r}; expected one of {MODELS}")


def soft_vote(probas: Mapping[str, np.ndarray], members: Sequence[str]) -> np.ndarray:
    """The mean of the members' class probabilities."""
    return np.mean([probas[m] for m in members], axis=0)


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
