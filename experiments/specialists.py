"""Specialists for the genres that pooled errors fall between (issue 23).

Half of the pooled errors lie between pop, rock and electronic, and metal taken for rock adds
more (docs/results.md, "Where the pooled errors fall"). One booster for six genres spends its
trees on the easy splits too (hip hop, classical). This fits, on each of the 5 outer folds of a
finished artist-disjoint run (boosting with the fold's tuned settings, seeds 42 and 43
averaged, as ``pooled_levers.py``; training rows only):

- ``six``: boosting as the workflow fits it (the baseline);
- ``trio``: ``six``, and a second booster fit only on the training songs of pop, rock and
  electronic; a test song's probability of those three is ``six``'s, shared among them as the
  specialist says (p(pop) = p_six(trio) x p_spec(pop | trio));
- ``quartet``: the same with metal as a fourth genre of the specialist;
- ``ovr``: six one-against-the-rest boosters, each genre's probability normalised over the six.

    OMP_NUM_THREADS=1 .venv/bin/python experiments/specialists.py /tmp/adc

Prints, per fold and variant, song-level accuracy, macro AUC-PR and accuracy pooled by each
rule of ``evaluation.pooling``, then mean ± sample std over the folds.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.pooled_levers import Fold, score_variants, variants_cli  # noqa: E402

GROUPS = {"trio": ("electronic", "pop", "rock"), "quartet": ("electronic", "metal", "pop", "rock")}


def specialist(fold: Fold, genres: Sequence[str]) -> np.ndarray:
    """``six``'s test probabilities with the mass of ``genres`` shared as a booster fit on their songs says."""
    columns = np.array([fold.classes.index(g) for g in genres])
    rows = np.isin(fold.y, columns)
    local = np.searchsorted(columns, fold.y[rows])  # columns are sorted, as the classes are
    inner = fold.boosting(fold.X[rows], local, fold.X_test)
    proba = fold.hgb_test.copy()
    proba[:, columns] = proba[:, columns].sum(axis=1, keepdims=True) * inner
    return proba


def one_against_rest(fold: Fold) -> np.ndarray:
    """Six binary boosters, each genre's probability normalised over the six."""
    scores = np.column_stack([fold.boosting(fold.X, (fold.y == c).astype(int), fold.X_test)[:, 1] for c in range(len(fold.classes))])
    return scores / scores.sum(axis=1, keepdims=True)


def predict(fold: Fold, variant: str) -> tuple[np.ndarray, str]:
    if variant == "six":
        return fold.hgb_test, ""
    if variant == "ovr":
        return one_against_rest(fold), ""
    return specialist(fold, GROUPS[variant]), ""


def main() -> None:
    results, variants = variants_cli(__doc__, ["six", "trio", "quartet", "ovr"])
    score_variants(results, variants, predict)


if __name__ == "__main__":
    main()
