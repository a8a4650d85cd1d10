"""Levers for accuracy pooled over an unseen artist's songs, measured outside the workflow (issue 23).

Reads the outer folds' arrays and tuned boosting settings of a finished artist-disjoint run
(with or without artist context) and, on each of the 5 outer folds, fits on the training rows
only and scores the test rows:

    .venv/bin/snakemake --cores 2 --configfile configs/study.yaml configs/artist_disjoint.yaml \
        --config results_dir=/tmp/ad -- /tmp/ad/outer/{0,1,2,3,4}/metrics.json
    OMP_NUM_THREADS=1 .venv/bin/python experiments/pooled_levers.py /tmp/ad

Variants (boosting with the fold's tuned settings, seeds 42 and 43 averaged, unless said):

- ``hgb``: as the workflow's outer evaluation fits it.
- ``vote``: soft vote of boosting and the RBF SVM (the workflow's vote without the network).
- ``stack``: a learned combination: a multinomial logistic regression on the log-probabilities
  of boosting, SVM and KNN, fit on their out-of-fold probabilities over the training rows'
  artist-grouped CV folds (each base model then refit on all training rows).
- ``weighted``: boosting with each training song weighted 1/(songs of its artist), so every
  training artist counts once.
- ``artist``: one row per artist: boosting fit on each training artist's mean feature row and
  log(songs), labelled with its majority genre; a test artist's mean row gets one prediction.
- ``views`` (a run with artist context): the mean of boosting on every column and boosting on
  the song's own columns only (the columns before the context's), two views of one song.
- ``prior``: boosting pooled as independent evidence: per test artist, the genre that
  maximises the sum of its songs' log-probabilities less (songs - 1) times the log of the
  genre's training share (the mean probability counts the prior once per song).
- ``prior_tuned``: ``prior`` with the weight of the (songs - 1) x log prior term (0 to 1.5 in
  steps of 1/8) chosen to maximise pooled accuracy of boosting's out-of-fold probabilities over
  the training rows' artist-grouped CV folds.
- ``balanced``: boosting fit with each training song weighted 1/(its genre's share), so every
  genre weighs the same; its test songs pooled as evidence against a flat prior, then the
  training prior multiplied in once (the same posterior as ``prior`` if both were calibrated).
- ``blend``: the mean of boosting pooled over the artist's songs and ``artist``.
- ``learned``: a learned pooling: an artist-level multinomial logistic regression on the
  distribution of an artist's song probabilities (mean, mean log, spread, maximum, log songs).
  It is fit on the training rows, each song labelled with its own genre and described by its
  artist's distribution of boosting's out-of-fold probabilities (the training rows'
  artist-grouped CV folds); a test artist is described by boosting's test probabilities.
- ``learned_rows``: the same, by boosting on the distribution and the artist's mean feature row.
- ``named``: boosting with six more columns per song: the genre shares of the training artists
  its track name or video title names (``feat. X``, ``X & Y - ...``; names of 4+ characters,
  its own artist left out), and how many it names; taken from the training rows' labels.
- ``doc``: an artist-level text model: each artist's songs' texts (title, track, album and
  description without URLs, as the workflow's text blocks) joined into one document, TF-IDF of
  word 1-2-grams and character 3-5-grams into a class-balanced logistic regression fit on the
  training artists' documents (each labelled with its majority genre); a test artist's document
  gets one prediction, shared by its songs.
- ``doc_blend``: the mean of boosting pooled over the artist's songs and ``doc`` (fixed 1/2).
- ``doc_rows``: boosting with ``doc``'s six probabilities as more columns per song: out-of-fold
  over the training rows' artist-grouped CV folds (the documents of the other folds' artists),
  and from all training artists for the test rows.
- ``pseudo``: self-training on the unseen artists (their labels never read): boosting as
  ``hgb``, pooled per test artist; the songs of the test artists whose pooled probability of
  their top genre is at least 0.8 join the training rows with that genre, and boosting is fit
  again on the enlarged rows.
- ``unshared``: boosting scored only on the test songs whose Spotify track is not also in the
  training rows (a collaboration listed under two artists); the other variants score all.

``prior``, ``prior_tuned``, ``balanced`` and ``blend`` return probabilities already pooled per
artist, so their song-level column repeats the pooled one.

Prints song-level accuracy and accuracy pooled over each test artist's songs (the mean
probability per artist, ``evaluation.metrics.pool_by_artist``) per fold, then mean and sample
standard deviation over the folds, and each variant's pooled confusion over all folds.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import PredefinedSplit, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments import fold_table  # noqa: E402
from workflow_scripts.core import footprint  # noqa: E402
from workflow_scripts.evaluation import metrics, pooling  # noqa: E402
from workflow_scripts.features import pipeline as features  # noqa: E402
from workflow_scripts.features import song_texts  # noqa: E402
from workflow_scripts.models import estimators  # noqa: E402

SEEDS = (42, 43)
#: what :meth:`Fold.figures` returns, in order
FIGURES = ("song accuracy", "song macro AUC-PR", *(f"pooled, {rule}" for rule in pooling.POOLINGS))
BASELINES = {"knn": {"n_neighbors": 12}, "svm": {"C": 1.0, "gamma": "scale"}}


class Fold:
    """One outer fold: its training and test rows, their artists, boosting's tuned settings and the network's."""

    def __init__(self, results: Path, k: int, songs: pd.DataFrame) -> None:
        arrays = features.load_arrays(results / "outer" / str(k) / "arrays.npz")
        self.X, self.y, self.folds, rows = features.training_set(arrays)
        self.X_test, self.y_test = arrays["X_test"], arrays["y_test"]
        self.classes = list(arrays["classes"])
        names = list(arrays["feature_names"])
        self.n_song_columns = len(names) if "artist_log_songs" not in names else (len(names) - 1) // 2
        self.rows, self.test_rows = rows, arrays["row_test"]
        self.artists = songs["Artist"].loc[rows].to_numpy()
        self.test_artists = songs["Artist"].loc[arrays["row_test"]].to_numpy()
        self.songs = songs
        self.shares = pooling.class_shares(self.y, len(self.classes))
        texts = (songs["Track"].fillna("") + " | " + songs["Title"].fillna("")).str.lower()
        self.texts, self.test_texts = texts.loc[rows].to_numpy(), texts.loc[arrays["row_test"]].to_numpy()
        self.test_shared = songs["Uri"].loc[arrays["row_test"]].isin(songs["Uri"].loc[rows]).to_numpy()
        run = outer_run(results, k)
        self.hgb = tuned_boosting(run)
        self.network_params = run["network_params"]
        self.n_es = len(arrays["y_es"])  # the training rows end with the network's early-stopping rows

    @functools.cached_property
    def hgb_test(self) -> np.ndarray:
        """Boosting's test probabilities on the fold's columns (fit once; several variants use them)."""
        return self.boosting(self.X, self.y, self.X_test)

    @functools.cached_property
    def hgb_out_of_fold(self) -> np.ndarray:
        """Boosting's out-of-fold probabilities over the training rows' artist-grouped CV folds
        (fit once; ``prior_tuned``, ``learned``, ``learned_rows`` and pooling_rules.py use them)."""
        cv = PredefinedSplit(self.folds)
        return np.mean(
            [cross_val_predict(estimators.make("hgb", self.hgb, seed), self.X, self.y, cv=cv, method="predict_proba") for seed in SEEDS],
            axis=0,
        )

    @functools.cached_property
    def documents(self) -> pd.Series:
        """Each artist's texts as one document (``doc`` variants only)."""
        return _artist_documents(self.songs)

    @functools.cached_property
    def doc_test(self) -> np.ndarray:
        """The document model's test probabilities (fit once; ``doc``, ``doc_blend`` and ``doc_rows`` use them)."""
        return _document_proba(self, self.artists, self.y, self.test_artists)

    def figures(self, proba: np.ndarray) -> tuple[float, ...]:
        """Test probabilities ``proba`` scored as :data:`FIGURES` names: song-level accuracy and
        macro AUC-PR, then accuracy pooled over each test artist's songs by each rule of
        ``evaluation.pooling`` (the training rows' genre shares as the prior)."""
        song = metrics.metrics(self.y_test, proba, self.classes)
        pooled = [pooling.pool(proba, self.test_artists, rule, self.shares) for rule in pooling.POOLINGS]
        return (song["accuracy"], song["auc_pr_macro"], *(metrics.metrics(self.y_test, p, self.classes)["accuracy"] for p in pooled))

    def boosting(self, X: np.ndarray, y: np.ndarray, X_test: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
        """The fold's boosting's test probabilities, averaged over :data:`SEEDS`."""
        return seed_averaged_boosting(self.hgb, X, y, X_test, weight)


def variants_cli(doc: str | None, default: Sequence[str]) -> tuple[Path, list[str]]:
    """The command line of the scripts that score variants on a run's outer folds: the run's
    ``results_dir`` and ``--variants`` (comma-separated; ``default`` when not given)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, help="results_dir of a finished artist-disjoint run (outer folds)")
    parser.add_argument("--variants", default=",".join(default))
    args = parser.parse_args()
    return args.results, args.variants.split(",")


def score_variants(results: Path, variants: Sequence[str], predict: Callable[[Fold, str], tuple[np.ndarray, str]]) -> None:
    """On each outer fold of ``results``, score each variant's test probabilities (``predict``
    gives them and a note for the log line) by :meth:`Fold.figures`, then print the table."""
    songs = pd.read_parquet(results / "data" / "selected.parquet").set_index("row")
    scores: dict[str, list[tuple[float, ...]]] = {}
    for k in range(5):
        fold = Fold(results, k, songs)
        for variant in variants:
            proba, note = predict(fold, variant)
            figures = fold.figures(proba)
            scores.setdefault(variant, []).append(figures)
            cells = " ".join(f"{f:.4f}" for f in figures)
            print(f"fold {k} {variant:8s} {note} {', '.join(FIGURES)}: {cells}", flush=True)
    fold_table.print_table(scores, FIGURES)


def outer_run(results: Path, k: int) -> dict[str, Any]:
    """What the outer evaluation of fold ``k`` recorded (``metrics.json``): tuned settings, network."""
    return json.loads((results / "outer" / str(k) / "metrics.json").read_text())


def tuned_boosting(run: dict[str, Any]) -> dict[str, Any]:
    """Boosting's settings as an outer fold's evaluation tuned them, to be fit without a grid."""
    return {**footprint.defaults("baselines.hgb"), **run["tuned_params"]["hgb"], "grid": {}}


def seed_averaged_boosting(
    settings: dict[str, Any], X: np.ndarray, y: np.ndarray, X_test: np.ndarray, weight: np.ndarray | None = None
) -> np.ndarray:
    """Boosting's test probabilities, averaged over :data:`SEEDS` (``weight``: per training row, rescaled to mean 1)."""
    weight = None if weight is None else weight / weight.mean()
    return np.mean([estimators.make("hgb", settings, seed).fit(X, y, sample_weight=weight).predict_proba(X_test) for seed in SEEDS], axis=0)


