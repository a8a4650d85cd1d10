"""Boosting and the network as two experts, multiplied rather than averaged (issue 23).

The workflow's soft vote averages its models' probabilities per song; an average is flatter
than either model, and pooled as evidence it gains nothing (docs/results.md). This script
combines boosting and the network the other way, as a product of experts, and pools the result
over each unseen artist's songs. On each of the 5 outer folds of a finished artist-disjoint run
(the outer folds' arrays, tuned boosting settings and chosen network), fit on the training rows
only, seeds 42 and 43 averaged per model:

- ``hgb``: boosting, as ``experiments/pooled_levers.py`` fits it (the baseline).
- ``net``: the network the outer evaluation chose, trained as the workflow's outer evaluation
  trains it (its fit and early-stopping rows): ``grouped_stopping.py``'s ``network_songs``.
- ``mean``: the mean of the two (the soft vote of these two models).
- ``geometric``: the normalised geometric mean, sqrt(p_hgb x p_net): log-linear pooling with
  weights 1/2, no sharper than either model.
- ``product``: the normalised p_hgb x p_net / prior (the training rows' genre shares): the two
  as independent evidence for one song, the rule ``evidence`` applies to an artist's songs.

    OMP_NUM_THREADS=1 .venv/bin/python experiments/expert_product.py /tmp/adc

Prints each variant's song-level accuracy, macro AUC-PR and accuracy pooled by each rule of
``evaluation.pooling``, per fold and as mean ± sample std over the folds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.grouped_stopping import network_songs  # noqa: E402
from experiments.pooled_levers import Fold, score_variants, variants_cli  # noqa: E402
from workflow_scripts.models import network  # noqa: E402

VARIANTS = ("hgb", "net", "mean", "geometric", "product")


def _normalised(scores: np.ndarray) -> np.ndarray:
    return scores / scores.sum(axis=1, keepdims=True)


def combine(variant: str, hgb: np.ndarray, net: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """The test probabilities of ``variant`` from the two experts' and the training prior."""
    hgb, net = np.clip(hgb, 1e-6, 1.0), np.clip(net, 1e-6, 1.0)
    return {
        "hgb": lambda: hgb,
        "net": lambda: net,
        "mean": lambda: (hgb + net) / 2,
        "geometric": lambda: _normalised(np.sqrt(hgb * net)),
        "product": lambda: _normalised(hgb * net / np.clip(shares, 1e-6, 1.0)),
    }[variant]()


def main() -> None:
    results, variants = variants_cli(__doc__, VARIANTS)
    network.configure_threads(1)
    # score_variants visits the outer folds in order, every variant of one before the next:
    # each fold's two experts are fit once, when its first variant asks.
    current: dict[str, object] = {}

    def predict(fold: Fold, variant: str) -> tuple[np.ndarray, str]:
        if current.get("fold") is not fold:
            current.update(fold=fold, experts=(fold.hgb_test, network_songs(fold)[0]))
        return combine(variant, *current["experts"], fold.shares), ""

    score_variants(results, variants, predict)


if __name__ == "__main__":
    main()
