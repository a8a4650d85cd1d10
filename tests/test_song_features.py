"""Features beyond the study's: shapes, no look at test labels, text models fit on training rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.support.reference_text import reference_stacked_text
from tests.test_dataset import make_songs
from workflow_scripts.features import pipeline as features
from workflow_scripts.features import song_features


def songs(n: int = 90) -> pd.DataFrame:
    frame = make_songs(n).rename(columns={"": "row"})
    genres = np.array(["metal", "pop", "rock"])
    frame["genre"] = genres[np.arange(n) % 3]
    frame["Artist"] = [f"artist {i % 30}" for i in range(n)]
    words = {"metal": "riff doom guitar", "pop": "dance love baby", "rock": "guitar band live"}
    frame["Title"] = [f"{words[g]} song {i} (Official Video)" for i, g in enumerate(frame["genre"])]
    frame["Description"] = [f"{words[g]} https://example.org/{i}" for i, g in enumerate(frame["genre"])]
    frame.loc[0, "Description"] = None
    return frame


def test_engineered_and_flags_are_numeric_per_song() -> None:
    data = songs()
    eng = song_features.engineered(data)
    flags = song_features.flags(data)
    assert len(eng) == len(flags) == len(data)
    assert "likes_per_view" in eng and eng.dtypes.map(lambda d: d.kind == "f").all()
    assert flags["t_official_video"].eq(1).all() and flags["desc_urls"].iloc[1] > 0
    assert np.isfinite(flags.to_numpy()).all()


def test_stacked_text_never_sees_labels_outside_training_rows() -> None:
    data = songs()
    y = pd.Categorical(data["genre"]).codes.astype(int)
    train, test = np.arange(60), np.arange(60, 90)
    first_train, first_other = song_features.stacked_text(data, y, train, {"test": test}, ["song"], 42)
    shuffled = y.copy()
    shuffled[test] = np.roll(shuffled[test], 1)
    second_train, second_other = song_features.stacked_text(data, shuffled, train, {"test": test}, ["song"], 42)
    np.testing.assert_array_equal(first_train, second_train)
    np.testing.assert_array_equal(first_other["test"], second_other["test"])
    assert first_train.shape == (60, 3) and first_other["test"].shape == (30, 3)
    assert (first_other["test"].argmax(axis=1) == y[test]).mean() > 0.9  # the words carry the genre


def random_texts(n: int, seed: int = 0) -> list[str]:
    """Documents of random words (and a few empty ones): terms first used in varied orders."""
    rng = np.random.default_rng(seed)
    words = [f"{a}{b}" for a in ["ka", "lo", "mi", "ra", "su", "te", "vo"] for b in ["n", "sh", "rk", "", "ll", "zé"]]
    texts = [" ".join(rng.choice(words, size=rng.integers(1, 15))) for _ in range(n)]
    texts[3] = ""
    return texts


def assert_same_sparse(a, b) -> None:
    """The same matrix to the last bit, stored in the same order (the order decides the sums)."""
    assert a.shape == b.shape
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.data, b.data)


def test_counts_reproduce_tfidf_vectorizer_fits_on_any_rows() -> None:
    from sklearn.base import clone
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = random_texts(120)
    vectorizers = [
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=3, max_df=0.5, max_features=40, sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3, sublinear_tf=True, max_features=300),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=0.05, max_df=0.4, smooth_idf=False),
    ]
    rng = np.random.default_rng(1)
    rows = [np.arange(10, 100), rng.permutation(120)[:70], np.sort(rng.permutation(120)[:50])]
    for vectorizer in vectorizers:
        counts = song_features._Counts(vectorizer, texts)
        for fit_rows in rows:
            other = np.setdiff1d(np.arange(120), fit_rows)
            expected = clone(vectorizer)
            kept, tfidf, fitted = counts.fit(fit_rows)
            assert_same_sparse(fitted, expected.fit_transform([texts[i] for i in fit_rows]))
            assert_same_sparse(counts.transform(other, kept, tfidf), expected.transform([texts[i] for i in other]))
            assert len(kept) == len(expected.vocabulary_)


def test_stacked_text_is_bit_identical_to_cross_val_predict_and_refit() -> None:
    data = songs(150)
    data["Title"] = random_texts(150, seed=2)
    data["Description"] = [f"{t} {d}" for t, d in zip(random_texts(150, seed=3), data["Description"].fillna(""), strict=True)]
    y = pd.Categorical(data["genre"]).codes.astype(int)
    train, others = np.arange(20, 150), {"val": np.arange(20), "test": np.arange(100, 110)}
    blocks = ["song", "description", "channel"]
    expected_train, expected_other = reference_stacked_text(data, y, train, others, blocks, 7)
    got_train, got_other = song_features.stacked_text(data, y, train, others, blocks, 7)
    np.testing.assert_array_equal(got_train, expected_train)
    for name in others:
        np.testing.assert_array_equal(got_other[name], expected_other[name])


def test_training_set_stacks_fit_then_early_stopping_rows() -> None:
    rng = np.random.default_rng(0)
    arrays = {}
    for suffix, n_fit, n_es in (("", 5, 2), ("_0", 4, 3)):
        for part, n in (("fit", n_fit), ("es", n_es)):
            arrays[f"X_{part}{suffix}"] = rng.normal(size=(n, 3)).astype("float32")
            for name in ("y", "fold", "row"):
                arrays[f"{name}_{part}{suffix}"] = rng.integers(0, 100, size=n)
    for suffix in ("", "_0"):
        train = features.training_set(arrays, suffix)
        np.testing.assert_array_equal(train.X, np.vstack([arrays[f"X_fit{suffix}"], arrays[f"X_es{suffix}"]]))
        for field, name in (("y", "y"), ("folds", "fold"), ("rows", "row")):
            expected = np.concatenate([arrays[f"{name}_fit{suffix}"], arrays[f"{name}_es{suffix}"]])
            np.testing.assert_array_equal(getattr(train, field), expected)
        assert train.X.dtype == np.float32 and len(train.rows) == len(arrays[f"row_fit{suffix}"]) + len(arrays[f"row_es{suffix}"])
