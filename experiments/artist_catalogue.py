"""Pooling over all of an unseen artist's songs in the dataset, not only its labelled ones (issue 23).

The 982 artists of the six genres have 9,804 songs in the dataset, but the study's labels put
only 6,446 of them in the six genres: the others carry another genre (the study labelled each
song by the first Wikidata genre of its album, single or artist page) or none. A user who runs
``predict --pool-by-artist`` on the dataset pools each artist over every song it has there.
Per outer fold of a finished artist-disjoint run this measures what that is worth: boosting
(the fold's tuned settings, seeds 42 and 43 averaged, fit on the fold's training rows as
``pooled_levers.py``) scores the fold's labelled test songs, each pooled over

- ``labelled``: its artist's labelled test songs (what the workflow's evaluation pools);
- ``catalogue``: those and its artist's other songs in the dataset, whose labels are never
  read: their features come from the fold's fitted preprocessing and text models
  (``features.fit_final``, as the bundle's ``predict`` builds them), and a song whose Spotify
  track is also a training song (a collaboration listed under a training artist) is left out.

Only the labelled test songs are scored. Needs a run without artist context (with it, a
song's columns would depend on the songs it is pooled with).

    OMP_NUM_THREADS=1 .venv/bin/python experiments/artist_catalogue.py /tmp/adc
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments import fold_table  # noqa: E402
from experiments.extra_genres import headline_config  # noqa: E402
from experiments.pooled_levers import Fold  # noqa: E402
from workflow_scripts.evaluation import metrics, pooling  # noqa: E402
from workflow_scripts.features import pipeline as features  # noqa: E402


def unlabelled_songs(raw: pd.DataFrame, fold: Fold) -> pd.DataFrame:
    """The test artists' songs of the dataset outside the six genres' rows, none a training track."""
    test_artists = set(fold.test_artists)
    known = set(fold.songs.index)
    training_tracks = set(fold.songs["Uri"].loc[fold.rows])
    keep = raw["Artist"].isin(test_artists) & ~raw.index.isin(known) & ~raw["Uri"].isin(training_tracks)
    return raw[keep]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, help="results_dir of a finished artist-disjoint run without artist context")
    args = parser.parse_args()
    config = headline_config()
    if config["features"].get("artist_context"):
        raise SystemExit("artist_catalogue.py needs a run without artist context (configs/ablation/recipe.yaml)")
    table = pd.read_parquet(args.results / "data" / "selected.parquet")
    songs = table.set_index("row")
    raw = pd.read_parquet(args.results / "data" / "raw.parquet").set_index("row")
    rules = list(pooling.POOLINGS.values())
    scores: dict[str, list[tuple[float, ...]]] = {}
    for k in range(5):
        fold = Fold(args.results, k, songs)
        split = pd.read_parquet(args.results / "outer" / str(k) / "split.parquet")
        fitted = features.fit_final(table, split, config["features"], int(config["training"]["seed"]))
        check = np.abs(fitted.transform(songs.loc[fold.test_rows].reset_index()) - fold.X_test).max()
        extra = unlabelled_songs(raw, fold)
        X_extra = fitted.transform(extra.reset_index())
        proba = fold.boosting(fold.X, fold.y, np.vstack([fold.X_test, X_extra]))
        n = len(fold.y_test)
        print(
            f"fold {k}: {n} labelled test songs, {len(extra)} more songs of their {len(set(fold.test_artists))} artists "
            f"({extra['Artist'].nunique()} artists have some); test features rebuilt to {check:.1e}",
            flush=True,
        )
        for variant, (p, artists) in {
            "labelled": (proba[:n], fold.test_artists),
            "catalogue": (proba, np.concatenate([fold.test_artists, extra["Artist"].to_numpy()])),
        }.items():
            figures = [metrics.metrics(fold.y_test, proba[:n], fold.classes)["accuracy"]]
            for rule in rules:
                pooled = pooling.pool(p, artists, rule.name, fold.shares)[:n]
                figures.append(metrics.metrics(fold.y_test, pooled, fold.classes)["accuracy"])
            scores.setdefault(variant, []).append(tuple(figures))
            print(f"fold {k} {variant:9s} " + " ".join(f"{f:.4f}" for f in figures), flush=True)
    fold_table.print_table(scores, ["song accuracy", *[f"pooled, {r.name}" for r in rules]])


if __name__ == "__main__":
    main()
