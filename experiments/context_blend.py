"""Two pooled answers blended: boosting without context pooled as evidence, and boosting with
artist context pooled by the mean (issue 23).

The best pooled figure comes from boosting without context, its songs pooled as evidence; the
models with artist context see their artist's songs in their input instead. The two read an
artist's songs in different ways, so their pooled answers may err on different artists. On each
of the 5 outer folds of a finished artist-disjoint run *without* context (boosting with the
fold's tuned settings, seeds 42 and 43 averaged, as ``pooled_levers.py``; the context columns
added as ``features.artist_context`` adds them, within the training rows and within the test
rows):

- ``evidence``: boosting without context, pooled as evidence (the baseline);
- ``context``: boosting with context, song by song;
- ``mean``: the two pooled answers averaged (context pooled by the mean);
- ``geometric``: their normalised geometric mean;
- ``evidence2``: the average weighted 2:1 for ``evidence``;
- ``bag``, ``bag_geometric``: ``evidence`` and ``geometric`` with the bag of 8 boosters on half
  the columns (``grouped_stopping.py``'s ``columns8``, ``baselines.hgb.bag: 8``) for boosting
  without context.

    OMP_NUM_THREADS=1 .venv/bin/python experiments/context_blend.py /tmp/adc

Every variant but ``context`` returns probabilities pooled per artist already, so its song
accuracy is its pooled accuracy. Prints the figures per fold, then mean ± sample std.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.grouped_stopping import VARIANTS as BAG_VARIANTS  # noqa: E402
from experiments.pooled_levers import Fold, score_variants, variants_cli  # noqa: E402
from workflow_scripts.evaluation import pooling  # noqa: E402
from workflow_scripts.features import artist_context  # noqa: E402


@functools.cache
def answers(fold: Fold) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boosting without context pooled as evidence; boosting with context, per song and pooled by the mean."""
    evidence = pooling.pool(fold.hgb_test, fold.test_artists, "evidence", fold.shares)
    with_context = fold.boosting(
        artist_context.with_context(fold.X, fold.artists), fold.y, artist_context.with_context(fold.X_test, fold.test_artists)
    )
    return evidence, with_context, pooling.pool(with_context, fold.test_artists, "mean", fold.shares)


def geometric(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The normalised geometric mean of two sets of probabilities (each floored at 1e-6)."""
    blend = np.sqrt(np.clip(a, 1e-6, 1.0) * np.clip(b, 1e-6, 1.0))
    return blend / blend.sum(axis=1, keepdims=True)


@functools.cache
def bag_evidence(fold: Fold) -> np.ndarray:
    """The bag of 8 boosters on half the columns, without context, pooled as evidence."""
    return pooling.pool(BAG_VARIANTS["columns8"](fold)[0], fold.test_artists, "evidence", fold.shares)


def predict(fold: Fold, variant: str) -> tuple[np.ndarray, str]:
    if variant == "bag":
        return bag_evidence(fold), ""
    if variant == "bag_geometric":
        return geometric(bag_evidence(fold), answers(fold)[2]), ""
    evidence, context, context_pooled = answers(fold)
    if variant == "evidence":
        return evidence, ""
    if variant == "context":
        return context, ""
    if variant == "mean":
        return (evidence + context_pooled) / 2, ""
    if variant == "geometric":
        return geometric(evidence, context_pooled), ""
    if variant == "evidence2":
        return (2 * evidence + context_pooled) / 3, ""
    raise ValueError(f"unknown variant {variant!r}")


def main() -> None:
    results, variants = variants_cli(__doc__, ["evidence", "context", "mean", "geometric", "evidence2"])
    score_variants(results, variants, predict)


if __name__ == "__main__":
    main()
