"""The models, defined once: what each is, how it is fit, how it scores, how it is stored.

The rules (which baselines to train), ``evaluate``, the outer evaluation, the soft-vote
ensemble, the bundle and ``predict`` all read :data:`REGISTRY`, so a new model is one entry
here (and, for a new estimator, one ``make`` case in :mod:`workflow_scripts.models.estimators`).
Importing this module is cheap (no scikit-learn, no TensorFlow): the Snakefile reads it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Kind = Literal["network", "estimator", "ensemble", "lookup"]


@dataclass(frozen=True)
class ModelSpec:
    """One model: its name (in metrics, the bundle and ``--model-name``), kind and role."""

    name: str
    kind: Kind
    title: str
    #: retrained for every seed of ``evaluation.seeds`` in the outer evaluation
    seeded: bool = False
    #: stored in the bundle and offered by ``predict``
    in_bundle: bool = True

    @property
    def file(self) -> str:
        """Its file in the bundle (and, for estimators, under ``results/models/``)."""
        suffix = {"network": ".keras", "estimator": ".skops", "lookup": ".json", "ensemble": ""}[self.kind]
        return self.name.replace(" ", "_") + suffix if suffix else ""


REGISTRY: tuple[ModelSpec, ...] = (
    ModelSpec("network", "network", "dense network (the grid search's choice)", seeded=True),
    ModelSpec("knn", "estimator", "k-nearest neighbours"),
    ModelSpec("svm", "estimator", "RBF SVM (one-vs-one, Platt-scaled probabilities)"),
    ModelSpec("hgb", "estimator", "histogram gradient boosting (grid on the training folds)", seeded=True),
    ModelSpec("ensemble", "ensemble", "soft vote: the mean of evaluation.ensemble's probabilities", seeded=True),
    ModelSpec("artist lookup", "lookup", "the artist's majority genre in training (a ceiling, not a model of music)"),
)
NAMES: tuple[str, ...] = tuple(m.name for m in REGISTRY)
ESTIMATORS: tuple[str, ...] = tuple(m.name for m in REGISTRY if m.kind == "estimator")
#: models that may vote in the ensemble (``evaluation.ensemble``)
MEMBERS: tuple[str, ...] = tuple(m.name for m in REGISTRY if m.kind in ("network", "estimator"))
DEFAULT_MODEL = "ensemble"


def spec(name: str) -> ModelSpec:
    """The model called ``name``."""
    for model in REGISTRY:
        if model.name == name:
            return model
    raise KeyError(f"unknown model {name!r}; known: {', '.join(NAMES)}")


def fit_estimator(name: str, settings: Mapping[str, Any], seed: int, X: np.ndarray, y: np.ndarray, folds: np.ndarray | None = None) -> Any:
    """Fit the estimator ``name`` (``baselines.<name>`` settings); with ``folds``, its grid (if
    any) is searched on those training folds and the refit best estimator is returned."""
    from workflow_scripts.models import estimators as baselines

    fitted = baselines.make(name, settings, seed, folds).fit(X, y)
    return getattr(fitted, "best_estimator_", fitted)


def tuned_params(name: str, settings: Mapping[str, Any], seed: int, X: np.ndarray, y: np.ndarray, folds: np.ndarray) -> dict[str, Any]:
    """The grid's best settings of estimator ``name`` on the training folds ({} without a grid)."""
    from workflow_scripts.models import estimators as baselines

    search = baselines.make(name, settings, seed, folds)
    if not hasattr(search, "param_grid"):
        return {}
    return dict(search.fit(X, y).best_params_)


def probabilities(
    fitted: Mapping[str, Any], X: np.ndarray, artists: Any, ensemble: Sequence[str], only: Sequence[str] | None = None
) -> dict[str, np.ndarray]:
    """Each model's class probabilities on ``X`` (and the songs' ``artists`` for the lookup),
    in registry order: ``fitted`` maps names to fitted models; the ensemble averages
    ``ensemble``'s members. ``only``: just these models (and the members they need)."""
    wanted = set(NAMES if only is None else only)
    if "ensemble" in wanted:
        wanted |= set(ensemble)
    out: dict[str, np.ndarray] = {}
    for model in REGISTRY:
        if model.name not in wanted or (model.kind != "ensemble" and model.name not in fitted):
            continue
        if model.kind == "network":
            from workflow_scripts.models.network import predict_proba

            out[model.name] = predict_proba(fitted[model.name], X)
        elif model.kind == "estimator":
            out[model.name] = fitted[model.name].predict_proba(X)
        elif model.kind == "lookup":
            out[model.name] = fitted[model.name].predict_proba(artists)
        else:
            out[model.name] = np.mean([out[m] for m in ensemble], axis=0)
    if only is not None:
        out = {name: proba for name, proba in out.items() if name in set(only)}
    return out
