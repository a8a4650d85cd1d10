"""The models, defined once: what each is, how it is fit, how it scores, how it is stored.

The rules (which baselines to train), ``evaluate``, the outer evaluation, the soft-vote
ensemble, the bundle, ``predict`` and the config schema's lists of names (checked by
tests/test_model_registry.py) all read :data:`REGISTRY`; what differs between kinds of model
(how one is fit, scores, is stored and loaded) is decided here and nowhere else. A new
estimator is one entry here and its factory in :mod:`workflow_scripts.models.estimators`.
Importing this module is cheap (no scikit-learn, no TensorFlow): the Snakefile reads it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
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
    def stored(self) -> bool:
        """Whether the bundle holds a file of it (the ensemble is computed from its members)."""
        return self.in_bundle and self.kind != "ensemble"

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
#: models ``predict`` offers (``predict.model_name``), in the bundle's order
IN_BUNDLE: tuple[str, ...] = tuple(m.name for m in REGISTRY if m.in_bundle)
DEFAULT_MODEL = "ensemble"


def spec(name: str) -> ModelSpec:
    """The model called ``name``."""
    for model in REGISTRY:
        if model.name == name:
            return model
    raise KeyError(f"unknown model {name!r}; known: {', '.join(NAMES)}")


def fit_estimator(name: str, settings: Mapping[str, Any], seed: int, X: np.ndarray, y: np.ndarray, folds: np.ndarray | None = None) -> Any:
    """Fit the estimator ``name`` (``baselines.<name>`` settings); with ``folds``, its grid (if
    any) is searched on those training folds first and the estimator is fit with its choice."""
    from workflow_scripts.models import estimators as baselines

    chosen = {} if folds is None else tuned_params(name, settings, seed, X, y, folds)
    return baselines.make(name, {**settings, **chosen}, seed).fit(X, y)


def tuned_params(name: str, settings: Mapping[str, Any], seed: int, X: np.ndarray, y: np.ndarray, folds: np.ndarray) -> dict[str, Any]:
    """The grid's best settings of estimator ``name`` on the training folds ({} without a grid)."""
    from workflow_scripts.models import estimators as baselines

    search = baselines.make(name, settings, seed, folds)
    if not hasattr(search, "param_grid"):
        return {}
    return dict(search.fit(X, y).best_params_)


def fit_artist_lookup(artist_of_row: Any, rows: np.ndarray, y: np.ndarray, n_classes: int) -> Any:
    """The artist lookup fit on the training ``rows`` (``artist_of_row``: the songs' artists,
    indexed by row id) and their labels ``y``."""
    from workflow_scripts.models.estimators import ArtistLookup

    return ArtistLookup().fit(artist_of_row.loc[rows], y, n_classes)


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
            from workflow_scripts.models.estimators import soft_vote

            out[model.name] = soft_vote(out, ensemble)
    if only is not None:
        out = {name: proba for name, proba in out.items() if name in set(only)}
    return out


def stored_for(names: Sequence[str], ensemble: Sequence[str]) -> list[str]:
    """The stored models that predicting ``names`` needs (the ensemble needs its members)."""
    out: list[str] = []
    for name in names:
        for member in [*ensemble] if spec(name).kind == "ensemble" else [name]:
            if member not in out:
                out.append(member)
    return out


def save(name: str, model: Any, target: Path) -> None:
    """Store model ``name`` at ``target`` (its :attr:`ModelSpec.file` in a bundle): for the
    network, ``model`` is its trained ``.keras`` file, copied byte for byte."""
    from workflow_scripts.core.fileio import atomic_path, write_json_atomic

    kind = spec(name).kind
    if kind == "network":
        with atomic_path(target) as tmp:
            tmp.write_bytes(Path(model).read_bytes())
    elif kind == "estimator":
        from workflow_scripts.bundle.store import save_skops

        save_skops(model, target)
    elif kind == "lookup":
        write_json_atomic(target, model.to_json())
    else:
        raise ValueError(f"model {name!r} ({kind}) is not stored")


def load(name: str, path: Path) -> Any:
    """Model ``name`` as :func:`save` stored it (already checked against its SHA-256): the
    network with ``safe_mode=True``, estimators through skops' trusted types."""
    kind = spec(name).kind
    if kind == "network":
        from workflow_scripts.models.network import configure_threads

        configure_threads(1)
        import keras

        return keras.models.load_model(path, compile=False, safe_mode=True)
    if kind == "estimator":
        from workflow_scripts.bundle.store import load_skops

        return load_skops(path)
    if kind == "lookup":
        from workflow_scripts.models.estimators import ArtistLookup

        return ArtistLookup.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
    raise ValueError(f"model {name!r} ({kind}) is not stored")
