"""Variants of the artist context, measured outside the workflow (issue 23).

Reads the outer folds' arrays of a finished artist-disjoint run *without* artist context, adds
each variant's context columns to them, and fits gradient boosting with the feature ablation's
fixed parameters (learning rate 0.1, 15 leaves, l2 1, one seed) on each outer fold:

    .venv/bin/snakemake --cores 2 --configfile configs/study.yaml configs/artist_disjoint.yaml \
        --config results_dir=/tmp/ad -- /tmp/ad/outer/{0,1,2,3,4}/arrays.npz
    OMP_NUM_THREADS=1 .venv/bin/python experiments/artist_context_variants.py /tmp/ad

Prints song-level accuracy, accuracy pooled over each test artist's songs and macro AUC-PR per
fold, then mean and sample standard deviation over the 5 folds. Variants:
none (no context), mean (``features.artist_context``: the artist's mean of every column and
log(songs)), text (means of the text models' columns only), loo (the mean of the artist's
*other* songs), std (mean and standard deviation), halves (training songs see a random half
of their artist's songs; test songs all), augmented (training rows twice: with the full and
with a random half's context), leaf100 (mean, boosting with min_samples_leaf 100).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments import fold_table  # noqa: E402
from workflow_scripts.evaluation import metrics  # noqa: E402
from workflow_scripts.features import artist_context  # noqa: E402
from workflow_scripts.features import pipeline as features  # noqa: E402

VARIANTS = ["none", "mean", "text", "loo", "std", "halves", "augmented", "leaf100"]


def _means_only(X: np.ndarray, artists: np.ndarray) -> np.ndarray:
    return artist_context.with_context(X, artists)[:, X.shape[1] :]


def _random_halves(artists: np.ndarray, seed: int = 0) -> np.ndarray:
    halves = np.random.default_rng(seed).integers(0, 2, len(artists))
    return np.array([f"{a}\0{h}" for a, h in zip(artists, halves, strict=True)], dtype=object)


def context(variant: str, X: np.ndarray, artists: np.ndarray, names: list[str], training: bool) -> tuple[np.ndarray, int]:
    """``X`` with the variant's context columns, and how many times the rows are repeated."""
    if variant == "none":
        return X, 1
    if variant in ("mean", "leaf100"):
        return artist_context.with_context(X, artists), 1
    if variant == "text":
        columns = [i for i, name in enumerate(names) if name.startswith("text_")]
        return np.hstack([X, _means_only(X[:, columns], artists)]), 1
    if variant == "loo":
        full = artist_context.with_context(X, artists)
        d = X.shape[1]
        n = np.exp(full[:, -1:])
        others = np.where(n > 1, (full[:, d : 2 * d] * n - X) / np.maximum(n - 1, 1), X)
        return np.hstack([X, others, full[:, -1:]]), 1
    if variant == "std":
        full = artist_context.with_context(X, artists)
        d = X.shape[1]
        squares = _means_only(X.astype("float64") ** 2, artists)[:, :d]
        spread = np.sqrt(np.maximum(squares - full[:, d : 2 * d].astype("float64") ** 2, 0))
        return np.hstack([full, spread]).astype("float32"), 1
    if variant == "halves":
        return artist_context.with_context(X, _random_halves(artists) if training else artists), 1
    if variant == "augmented":
        if not training:
            return artist_context.with_context(X, artists), 1
        return np.vstack([artist_context.with_context(X, artists), artist_context.with_context(X, _random_halves(artists))]), 2
    raise ValueError(variant)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, help="results_dir of a finished artist-disjoint run without artist context")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    songs = pd.read_parquet(args.results / "data" / "selected.parquet")
    artist_of_row = songs.set_index("row")["Artist"]
    scores: dict[str, list[tuple[float, float, float]]] = {}
    for k in range(5):
        arrays = features.load_arrays(args.results / "outer" / str(k) / "arrays.npz")
        X, y, _, rows = features.training_set(arrays)
        names, classes = list(arrays["feature_names"]), list(arrays["classes"])
        test_artists = artist_of_row.loc[arrays["row_test"]].to_numpy()
        for variant in args.variants.split(","):
            train, repeats = context(variant, X, artist_of_row.loc[rows].to_numpy(), names, training=True)
            test, _ = context(variant, arrays["X_test"], test_artists, names, training=False)
            model = HistGradientBoostingClassifier(
                learning_rate=0.1,
                max_leaf_nodes=15,
                l2_regularization=1.0,
                max_iter=500,
                early_stopping=True,
                validation_fraction=0.15,
                n_iter_no_change=20,
                min_samples_leaf=100 if variant == "leaf100" else 20,
                random_state=42,
            ).fit(train, np.tile(y, repeats))
            proba = model.predict_proba(test)
            song = metrics.metrics(arrays["y_test"], proba, classes)
            pooled = metrics.metrics(arrays["y_test"], metrics.pool_by_artist(proba, test_artists), classes)
            scores.setdefault(variant, []).append((song["accuracy"], pooled["accuracy"], song["auc_pr_macro"]))
            print(
                f"fold {k} {variant:9s} song {song['accuracy']:.4f} pooled {pooled['accuracy']:.4f} macro AUC-PR {song['auc_pr_macro']:.3f}"
            )
    fold_table.print_table(scores, ["song accuracy", "pooled accuracy", "macro AUC-PR"])


if __name__ == "__main__":
    main()
