"""Boosting tuned for what the headline pools: does a grid chosen by pooled accuracy on the
training folds lift accuracy pooled over an unseen artist's songs (issue 23)?

The workflow searches boosting's grid by *song-level* accuracy on the training rows'
artist-grouped CV folds (``baselines.hgb.grid``: learning rate 0.05 or 0.1, 15 or 31 leaves,
L2 3). Pooling as evidence rewards something else: probabilities whose errors do not repeat
over an artist's songs. This searches a wider grid of smoother boosters (7-31 leaves, leaves
of at least 20 or 80 songs, L2 3 or 30, and the workflow's two learning-rate-0.1 settings) on
each of the 5 outer folds of a finished artist-disjoint run, and picks a setting per fold from
the training folds only, by each of:

- ``song``: song-level accuracy of the out-of-fold probabilities (the workflow's rule);
- ``log_loss``: their log-loss;
- ``evidence``: accuracy of the out-of-fold probabilities pooled as evidence per artist within
  each CV fold (the prior, the genre shares of the fold's training part).

The out-of-fold probabilities come from one seed (42); the chosen setting is then fit on every
training row with seeds 42 and 43, averaged, and scored on the test fold, as in
``pooled_levers.py``. ``every setting averaged``: the test probabilities of all the
settings' fits averaged, a bag of boosters that differ in their settings. Every setting is also scored on the test folds, to show how far the grid
reaches at all (an oracle: chosen on the test folds, not a result).

    .venv/bin/snakemake --cores 2 --configfile configs/study.yaml configs/artist_disjoint.yaml \
        configs/ablation/recipe.yaml --config results_dir=/tmp/adc -- /tmp/adc/evaluation/outer_summary.md
    OMP_NUM_THREADS=1 .venv/bin/python experiments/pooled_tuning.py /tmp/adc --jobs 2

Prints, per fold, each setting's inner figures and test figures, then mean ± sample std over
the folds for each rule and each setting.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.metrics import log_loss

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments import fold_table  # noqa: E402
from experiments.grouped_stopping import booster, songs  # noqa: E402
from experiments.pooled_levers import FIGURES, SEEDS, Fold  # noqa: E402
from workflow_scripts.evaluation import pooling  # noqa: E402

#: the settings searched: smoother boosters around the workflow's grid, and its own
GRID: list[dict[str, Any]] = [
    {"learning_rate": 0.05, "max_leaf_nodes": leaves, "min_samples_leaf": min_leaf, "l2_regularization": l2}
    for leaves, min_leaf, l2 in itertools.product((7, 15, 31), (20, 80), (3.0, 30.0))
] + [{"learning_rate": 0.1, "max_leaf_nodes": leaves, "min_samples_leaf": 20, "l2_regularization": 3.0} for leaves in (15, 31)]
RULES = ("song", "log_loss", "evidence")


def _name(setting: dict[str, Any]) -> str:
    return f"lr{setting['learning_rate']}_leaves{setting['max_leaf_nodes']}_min{setting['min_samples_leaf']}_l2{setting['l2_regularization']:g}"


def _inner(fold: Fold, setting: dict[str, Any]) -> dict[str, float]:
    """The setting's out-of-fold figures over the training rows' CV folds (seed 42)."""
    out = np.zeros((len(fold.y), len(fold.classes)))
    pooled_right = 0
    for f in np.unique(fold.folds):
        held = fold.folds == f
        model = booster(fold, SEEDS[0], **setting).fit(fold.X[~held], fold.y[~held])
        out[held] = model.predict_proba(fold.X[held])
        shares = pooling.class_shares(fold.y[~held], len(fold.classes))
        pooled = pooling.pool(out[held], fold.artists[held], "evidence", shares)
        pooled_right += int((pooled.argmax(axis=1) == fold.y[held]).sum())
    return {
        "song": float((out.argmax(axis=1) == fold.y).mean()),
        "log_loss": -float(log_loss(fold.y, out, labels=range(len(fold.classes)))),
        "evidence": pooled_right / len(fold.y),
    }


def _both(fold: Fold, setting: dict[str, Any]) -> tuple[dict[str, float], np.ndarray]:
    """The setting's inner figures, and its test probabilities (fit on every training row, seeds 42 and 43 averaged)."""
    return _inner(fold, setting), songs(fold, **setting)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, help="results_dir of a finished artist-disjoint run (outer folds)")
    parser.add_argument("--jobs", type=int, default=1, help="settings fit in parallel")
    args = parser.parse_args()
    selected = pd.read_parquet(args.results / "data" / "selected.parquet").set_index("row")
    scores: dict[str, list[tuple[float, ...]]] = {}
    for k in range(5):
        fold = Fold(args.results, k, selected)
        results = Parallel(n_jobs=args.jobs)(delayed(_both)(fold, setting) for setting in GRID)
        for setting, (inner, proba) in zip(GRID, results, strict=True):
            figures = fold.figures(proba)
            scores.setdefault(_name(setting), []).append(figures)
            inner_cells = " ".join(f"{rule} {inner[rule]:.4f}" for rule in RULES)
            print(
                f"fold {k} {_name(setting)} inner: {inner_cells}; test {', '.join(FIGURES)}: {' '.join(f'{x:.4f}' for x in figures)}",
                flush=True,
            )
        for rule in RULES:
            best = int(np.argmax([inner[rule] for inner, _ in results]))
            scores.setdefault(f"chosen by {rule}", []).append(fold.figures(results[best][1]))
            print(f"fold {k} chosen by {rule}: {_name(GRID[best])}", flush=True)
        scores.setdefault("every setting averaged", []).append(fold.figures(np.mean([proba for _, proba in results], axis=0)))
    fold_table.print_table(scores, FIGURES)


if __name__ == "__main__":
    main()
