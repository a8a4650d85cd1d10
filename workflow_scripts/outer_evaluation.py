"""Outer cross-validation: every model on each outer fold, over several seeds; the summary.

In artist-disjoint mode (``split.group_by: artist``) this is the headline evaluation: each
outer fold tests on artists that no model saw in training."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from workflow_scripts import baselines, evaluation

log = logging.getLogger(__name__)
SCORES = ("accuracy", "auc_pr_macro", "auc_pr_micro")


def evaluate_fold(
    arrays: Mapping[str, np.ndarray],
    artist_of_row: pd.Series,
    network_params: Mapping[str, Any],
    training: Mapping[str, Any],
    settings: Mapping[str, Any],
    seeds: Sequence[int],
    ensemble: Sequence[str],
) -> dict[str, list[dict[str, Any]]]:
    """Per model, one metrics dict per seed (deterministic models: one)."""
    from workflow_scripts.model import fit_network, predict_proba

    classes = [str(c) for c in arrays["classes"]]
    X = np.vstack([arrays["X_fit"], arrays["X_es"]])
    y = np.concatenate([arrays["y_fit"], arrays["y_es"]])
    folds = np.concatenate([arrays["fold_fit"], arrays["fold_es"]])
    X_test, y_test = arrays["X_test"], arrays["y_test"]
    results: dict[str, list[dict[str, Any]]] = {}

    def record(name: str, proba: np.ndarray, seed: int | None) -> None:
        results.setdefault(name, []).append({"seed": seed, **evaluation.metrics(y_test, proba, classes)})

    fixed = {"knn": baselines.make_knn(settings.get("knn", {})).fit(X, y).predict_proba(X_test)}
    fixed["svm"] = baselines.make_svm(settings.get("svm", {}), int(seeds[0])).fit(X, y).predict_proba(X_test)
    for name, proba in fixed.items():
        record(name, proba, None)
    tuned = baselines.make_hgb(settings.get("hgb", {}), int(seeds[0]), folds).fit(X, y)
    hgb_params = tuned.best_params_ if hasattr(tuned, "best_params_") else {}
    lookup = baselines.ArtistLookup().fit(artist_of_row.loc[np.concatenate([arrays["row_fit"], arrays["row_es"]])], y, len(classes))
    record("artist lookup", lookup.predict_proba(artist_of_row.loc[arrays["row_test"]]), None)
    for seed in seeds:
        network, history = fit_network(
            network_params, arrays["X_fit"], arrays["y_fit"], arrays["X_es"], arrays["y_es"], len(classes), training, int(seed)
        )
        probas = {"network": predict_proba(network, X_test), **fixed}
        hgb = baselines.make_hgb({**settings.get("hgb", {}), **hgb_params}, int(seed)).fit(X, y)
        probas["hgb"] = hgb.predict_proba(X_test)
        record("network", probas["network"], int(seed))
        record("hgb", probas["hgb"], int(seed))
        record("ensemble", baselines.soft_vote(probas, ensemble), int(seed))
        log.info(
            "seed %s: network %.3f, hgb %.3f (%d epochs)",
            seed,
            results["network"][-1]["accuracy"],
            results["hgb"][-1]["accuracy"],
            history["epochs"],
        )
    results["_hgb_params"] = [hgb_params]  # type: ignore[list-item]
    return results


def summarize(fold_results: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Mean and standard deviation over every (outer fold, seed) run, per model; also the
    spread of the per-fold means (how much the artists in a fold matter)."""
    rows = []
    for k, result in enumerate(fold_results):
        for model, runs in result["models"].items():
            for run in runs:
                rows.append({"model": model, "fold": k, "seed": run["seed"], **{s: run[s] for s in SCORES}})
    runs = pd.DataFrame(rows)
    table = runs.groupby("model")[list(SCORES)].agg(["mean", "std"])
    table.columns = [f"{score}_{stat}" for score, stat in table.columns]
    fold_means = runs.groupby(["model", "fold"])["accuracy"].mean().groupby("model")
    table["accuracy_fold_std"] = fold_means.std()
    table["n_folds"] = runs.groupby("model")["fold"].nunique()
    table["n_runs"] = runs.groupby("model").size()
    return table.sort_values("accuracy_mean", ascending=False).reset_index()


def markdown(table: pd.DataFrame) -> str:
    """The summary as a Markdown table: mean ± std over outer folds and seeds."""
    lines = ["| model | accuracy | macro AUC-PR | micro AUC-PR | folds × seeds |", "|---|---|---|---|---|"]
    for row in table.itertuples(index=False):
        cells = [f"{getattr(row, f'{s}_mean'):.3f} ± {getattr(row, f'{s}_std'):.3f}" for s in SCORES]
        lines.append(f"| {row.model} | {' | '.join(cells)} | {row.n_runs} |")
    return "\n".join(lines) + "\n"
