"""How far a better pooling rule can go: boosting's probabilities pooled per unseen artist by a
family of rules around the workflow's ``evidence`` rule (issue 23), measured outside the workflow.

Reads the outer folds of a finished artist-disjoint run, as ``pooled_levers.py`` does, and per
outer fold fits boosting (the fold's tuned settings, seeds 42 and 43 averaged) on the training
rows for the test rows, and over the training rows' artist-grouped CV folds for out-of-fold
probabilities. Each rule of the grid scores an artist's genre as

    n**beta x (mean log p(genre | song)) - (n**beta - 1) x weight x log(genre's training share)

with each probability floored at ``floor`` (n: the artist's songs). ``beta = weight = 1`` with
floor 1e-4 is the workflow's ``evidence`` rule; ``beta < 1`` discounts the songs of one artist
as evidence that is not independent; ``weight`` scales the prior that is divided out.

    OMP_NUM_THREADS=1 .venv/bin/python experiments/pooling_rules.py /tmp/adc

Prints, over the 5 outer folds: pooled accuracy of the mean and of ``evidence``; the best rule
of the grid chosen on the test folds themselves (a ceiling, not a result); and the rule chosen
per fold on the training rows' out-of-fold probabilities (an honest result).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments import fold_table  # noqa: E402
from experiments.pooled_levers import Fold  # noqa: E402
from workflow_scripts.evaluation import pooling  # noqa: E402

FLOORS = (1e-4, 1e-3, 1e-2, 3e-2)
WEIGHTS = (0.5, 0.75, 1.0, 1.25)
BETAS = (0.5, 0.75, 1.0)
GRID = list(itertools.product(FLOORS, WEIGHTS, BETAS))


def tempered(proba: np.ndarray, artists: np.ndarray, shares: np.ndarray, floor: float, weight: float, beta: float) -> np.ndarray:
    """Each song's artist's score per genre under one rule of the grid (argmax: the prediction)."""
    log_proba = pd.DataFrame(np.log(np.clip(proba, floor, 1.0)))
    by_artist = log_proba.groupby(artists)
    mean_log = by_artist.transform("mean").to_numpy()
    n = by_artist[0].transform("size").to_numpy()[:, None].astype("float64") ** beta
    return n * mean_log - (n - 1) * weight * np.log(np.clip(shares, floor, 1.0))


def accuracy(score: np.ndarray, y: np.ndarray) -> float:
    """Share of songs whose artist's top-scoring genre is theirs."""
    return float((score.argmax(axis=1) == y).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, help="results_dir of a finished artist-disjoint run (outer folds)")
    args = parser.parse_args()
    songs = pd.read_parquet(args.results / "data" / "selected.parquet").set_index("row")
    test: dict[tuple[float, float, float], list[float]] = {rule: [] for rule in GRID}
    scores: dict[str, list[tuple[float]]] = {"mean": [], "evidence": [], "chosen on the training folds": []}
    for k in range(5):
        fold = Fold(args.results, k, songs)
        proba, out_of_fold = fold.hgb_test, fold.hgb_out_of_fold
        for rule in GRID:
            test[rule].append(accuracy(tempered(proba, fold.test_artists, fold.shares, *rule), fold.y_test))
        chosen = max(GRID, key=lambda rule: accuracy(tempered(out_of_fold, fold.artists, fold.shares, *rule), fold.y))
        scores["mean"].append((accuracy(pooling.pool(proba, fold.test_artists, "mean"), fold.y_test),))
        scores["evidence"].append((accuracy(pooling.pool(proba, fold.test_artists, "evidence", fold.shares), fold.y_test),))
        scores["chosen on the training folds"].append((test[chosen][-1],))
        print(f"fold {k}: chose floor, weight, beta = {chosen}; pooled {test[chosen][-1]:.4f}", flush=True)
    best = max(GRID, key=lambda rule: np.mean(test[rule]))
    scores[f"best on the test folds {best} (ceiling)"] = [(a,) for a in test[best]]
    fold_table.print_table(scores, ["pooled accuracy"])


if __name__ == "__main__":
    main()