def _log(p: np.ndarray) -> np.ndarray:
    return np.log(np.clip(p, 1e-4, 1.0))


def hgb(fold: Fold) -> np.ndarray:
    return fold.hgb_test


def vote(fold: Fold) -> np.ndarray:
    svm = estimators.make("svm", BASELINES["svm"], 42).fit(fold.X, fold.y).predict_proba(fold.X_test)
    return estimators.soft_vote({"hgb": hgb(fold), "svm": svm}, ["hgb", "svm"])


def stack(fold: Fold) -> np.ndarray:
    cv = PredefinedSplit(fold.folds)
    out_of_fold, test = [], []
    for name in ("hgb", "svm", "knn"):
        settings = fold.hgb if name == "hgb" else BASELINES[name]
        out_of_fold.append(_log(cross_val_predict(estimators.make(name, settings, 42), fold.X, fold.y, cv=cv, method="predict_proba")))
        test.append(_log(estimators.make(name, settings, 42).fit(fold.X, fold.y).predict_proba(fold.X_test)))
    meta = LogisticRegression(C=1.0, max_iter=5000).fit(np.hstack(out_of_fold), fold.y)
    return meta.predict_proba(np.hstack(test))


def weighted(fold: Fold) -> np.ndarray:
    artists = pd.Series(fold.artists)
    return fold.boosting(fold.X, fold.y, fold.X_test, 1.0 / artists.map(artists.value_counts()).to_numpy(dtype=float))


