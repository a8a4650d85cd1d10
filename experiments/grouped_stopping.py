"""Early stopping on unseen artists: does boosting stop too late when it checks itself on songs
of artists it is fitting (issue 23)?

The workflow's boosting stops early on a stratified 15 % of its training *songs*
(``HistGradientBoostingClassifier(validation_fraction=0.15)``), so the songs it checks itself on
share their artists with the songs it fits, and the check rewards learning the training artists.
This compares, on each of the 5 outer folds of a finished artist-disjoint run (boosting with the
fold's tuned settings, seeds 42 and 43 averaged, as ``pooled_levers.py``):

- ``songs``: as the workflow fits it (early stopping on 15 % of the songs);
- ``artists``: early stopping on the songs of 15 % of the training artists, held out whole
  (with the artists they share a track with: ``split.folds.shared_track_groups``), passed to
  ``fit`` as ``X_val``/``y_val``: 11-27 % of the training rows (seeds 42-49 on the headline
  run's folds), as groups differ in size;
- ``cv``: no early stopping; the number of iterations that minimises the log-loss of the
  training rows' artist-grouped CV folds (each fold fit on the others), then one fit on every
  training row with that many iterations;
- ``songs8``, ``artists8``: ``songs`` and ``artists`` averaged over 8 seeds (42-49) instead
  of 2: a bag of boosters, each stopped on other songs (other artists);
- ``columns8``, ``columns8_30``: ``songs8`` with each split of each tree choosing among a
  random half (30 %) of the columns (``max_features``): a bag of more varied boosters;
  ``columns`` and ``columns16``: the same with 2 seeds (42, 43) and 16 (42-57);
- ``columns8_prior_tuned``: ``columns8`` pooled as evidence with the prior's weight chosen on
  the training rows' out-of-fold probabilities (``pooled_levers.tuned_prior_pool``); its
  probabilities are pooled already, so every column of its row is that pooled figure, the
  "pooled, evidence" one pooling a second time;
- ``forest``, ``extra``: bags of trees instead of boosters: a random forest (each split among
  the square root of the columns) and extremely randomised trees (among 30 % of them), 500
  trees with leaves of at least 2 songs, seeds 42 and 43 averaged;
- ``network_songs``: the fold's network as the workflow fits it (early stopping and learning
  rate schedule on its early-stopping rows, a stratified 20 % of the training songs), seeds 42
  and 43 averaged;
- ``network_artists``: the same network, its early-stopping rows the songs of a stratified
  20 % of the training artists (one fold of ``StratifiedGroupKFold(5)`` over the groups above).

    .venv/bin/snakemake --cores 2 --configfile configs/study.yaml configs/artist_disjoint.yaml \
        configs/ablation/recipe.yaml --config results_dir=/tmp/adc -- /tmp/adc/evaluation/outer_summary.md
    OMP_NUM_THREADS=1 .venv/bin/python experiments/grouped_stopping.py /tmp/adc

Prints, per fold and variant, the iterations boosting ran, song-level accuracy and accuracy
pooled over each test artist's songs by each rule of ``evaluation.pooling`` (the mean, and the
songs as independent evidence), then mean ± sample std over the folds.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.metrics import log_loss
from sklearn.model_selection import GroupShuffleSplit, StratifiedGroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments.network_grid import TRAINING  # noqa: E402
from experiments.pooled_levers import SEEDS, Fold, score_variants, tuned_prior_pool, variants_cli  # noqa: E402
from workflow_scripts.models import estimators, network  # noqa: E402
from workflow_scripts.split.folds import shared_track_groups  # noqa: E402

HELD_OUT = 0.15
BAG = tuple(range(42, 50))  # the seeds of a bag of 8 boosters
BAG16 = tuple(range(BAG[0], BAG[0] + 16))


def booster(fold: Fold, seed: int, **overrides: object):
    """The fold's tuned boosting (unfitted) with some of its settings replaced: any parameter of
    ``HistGradientBoostingClassifier`` (``early_stopping``, ``max_iter``, ``max_features``, ...)."""
    return estimators.make("hgb", fold.hgb, seed).set_params(**overrides)


def songs(fold: Fold, seeds: Sequence[int] = SEEDS, **overrides: object) -> tuple[np.ndarray, list[int]]:
    models = [booster(fold, seed, **overrides).fit(fold.X, fold.y) for seed in seeds]
    return np.mean([m.predict_proba(fold.X_test) for m in models], axis=0), [m.n_iter_ for m in models]


def artists(fold: Fold, seeds: Sequence[int] = SEEDS) -> tuple[np.ndarray, list[int]]:
    groups = shared_track_groups(fold.songs.loc[fold.rows], "Artist")
    probas, iterations = [], []
    for seed in seeds:
        fit, held = next(GroupShuffleSplit(n_splits=1, test_size=HELD_OUT, random_state=seed).split(fold.X, fold.y, groups))
        model = booster(fold, seed).fit(fold.X[fit], fold.y[fit], X_val=fold.X[held], y_val=fold.y[held])
        probas.append(model.predict_proba(fold.X_test))
        iterations.append(model.n_iter_)
    return np.mean(probas, axis=0), iterations


def columns8_prior_tuned(fold: Fold) -> tuple[np.ndarray, list[int]]:
    proba, iterations = songs(fold, seeds=BAG, max_features=0.5)
    return tuned_prior_pool(fold, proba), iterations


def cv(fold: Fold) -> tuple[np.ndarray, list[int]]:
    most = int(fold.hgb["max_iter"])
    probas, iterations = [], []
    for seed in SEEDS:
        losses = np.zeros(most)
        for k in np.unique(fold.folds):
            held = fold.folds == k
            model = booster(fold, seed, early_stopping=False).fit(fold.X[~held], fold.y[~held])
            for i, proba in enumerate(model.staged_predict_proba(fold.X[held])):
                losses[i] += log_loss(fold.y[held], proba, labels=range(len(fold.classes))) * held.sum()
        best = int(np.argmin(losses)) + 1
        model = booster(fold, seed, early_stopping=False, max_iter=best).fit(fold.X, fold.y)
        probas.append(model.predict_proba(fold.X_test))
        iterations.append(best)
    return np.mean(probas, axis=0), iterations


def _forest(
    fold: Fold, kind: type[RandomForestClassifier] | type[ExtraTreesClassifier], max_features: float | str
) -> tuple[np.ndarray, list[int]]:
    """A forest of 500 trees (leaves of at least 2 songs), its test probabilities averaged over :data:`SEEDS`."""
    forests = [kind(n_estimators=500, min_samples_leaf=2, max_features=max_features, n_jobs=2, random_state=seed) for seed in SEEDS]
    return np.mean([model.fit(fold.X, fold.y).predict_proba(fold.X_test) for model in forests], axis=0), []


def forest(fold: Fold) -> tuple[np.ndarray, list[int]]:
    return _forest(fold, RandomForestClassifier, "sqrt")


def extra(fold: Fold) -> tuple[np.ndarray, list[int]]:
    return _forest(fold, ExtraTreesClassifier, 0.3)


def _network(fold: Fold, split: Callable[[int], tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, list[int]]:
    """The fold's network (its ``network_params``), fit per seed on ``split(seed)``'s (fit, early-stopping) rows."""
    probas, epochs = [], []
    for seed in SEEDS:
        fit, held = split(seed)
        model, history = network.fit_network(
            fold.network_params, fold.X[fit], fold.y[fit], fold.X[held], fold.y[held], len(fold.classes), TRAINING, seed
        )
        probas.append(network.predict_proba(model, fold.X_test))
        epochs.append(int(history["epochs"]))
    return np.mean(probas, axis=0), epochs


def network_songs(fold: Fold) -> tuple[np.ndarray, list[int]]:
    n_fit = len(fold.y) - fold.n_es
    return _network(fold, lambda seed: (np.arange(n_fit), np.arange(n_fit, len(fold.y))))


def network_artists(fold: Fold) -> tuple[np.ndarray, list[int]]:
    groups = shared_track_groups(fold.songs.loc[fold.rows], "Artist")
    return _network(fold, lambda seed: next(StratifiedGroupKFold(5, shuffle=True, random_state=seed).split(fold.X, fold.y, groups)))


VARIANTS: dict[str, Callable[[Fold], tuple[np.ndarray, list[int]]]] = {
    "songs": songs,
    "artists": artists,
    "cv": cv,
    "songs8": functools.partial(songs, seeds=BAG),
    "artists8": functools.partial(artists, seeds=BAG),
    "columns8": functools.partial(songs, seeds=BAG, max_features=0.5),
    "columns8_30": functools.partial(songs, seeds=BAG, max_features=0.3),
    "columns": functools.partial(songs, max_features=0.5),
    "columns16": functools.partial(songs, seeds=BAG16, max_features=0.5),
    "columns8_prior_tuned": columns8_prior_tuned,
    "forest": forest,
    "extra": extra,
    "network_songs": network_songs,
    "network_artists": network_artists,
}


def main() -> None:
    results, variants = variants_cli(__doc__, list(VARIANTS))

    def predict(fold: Fold, variant: str) -> tuple[np.ndarray, str]:
        proba, iterations = VARIANTS[variant](fold)
        return proba, f"iterations {iterations}"

    score_variants(results, variants, predict)


if __name__ == "__main__":
    main()
