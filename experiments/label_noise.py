"""Training songs whose label their own features contradict (issue 23).

A song's genre is its artist's Wikidata genres mapped to six; a rock artist's ballad is
labelled rock however pop it sounds, and such songs teach boosting the confusions that pooled
errors fall between (pop, rock, electronic). This fits, on each of the 5 outer folds of a
finished artist-disjoint run (boosting with the fold's tuned settings, seeds 42 and 43
averaged, as ``pooled_levers.py``; training rows only), after scoring every training song by
the out-of-fold probability of its own label over the training rows' artist-grouped CV folds
(``Fold.hgb_out_of_fold``, so no song is scored by a model that saw its artist):

- ``six``: boosting on every training song (the baseline);
- ``drop5``, ``drop10``, ``drop20``: the 5, 10 or 20 % of training songs with the lowest
  out-of-fold probability of their label left out;
- ``weighted``: every training song, weighted by that probability (floored at 0.05).

The prior of pooling as evidence stays every training song's genre shares.

    OMP_NUM_THREADS=1 .venv/bin/python experiments/label_noise.py /tmp/adc

Prints, per fold and variant, song-level accuracy, macro AUC-PR and accuracy pooled by each
rule of ``evaluation.pooling``, then mean ± sample std over the folds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.pooled_levers import Fold, score_variants, variants_cli  # noqa: E402

WEIGHT_FLOOR = 0.05


def own_label_probability(fold: Fold) -> np.ndarray:
    """Each training song's out-of-fold probability of its own label."""
    return fold.hgb_out_of_fold[np.arange(len(fold.y)), fold.y]


def predict(fold: Fold, variant: str) -> tuple[np.ndarray, str]:
    if variant == "six":
        return fold.hgb_test, ""
    score = own_label_probability(fold)
    if variant == "weighted":
        return fold.boosting(fold.X, fold.y, fold.X_test, weight=np.maximum(score, WEIGHT_FLOOR)), ""
    share = int(variant.removeprefix("drop")) / 100
    keep = score > np.quantile(score, share)
    dropped = np.bincount(fold.y[~keep], minlength=len(fold.classes))
    note = "dropped " + " ".join(f"{c}:{n}" for c, n in zip(fold.classes, dropped, strict=True))
    return fold.boosting(fold.X[keep], fold.y[keep], fold.X_test), note


def main() -> None:
    results, variants = variants_cli(__doc__, ["six", "drop5", "drop10", "drop20", "weighted"])
    score_variants(results, variants, predict)


if __name__ == "__main__":
    main()
