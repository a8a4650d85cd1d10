"""Grid search: train combinations over the CV folds; write and read their runs; choose one."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workflow_scripts.core.errors import UserError

log = logging.getLogger(__name__)


def train_combinations(
    arrays: Mapping[str, np.ndarray],
    combos: Sequence[Mapping[str, Any]],
    training: Mapping[str, Any],
    seed: int,
    trainers: dict[Any, Any] | None = None,
    budget: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Train each of ``combos`` once per CV fold; per fold train/validation accuracy and loss,
    epochs, seconds. Each combination's result is the same as when it is trained alone.

    Fold ``k`` is seeded with ``seed + k``. The folds share one traced network (see
    ``model.Trainer``), each starting from a fresh initialisation: the result is that of
    separate ``fit_network`` calls, without tracing the graph k times. ``trainers`` (a dict
    the caller keeps) shares the traced networks across calls, keyed by architecture.

    ``budget`` (a round of successive halving, ``strategy.Round.budget_spec``) trains with fewer
    epochs, folds or training rows; None is the full budget, the grid's own run.

    Combinations that differ only in their callbacks (early-stopping patience, learning-rate
    factor, patience, floor) compute identical epochs until their callbacks disagree; they are
    trained together up to there (``model.Trainer.fit_variants``). Their ``seconds`` and
    ``fit_seconds`` are then the shared time divided among them.
    """
    from workflow_scripts.models.network import Trainer, architecture, sharing_key
    from workflow_scripts.search.halving import apply_budget

    arrays, max_epochs = apply_budget(arrays, int(training["max_epochs"]), budget, seed)
    n_classes = len(arrays["classes"])
    n_features = int(arrays["X_fit_0"].shape[1])
    learning_rate = float(training["learning_rate"])
    trainers = {} if trainers is None else trainers
    groups: dict[Any, list[int]] = {}
    for index, params in enumerate(combos):
        groups.setdefault(sharing_key(params), []).append(index)
    results: list[dict[str, Any]] = [{"params": dict(params), "folds": []} for params in combos]
    if budget:
        for result in results:
            result["budget"] = dict(budget)
    for members in groups.values():
        trainer_key = (architecture(combos[members[0]]), n_features, n_classes, learning_rate)
        if trainer_key not in trainers:
            trainers[trainer_key] = Trainer(combos[members[0]], n_features, n_classes, learning_rate)
        trainer = trainers[trainer_key]
        for k in range(int(arrays["n_folds"])):
            start = time.perf_counter()
            scores: dict[int, dict[str, Any]] = {}
            trainer.fit_variants(
                [combos[i] for i in members],
                arrays[f"X_fit_{k}"],
                arrays[f"y_fit_{k}"],
                arrays[f"X_es_{k}"],
                arrays[f"y_es_{k}"],
                max_epochs,
                seed + k,
                _fold_scorer(arrays, k, scores),
            )
            seconds = time.perf_counter() - start
            for position, index in enumerate(members):
                fold = scores[position]
                if len(members) > 1:
                    fold["fit_seconds"] = seconds / len(members)
                fold["seconds"] = seconds / len(members)
                results[index]["folds"].append(fold)
                log.info(
                    "fold %d: train %.3f, validation %.3f, %d epochs, %.1f s",
                    k,
                    fold["train_accuracy"],
                    fold["val_accuracy"],
                    fold["epochs"],
                    fold["seconds"],
                )
    return results


def _fold_scorer(arrays: Mapping[str, np.ndarray], k: int, scores: dict[int, dict[str, Any]]) -> Callable[[int, Any, dict[str, Any]], None]:
    """Scores a trained variant on fold ``k`` (training rows and validation fold) into ``scores``."""
    from workflow_scripts.models.network import accuracy

    def score(position: int, model: Any, history: dict[str, Any]) -> None:
        train_acc, train_loss = accuracy(model, arrays[f"X_fit_{k}"], arrays[f"y_fit_{k}"])
        val_acc, val_loss = accuracy(model, arrays[f"X_val_{k}"], arrays[f"y_val_{k}"])
        scores[position] = {
            "fold": k,
            "train_accuracy": train_acc,
            "train_loss": train_loss,
            "val_accuracy": val_acc,
            "val_loss": val_loss,
            "epochs": history["epochs"],
            "fit_seconds": history["seconds"],
        }

    return score


