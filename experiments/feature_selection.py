"""Fewer columns for boosting, chosen on the training folds: does leaving out the columns that
do not carry genre across artists lift accuracy on unseen artists (issue 23)?

Boosting sees 108 columns without artist context; a column that tells training artists apart
without telling genres apart lets it learn the training artists. Per outer fold of a finished
artist-disjoint run, each column's permutation importance (the rise in log-loss when it is
shuffled, 3 shuffles) is measured on each of the training rows' artist-grouped CV folds with
boosting fit on the other folds (the fold's tuned settings, seed 42), averaged over the CV
folds; boosting is then fit on the most important columns only (seeds 42 and 43 averaged, as
``pooled_levers.py``) and scored on the test fold. No test row is read before scoring.

    OMP_NUM_THREADS=1 .venv/bin/python experiments/feature_selection.py /tmp/adc --variants top30,top50,top70,all

Variants: ``topN``, the N most important columns; ``positive``, every column whose importance
is above zero; ``all``, every column (the workflow's boosting).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import numpy as np
from sklearn.inspection import permutation_importance

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.pooled_levers import SEEDS, Fold, score_variants, variants_cli  # noqa: E402
from workflow_scripts.models import estimators  # noqa: E402


@functools.cache
def importance(fold: Fold) -> np.ndarray:
    """Each column's permutation importance (log-loss), averaged over the training rows' CV folds."""
    per_fold = []
    for f in np.unique(fold.folds):
        held = fold.folds == f
        model = estimators.make("hgb", fold.hgb, SEEDS[0]).fit(fold.X[~held], fold.y[~held])
        result = permutation_importance(model, fold.X[held], fold.y[held], scoring="neg_log_loss", n_repeats=3, random_state=0, n_jobs=1)
        per_fold.append(result.importances_mean)
    return np.mean(per_fold, axis=0)


def predict(fold: Fold, variant: str) -> tuple[np.ndarray, str]:
    """Boosting fit on the columns ``variant`` keeps."""
    scores = importance(fold)
    if variant == "all":
        keep = np.arange(fold.X.shape[1])
    elif variant == "positive":
        keep = np.flatnonzero(scores > 0)
    else:
        keep = np.argsort(scores)[::-1][: int(variant.removeprefix("top"))]
    proba = fold.boosting(fold.X[:, keep], fold.y, fold.X_test[:, keep])
    return proba, f"columns {len(keep)} of {fold.X.shape[1]}"


def main() -> None:
    results, variants = variants_cli(__doc__, ["top30", "top50", "top70", "positive", "all"])
    score_variants(results, variants, predict)


if __name__ == "__main__":
    main()