def artist(fold: Fold) -> np.ndarray:
    def per_artist(X: np.ndarray, artists: np.ndarray) -> pd.DataFrame:
        means = pd.DataFrame(X).groupby(artists).mean()
        return means.assign(log_songs=np.log(pd.Series(artists).value_counts().reindex(means.index).to_numpy()))

    train, test = per_artist(fold.X, fold.artists), per_artist(fold.X_test, fold.test_artists)
    majority = pd.Series(fold.y).groupby(fold.artists).agg(lambda v: np.bincount(v).argmax()).reindex(train.index)
    proba = pd.DataFrame(fold.boosting(train.to_numpy(), majority.to_numpy(), test.to_numpy()), index=test.index)
    return proba.loc[fold.test_artists].to_numpy()


def views(fold: Fold) -> np.ndarray:
    d = fold.n_song_columns
    return (hgb(fold) + fold.boosting(fold.X[:, :d], fold.y, fold.X_test[:, :d])) / 2


def _prior_pool(proba: np.ndarray, artists: np.ndarray, shares: np.ndarray, weight: float) -> np.ndarray:
    """The workflow's ``evidence`` pooling with the prior's term weighted: (songs - 1) x weight x
    log share is (songs - 1) x log(share ** weight)."""
    return pooling.pool(proba, artists, "evidence", shares**weight)


