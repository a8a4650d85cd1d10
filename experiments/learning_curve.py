"""Accuracy on unseen artists against the number of training artists (issue 23), measured outside the workflow.

Would more labelled artists reach 83 % pooled, where more levers did not? Per outer fold of a
finished artist-disjoint run, this keeps a random share of the training artists (whole groups
of artists that share a track, ``split.folds.shared_track_groups``; one draw per fold, seeded),
fits boosting on their songs (the fold's tuned settings, seeds 42 and 43 averaged, as
``pooled_levers.py``) and scores the whole test fold song by song and pooled per artist by each
rule of ``evaluation.pooling`` (the kept rows' genre shares as the prior).

    OMP_NUM_THREADS=1 .venv/bin/python experiments/learning_curve.py /tmp/adc --variants artists25,artists50,artists75,artists100

Variants: ``artistsN``, N % of the training artists' groups (``artists100``: all of them, the
workflow's boosting).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.pooled_levers import Fold, score_variants, variants_cli  # noqa: E402
from workflow_scripts.evaluation import pooling  # noqa: E402
from workflow_scripts.split.folds import shared_track_groups  # noqa: E402

DRAW_SEED = 0


def kept_rows(fold: Fold, share: float) -> np.ndarray:
    """The training rows of a random ``share`` of the fold's groups of artists (all rows at 1)."""
    groups = np.asarray(shared_track_groups(fold.songs.loc[fold.rows], "Artist"))
    unique = np.unique(groups)
    chosen = np.random.default_rng(DRAW_SEED).choice(unique, size=round(share * len(unique)), replace=False)
    return np.isin(groups, chosen)


def predict(fold: Fold, variant: str) -> tuple[np.ndarray, str]:
    """Boosting fit on ``variant``'s share of the training artists. The fold's genre shares (the
    prior that ``evidence`` pooling divides out, read by :meth:`Fold.figures`) become the kept
    rows': every variant here sets them before it is scored."""
    keep = kept_rows(fold, int(variant.removeprefix("artists")) / 100)
    fold.shares = pooling.class_shares(fold.y[keep], len(fold.classes))
    proba = fold.boosting(fold.X[keep], fold.y[keep], fold.X_test)
    return proba, f"artists {len(np.unique(fold.artists[keep]))} songs {int(keep.sum())}"


def main() -> None:
    results, variants = variants_cli(__doc__, ["artists25", "artists50", "artists75", "artists100"])
    score_variants(results, variants, predict)


if __name__ == "__main__":
    main()
