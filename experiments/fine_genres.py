"""Boosting trained on the study's fine genres, summed into the six (issue 23), measured outside the workflow.

The six super-genres are unions of finer Wikidata genres: the study's labels
(``seed_song_labels.csv``) name 117 of them among the 6,446 songs (rock: rock music, hard rock,
folk rock, soft rock...; electronic: house music, electronic dance music, electropop...). A
super-genre made of unlike parts is a class of several modes; a model that learns the parts
may separate rock, pop and electronic better. Per outer fold of a finished artist-disjoint
run, this fits boosting (the fold's tuned settings, seeds 42 and 43 averaged, as
``pooled_levers.py``) on the training rows labelled with their fine genre, where a fine genre
has at least ``min_artists`` training artists (the others keep their super-genre as their
class, or join its largest fine genre when they are fewer than 20 songs), sums each test
song's probabilities over the fine genres of each super-genre, and scores the six-genre test
rows song by song and pooled per artist by each rule of ``evaluation.pooling`` (the training
rows' genre shares as the prior).

    OMP_NUM_THREADS=1 .venv/bin/python experiments/fine_genres.py /tmp/adc --variants six,fine10,fine5,fine20

Variants: ``six`` (the six genres: the baseline) and ``fineN`` (fine genres with at least N
training artists). Only the training rows' fine labels are read.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments.pooled_levers import SEEDS, Fold, score_variants, variants_cli  # noqa: E402
from workflow_scripts.models import estimators  # noqa: E402

MIN_REST = 20
LABELS = ROOT.parent / "shared" / "reference" / "seed_song_labels.csv"


def fine_classes(fold: Fold, fine: pd.Series, min_artists: int) -> tuple[np.ndarray, np.ndarray]:
    """Each training row's class (its fine genre, or its super-genre where the fine genre has
    fewer than ``min_artists`` training artists, or the super-genre's largest fine genre where
    that rest is under :data:`MIN_REST` songs) and each class's super-genre index."""
    names = fine.loc[fold.rows].to_numpy()
    artists = pd.Series(fold.artists).groupby(names).nunique()
    kept = np.isin(names, artists.index[artists >= min_artists])
    labels = pd.Series(np.where(kept, np.char.add(np.asarray(fold.y, dtype=str), "|" + names.astype(str)), np.asarray(fold.y, dtype=str)))
    # A super-genre whose fine genres are nearly all kept leaves a rest of a few songs: those
    # join the super-genre's largest fine genre (early stopping needs 2 songs per class).
    counts = labels.value_counts()
    for rest in [c for c in counts.index if "|" not in c and counts[c] < MIN_REST]:
        largest = counts[counts.index.str.startswith(rest + "|")].idxmax()
        labels[labels == rest] = largest
    labels = labels.to_numpy()
    classes, encoded = np.unique(labels, return_inverse=True)
    return encoded, np.array([int(c.split("|")[0]) for c in classes])


def fine_boosting(fold: Fold, fine: pd.Series, min_artists: int) -> tuple[np.ndarray, int]:
    """The six genres' test probabilities of boosting fit on fine classes, and how many classes."""
    y, parent = fine_classes(fold, fine, min_artists)
    fine_proba = np.mean([estimators.make("hgb", fold.hgb, seed).fit(fold.X, y).predict_proba(fold.X_test) for seed in SEEDS], axis=0)
    proba = np.zeros((len(fold.X_test), len(fold.classes)))
    np.add.at(proba.T, parent, fine_proba.T)
    return proba, len(parent)


def main() -> None:
    results, variants = variants_cli(__doc__, ["six", "fine10", "fine5", "fine20"])
    songs = pd.read_parquet(results / "data" / "selected.parquet").set_index("row")
    fine = pd.read_csv(LABELS).set_index("row")["Genre"].reindex(songs.index)

    def predict(fold: Fold, variant: str) -> tuple[np.ndarray, str]:
        if variant == "six":
            return fold.hgb_test, f"classes {len(fold.classes)}"
        proba, n_classes = fine_boosting(fold, fine, int(variant.removeprefix("fine")))
        return proba, f"classes {n_classes}"

    score_variants(results, variants, predict)


if __name__ == "__main__":
    main()