def prior(fold: Fold) -> np.ndarray:
    """Boosting pooled as independent evidence: per artist, argmax of sum log p(y|song) - (n-1) log p(y)."""
    return _prior_pool(hgb(fold), fold.test_artists, fold.shares, 1.0)


PRIOR_WEIGHTS = np.round(np.arange(0.0, 1.51, 0.125), 3)


def balanced(fold: Fold) -> np.ndarray:
    """Boosting fit with every genre weighted equally, its songs pooled as evidence (a flat
    prior to divide out), then the training prior counted once."""
    proba = fold.boosting(fold.X, fold.y, fold.X_test, 1.0 / fold.shares[fold.y])
    flat = np.full(len(fold.classes), 1.0 / len(fold.classes))
    posterior = pooling.pool(proba, fold.test_artists, "evidence", flat) * fold.shares
    return posterior / posterior.sum(axis=1, keepdims=True)


def tuned_prior_pool(fold: Fold, proba: np.ndarray) -> np.ndarray:
    """Test probabilities ``proba`` pooled as evidence, the prior's weight chosen to maximise
    pooled accuracy of boosting's out-of-fold probabilities over the training rows."""
    out_of_fold = fold.hgb_out_of_fold
    accuracy = [(_prior_pool(out_of_fold, fold.artists, fold.shares, w).argmax(axis=1) == fold.y).mean() for w in PRIOR_WEIGHTS]
    weight = float(PRIOR_WEIGHTS[int(np.argmax(accuracy))])
    print(f"prior weight {weight} (out-of-fold pooled {max(accuracy):.4f}; weight 1: {accuracy[8]:.4f})", flush=True)
    return _prior_pool(proba, fold.test_artists, fold.shares, weight)