def write_runs(path: str | Path, runs: Mapping[str, Mapping[str, Any]], timing: Mapping[str, Any]) -> None:
    """A training job's output, for one combination or many: ``{"runs": {combo id: run},
    "timing": where the job's time went}`` (a run: ``params``, ``folds``, and ``budget`` in a
    round of successive halving before the last)."""
    from workflow_scripts.core.fileio import write_json_atomic

    write_json_atomic(path, {"runs": dict(runs), "timing": dict(timing)})


def read_runs(run_files: Sequence[str | Path]) -> dict[str, dict[str, Any]]:
    """The runs by combination id, from the files of :func:`write_runs`."""
    runs: dict[str, dict[str, Any]] = {}
    for path in run_files:
        with open(path) as handle:
            content = json.load(handle)
        if not isinstance(content, dict) or not isinstance(content.get("runs"), dict):
            raise UserError(
                f"{path} is not a grid-search job's output (no 'runs'): written by an older version of the workflow?",
                f"delete {path} and run the workflow again: it retrains that job.",
            )
        runs.update(content["runs"])
    return runs


def collect(run_files: Sequence[str | Path]) -> pd.DataFrame:
    """One row per combination: its hyperparameters and mean/std of the fold scores."""
    rows = []
    for combo, run in read_runs(run_files).items():
        folds = pd.DataFrame(run["folds"])
        row: dict[str, Any] = {"combo": combo, **run["params"]}
        for metric in ("train_accuracy", "val_accuracy", "train_loss", "val_loss", "epochs", "seconds"):
            row[f"mean_{metric}"] = float(folds[metric].mean())
            row[f"std_{metric}"] = float(folds[metric].std(ddof=0))
        row["gap"] = row["mean_train_accuracy"] - row["mean_val_accuracy"]
        rows.append(row)
    if not rows:
        raise UserError("The grid search produced no runs.", "check the grid in config.yaml: every list needs at least one value.")
    return pd.DataFrame(rows).sort_values("mean_val_accuracy", ascending=False).reset_index(drop=True)


def ranked(cv: pd.DataFrame) -> pd.DataFrame:
    """The rows of a CV table best first: mean validation accuracy, then lower std, then id
    (the one tie order of the choice and of every search strategy)."""
    return cv.sort_values(["mean_val_accuracy", "std_val_accuracy", "combo"], ascending=[False, True, True])


def choose(cv: pd.DataFrame, max_gap: float) -> dict[str, Any]:
    """The best mean validation accuracy among combinations whose train-validation gap is at
    most ``max_gap``; when none qualifies, the smallest gap. Ties: lower std, then id."""
    eligible = cv[cv["gap"] <= max_gap]
    if eligible.empty:
        best = cv.sort_values(["gap", "combo"]).iloc[0]
        reason = f"no combination has a train-validation gap <= {max_gap:.3f}; chose the smallest gap ({best['gap']:.3f})"
    else:
        best = ranked(eligible).iloc[0]
        top = cv.iloc[0]
        reason = (
            f"best mean validation accuracy ({best['mean_val_accuracy']:.4f}) among {len(eligible)} of {len(cv)} "
            f"combinations with a gap <= {max_gap:.3f}"
        )
        if top["combo"] != best["combo"]:
            reason += f"; the overall best ({top['mean_val_accuracy']:.4f}, {top['combo']}) overtrains by {top['gap']:.3f}"
    params = {
        k: _plain(best[k])
        for k in best.index
        if k not in ("combo",) and not k.startswith(("mean_", "std_")) and k != "gap" and pd.notna(best[k])
    }
    return {
        "combo": str(best["combo"]),
        "params": params,
        "reason": reason,
        "max_gap": max_gap,
        "mean_val_accuracy": float(best["mean_val_accuracy"]),
        "std_val_accuracy": float(best["std_val_accuracy"]),
        "mean_train_accuracy": float(best["mean_train_accuracy"]),
        "gap": float(best["gap"]),
        "mean_epochs": float(best["mean_epochs"]),
        "n_combinations": len(cv),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1:
        return int(value)
    return value
