"""Models beside the network: KNN, RBF SVM (one-vs-one), gradient boosting tuned on the
training folds, alone or as a bag (one factory each in :data:`FACTORIES`), soft voting, and
the artist-lookup ceiling."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import BaggingClassifier, HistGradientBoostingClassifier
from sklearn.model_selection import GridSearchCV, PredefinedSplit
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC


def make_knn(cfg: Mapping[str, Any], seed: int, folds: np.ndarray | None = None) -> KNeighborsClassifier:
    """k-nearest neighbours (the study's k=12)."""
    return KNeighborsClassifier(n_neighbors=int(cfg["n_neighbors"]))


def make_svm(cfg: Mapping[str, Any], seed: int, folds: np.ndarray | None = None) -> CalibratedClassifierCV:
    """RBF support vector machine (libsvm trains it one-vs-one), with probabilities by Platt
    scaling on 5 internal folds (what ``SVC(probability=True)`` did before scikit-learn 1.9)."""
    svc = SVC(kernel="rbf", C=float(cfg["C"]), gamma=cfg["gamma"], random_state=seed)
    return CalibratedClassifierCV(svc, method="sigmoid", cv=5, ensemble=False)


def make_hgb(
    cfg: Mapping[str, Any], seed: int, folds: np.ndarray | None = None
) -> HistGradientBoostingClassifier | BaggingClassifier | GridSearchCV:
    """Histogram gradient boosting with early stopping; with ``folds`` (the training rows' CV
    fold ids), its ``grid`` is searched on those folds only, by accuracy, with one booster.
    Settings the grid chose (``max_leaf_nodes``, ``l2_regularization``, ``max_depth``) are taken
    as given. With ``bag`` > 1 (and no search) it is a bag of that many boosters, each with its
    own seed on every training row, their probabilities averaged."""
    tuned = {k: cfg[k] for k in ("max_leaf_nodes", "l2_regularization", "max_depth") if k in cfg}
    estimator = HistGradientBoostingClassifier(
        **tuned,
        learning_rate=float(cfg["learning_rate"]),
        max_iter=int(cfg["max_iter"]),
        max_features=float(cfg["max_features"]),
        early_stopping=True,
        validation_fraction=0.15,
        n_iter_no_change=20,
        random_state=seed,
    )
    grid = {k: list(v) for k, v in cfg["grid"].items()}
    if folds is not None and grid:
        return GridSearchCV(estimator, grid, cv=PredefinedSplit(folds), scoring="accuracy", n_jobs=1, refit=False)
    bag = int(cfg["bag"])
    if bag == 1:
        return estimator
    return BaggingClassifier(estimator, n_estimators=bag, max_samples=1.0, bootstrap=False, random_state=seed)


#: Each estimator of the registry (``models.registry.ESTIMATORS``): its settings
#: (``baselines.<name>``), the seed and, to search a grid on them, the training rows' CV folds.
FACTORIES: dict[str, Callable[[Mapping[str, Any], int, np.ndarray | None], Any]] = {"knn": make_knn, "svm": make_svm, "hgb": make_hgb}


def make(name: str, cfg: Mapping[str, Any], seed: int, folds: np.ndarray | None = None) -> Any:
    """The estimator called ``name`` (one of :data:`FACTORIES`)."""
    if name not in FACTORIES:
        raise ValueError(f"unknown model {name!r}; expected one of {tuple(FACTORIES)}")
    return FACTORIES[name](cfg, seed, folds)


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

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: the artists, their genre shares, the prior."""
        table = self.table_
        return {"artists": [str(a) for a in table.index], "shares": table.to_numpy(dtype=float).tolist(), "prior": self.prior_.tolist()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ArtistLookup:
        """The lookup that :meth:`to_json` wrote."""
        lookup = cls()
        n_classes = len(data["prior"])
        lookup.table_ = pd.DataFrame(
            np.asarray(data["shares"], dtype=float).reshape(-1, n_classes), index=data["artists"], columns=range(n_classes)
        )
        lookup.prior_ = np.asarray(data["prior"], dtype=float)
        return lookup