def prior_tuned(fold: Fold) -> np.ndarray:
    """``prior`` with the prior's weight chosen on the training rows' out-of-fold probabilities."""
    return tuned_prior_pool(fold, hgb(fold))


def blend(fold: Fold) -> np.ndarray:
    """The mean of boosting pooled over the artist's songs and the one-row-per-artist model."""
    return (metrics.pool_by_artist(hgb(fold), fold.test_artists) + artist(fold)) / 2


def _distribution(proba: np.ndarray, artists: np.ndarray) -> np.ndarray:
    """Each song's artist's distribution of song probabilities: mean, mean log, std, max, log songs."""
    by_artist = pd.DataFrame(proba).groupby(artists)
    parts = [by_artist.transform(f).to_numpy() for f in ("mean", "std", "max")]
    log_mean = pd.DataFrame(_log(proba)).groupby(artists).transform("mean").to_numpy()
    n = by_artist[0].transform("size").to_numpy()[:, None]
    return np.hstack([parts[0], log_mean, np.nan_to_num(parts[1]), parts[2], np.log(n)])


def learned(fold: Fold) -> np.ndarray:
    train = _distribution(fold.hgb_out_of_fold, fold.artists)
    meta = LogisticRegression(C=1.0, max_iter=5000).fit(train, fold.y)
    return meta.predict_proba(_distribution(hgb(fold), fold.test_artists))


def learned_rows(fold: Fold) -> np.ndarray:
    def describe(proba: np.ndarray, X: np.ndarray, artists: np.ndarray) -> np.ndarray:
        return np.hstack([_distribution(proba, artists), pd.DataFrame(X).groupby(artists).transform("mean").to_numpy()])

    train = describe(fold.hgb_out_of_fold, fold.X, fold.artists)
    return fold.boosting(train, fold.y, describe(hgb(fold), fold.X_test, fold.test_artists))


def _named_genres(texts: np.ndarray, own: np.ndarray, genre_of: pd.Series, n_classes: int) -> np.ndarray:
    """Per song: the class shares of the known artists its text names (own artist left out), and their count."""
    names = [name for name in genre_of.index if len(name) >= 4]
    pattern = re.compile(r"\b(" + "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True)) + r")\b")
    out = np.zeros((len(texts), n_classes + 1))
    for i, (text, artist) in enumerate(zip(texts, own, strict=True)):
        found = {name for name in pattern.findall(text) if name != artist.lower()}
        for name in found:
            out[i, genre_of[name]] += 1 / len(found)
        out[i, -1] = len(found)
    return out


def named(fold: Fold) -> np.ndarray:
    genre_of = pd.Series(fold.y).groupby(pd.Series(fold.artists).str.lower().to_numpy()).agg(lambda v: np.bincount(v).argmax())
    n = len(fold.classes)
    train = np.hstack([fold.X, _named_genres(fold.texts, fold.artists, genre_of, n)])
    test = np.hstack([fold.X_test, _named_genres(fold.test_texts, fold.test_artists, genre_of, n)])
    return fold.boosting(train, fold.y, test)


def _artist_documents(songs: pd.DataFrame) -> pd.Series:
    """Each song's text (the workflow's song and description blocks), joined per artist into one document."""
    blocks = song_texts.text_inputs(songs)
    return (blocks["song"] + " | " + blocks["description"]).groupby(songs["Artist"]).agg(" || ".join)


