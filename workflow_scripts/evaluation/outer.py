"""Outer cross-validation: every model on each outer fold, over several seeds; the summary.

In artist-disjoint mode (``split.group_by: artist``) this is the headline evaluation: each
outer fold tests on artists that no model saw in training."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from workflow_scripts.evaluation import metrics as evaluation
from workflow_scripts.evaluation import pooling
from workflow_scripts.features import pipeline as features
from workflow_scripts.models import registry as models

log = logging.getLogger(__name__)
SCORES = ("accuracy", "auc_pr_macro", "auc_pr_micro")
# The summary's levels, in order: the key of a fold's results, and the title of its table.
LEVELS = {"song": ("models", ""), **{p.key: (p.key, f"{p.title}:\n\n") for p in pooling.POOLINGS.values()}}


def evaluate_fold(
    arrays: Mapping[str, np.ndarray],
    artist_of_row: pd.Series,
    network_params: Mapping[str, Any],
    training: Mapping[str, Any],
    settings: Mapping[str, Any],
    seeds: Sequence[int],
    ensemble: Sequence[str],
) -> dict[str, Any]:
    """Per model, one metrics dict per seed (models that are not ``seeded``: one), and the same
    pooled over each test artist's songs by each rule of :data:`pooling.POOLINGS` (under its
    ``key``: ``pooled``, ``pooled_evidence``); ``tuned``: the grids' choices."""
    from workflow_scripts.models.network import fit_network

    classes = [str(c) for c in arrays["classes"]]
    X, y, folds, train_rows = features.training_set(arrays)
    X_test, y_test = arrays["X_test"], arrays["y_test"]
    test_artists = artist_of_row.loc[arrays["row_test"]]
    results: dict[str, list[dict[str, Any]]] = {}
    pooled: dict[str, dict[str, list[dict[str, Any]]]] = {p.key: {} for p in pooling.POOLINGS.values()}
    shares = pooling.class_shares(y, len(classes))

    def record(probas: Mapping[str, np.ndarray], seed: int | None) -> None:
        for name, proba in probas.items():
            results.setdefault(name, []).append({"seed": seed, **evaluation.metrics(y_test, proba, classes)})
            for rule in pooling.POOLINGS.values():
                pooled_proba = pooling.pool(proba, test_artists.to_numpy(), rule.name, shares)
                pooled[rule.key].setdefault(name, []).append({"seed": seed, **evaluation.metrics(y_test, pooled_proba, classes)})

    first = int(seeds[0])
    fixed: dict[str, Any] = {}
    tuned: dict[str, dict[str, Any]] = {}
    for name in models.ESTIMATORS:
        if models.spec(name).seeded:
            tuned[name] = models.tuned_params(name, settings[name], first, X, y, folds)
        else:
            fixed[name] = models.fit_estimator(name, settings[name], first, X, y, folds)
    fixed["artist lookup"] = models.fit_artist_lookup(artist_of_row, train_rows, y, len(classes))
    record(models.probabilities(fixed, X_test, test_artists, ensemble, only=list(fixed)), None)
    for seed in seeds:
        network, history = fit_network(
            network_params, arrays["X_fit"], arrays["y_fit"], arrays["X_es"], arrays["y_es"], len(classes), training, int(seed)
        )
        fitted = {**fixed, "network": network}
        for name, params in tuned.items():
            fitted[name] = models.fit_estimator(name, {**settings[name], **params}, int(seed), X, y)
        seeded = [m.name for m in models.REGISTRY if m.seeded]
        probas = models.probabilities(fitted, X_test, test_artists, ensemble, only=seeded)
        record(probas, int(seed))
        log.info(
            "seed %s: %s (network: %d epochs)",
            seed,
            ", ".join(f"{name} {results[name][-1]['accuracy']:.3f}" for name in probas),
            history["epochs"],
        )
    return {"models": results, **pooled, "tuned": tuned}


def summarize(fold_results: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Mean and standard deviation over every (outer fold, seed) run, per model; also the
    spread of the per-fold means (how much the artists in a fold matter). Folds that hold
    ``pooled`` (``pooled_evidence``) results add one row per model at ``level`` "pooled"
    ("pooled_evidence"; the song-level rows: "song"), never mixed with the song-level numbers."""
    rows = []
    for k, result in enumerate(fold_results):
        for level, (key, _) in LEVELS.items():
            for model, runs in (result.get(key) or {}).items():
                for run in runs:
                    rows.append({"level": level, "model": model, "fold": k, "seed": run["seed"], **{s: run[s] for s in SCORES}})
    runs = pd.DataFrame(rows)
    keys = ["level", "model"]
    table = runs.groupby(keys)[list(SCORES)].agg(["mean", "std"])
    table.columns = [f"{score}_{stat}" for score, stat in table.columns]
    fold_means = runs.groupby([*keys, "fold"])["accuracy"].mean().groupby(keys)
    table["accuracy_fold_std"] = fold_means.std()
    table["n_folds"] = runs.groupby(keys)["fold"].nunique()
    table["n_runs"] = runs.groupby(keys).size()
    table = table.reset_index()
    table["_level"] = table["level"].map(list(LEVELS).index)
    table = table.sort_values(["_level", "accuracy_mean"], ascending=[True, False]).drop(columns="_level")
    columns = ["model", *[c for c in table.columns if c not in ("model", "level")], "level"]
    return table[columns].reset_index(drop=True)


def markdown(table: pd.DataFrame) -> str:
    """The summary as Markdown tables (song level; pooled by artist when present): mean ± std
    over outer folds and seeds."""
    parts = []
    for level, (_, title) in LEVELS.items():
        rows = table[table["level"] == level] if "level" in table.columns else table
        if rows.empty:
            continue
        lines = ["| model | accuracy | macro AUC-PR | micro AUC-PR | folds × seeds |", "|---|---|---|---|---|"]
        for row in rows.itertuples(index=False):
            cells = [f"{getattr(row, f'{s}_mean'):.3f} ± {getattr(row, f'{s}_std'):.3f}" for s in SCORES]
            lines.append(f"| {row.model} | {' | '.join(cells)} | {row.n_runs} |")
        parts.append(title + "\n".join(lines) + "\n")
    return "\n".join(parts)