def _document_model() -> Pipeline:
    words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2, max_df=0.5, sublinear_tf=True, max_features=100000)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=3, sublinear_tf=True, max_features=100000)
    return Pipeline(
        [("vec", FeatureUnion([("w", words), ("c", chars)])), ("lr", LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced"))]
    )


def _document_proba(fold: Fold, train_artists: np.ndarray, train_y: np.ndarray, predict_artists: np.ndarray) -> np.ndarray:
    """The document model fit on ``train_artists`` (majority genre), its probabilities per ``predict_artists`` row."""
    majority = pd.Series(train_y).groupby(train_artists).agg(lambda v: np.bincount(v).argmax())
    model = _document_model().fit(fold.documents.loc[majority.index], majority.to_numpy())
    proba = np.zeros((len(predict_artists), len(fold.classes)))
    unique = pd.unique(predict_artists)
    by_artist = pd.DataFrame(model.predict_proba(fold.documents.loc[unique]), index=unique, columns=model.classes_)
    proba[:, by_artist.columns] = by_artist.loc[predict_artists].to_numpy()
    return proba


def doc(fold: Fold) -> np.ndarray:
    return fold.doc_test


def doc_blend(fold: Fold) -> np.ndarray:
    return (metrics.pool_by_artist(hgb(fold), fold.test_artists) + doc(fold)) / 2


def doc_rows(fold: Fold) -> np.ndarray:
    out_of_fold = np.zeros((len(fold.y), len(fold.classes)))
    for f in np.unique(fold.folds):
        held = fold.folds == f
        out_of_fold[held] = _document_proba(fold, fold.artists[~held], fold.y[~held], fold.artists[held])
    return fold.boosting(np.hstack([fold.X, out_of_fold]), fold.y, np.hstack([fold.X_test, doc(fold)]))


def pseudo(fold: Fold, threshold: float = 0.8) -> np.ndarray:
    pooled = metrics.pool_by_artist(hgb(fold), fold.test_artists)
    sure = pooled.max(axis=1) >= threshold
    X = np.vstack([fold.X, fold.X_test[sure]])
    y = np.concatenate([fold.y, pooled[sure].argmax(axis=1)])
    print(f"pseudo: {sure.sum()} of {len(sure)} test songs labelled by the model", flush=True)
    return fold.boosting(X, y, fold.X_test)


VARIANTS: dict[str, Callable[[Fold], np.ndarray]] = {
    "hgb": hgb,
    "vote": vote,
    "stack": stack,
    "weighted": weighted,
    "artist": artist,
    "views": views,
    "prior": prior,
    "prior_tuned": prior_tuned,
    "balanced": balanced,
    "blend": blend,
    "learned": learned,
    "learned_rows": learned_rows,
    "named": named,
    "doc": doc,
    "doc_blend": doc_blend,
    "doc_rows": doc_rows,
    "pseudo": pseudo,
    "unshared": hgb,
}


def main() -> None:
    results, variants = variants_cli(__doc__, list(VARIANTS))
    songs = pd.read_parquet(results / "data" / "selected.parquet").set_index("row")
    scores: dict[str, list[tuple[float, float]]] = {}
    errors: dict[str, pd.DataFrame] = {}
    for k in range(5):
        fold = Fold(results, k, songs)
        for variant in variants:
            proba: Any = VARIANTS[variant](fold)
            kept = ~fold.test_shared if variant == "unshared" else np.ones(len(proba), dtype=bool)
            y_test, proba, test_artists = fold.y_test[kept], proba[kept], fold.test_artists[kept]
            song = metrics.metrics(y_test, proba, fold.classes)["accuracy"]
            pooled_proba = metrics.pool_by_artist(proba, test_artists)
            pooled = metrics.metrics(y_test, pooled_proba, fold.classes)["accuracy"]
            scores.setdefault(variant, []).append((song, pooled))
            wrong = pd.crosstab(
                pd.Series(np.asarray(fold.classes)[y_test], name="genre"),
                pd.Series(np.asarray(fold.classes)[pooled_proba.argmax(axis=1)], name="pooled as"),
            )
            errors[variant] = wrong if variant not in errors else errors[variant].add(wrong, fill_value=0)
            print(f"fold {k} {variant:8s} song {song:.4f} pooled {pooled:.4f}", flush=True)
    fold_table.print_table(scores, ["song accuracy", "pooled accuracy"])
    for variant, wrong in errors.items():
        print(f"\n{variant}: test songs by genre (rows) and pooled prediction (columns), all folds\n{wrong.fillna(0).astype(int)}")


if __name__ == "__main__":
    main()
