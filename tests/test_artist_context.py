"""Artist context (features.artist_context): the mean over the artist's songs in the same set
and their number; sets never mix; chunked sums give the whole input's context."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.test_song_features import songs as text_songs
from workflow_scripts.core.artist_sums import ArtistSums
from workflow_scripts.features import artist_context
from workflow_scripts.features import pipeline as features
from workflow_scripts.split.folds import make_split

FEATURES = {"numeric": ["Energy", "Loudness"], "categorical": ["Album_type"], "imputer": "median", "engineered": False}


def test_context_is_the_artists_mean_and_count_and_blank_artists_stay_alone() -> None:
    X = np.array([[1.0, 0.0], [3.0, 2.0], [5.0, 4.0], [7.0, 6.0], [9.0, 8.0]], dtype="float32")
    artists = ["a", "b", "a", None, "  "]
    out = artist_context.with_context(X, artists)
    assert out.dtype == np.float32 and out.shape == (5, 5)
    np.testing.assert_array_equal(out[:, :2], X)
    np.testing.assert_array_equal(out[:, 2:4], [[3, 2], [3, 2], [3, 2], [7, 6], [9, 8]])
    np.testing.assert_allclose(out[:, 4], np.log([2, 1, 2, 1, 1]))
    assert artist_context.column_names(["x", "y"]) == ["x", "y", "artist_mean_x", "artist_mean_y", "artist_log_songs"]


def test_sums_over_chunks_give_the_whole_inputs_context() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(101, 4)).astype("float32")
    artists = pd.Series(rng.choice(["a", "b", "c", "d", None], size=101), dtype=object)
    whole = artist_context.with_context(X, artists)
    sums = ArtistSums(4)
    for start in range(0, 101, 7):
        sums.add(artists[start : start + 7], X[start : start + 7])
    chunked = np.vstack([artist_context.with_context(X[s : s + 7], artists[s : s + 7], sums) for s in range(0, 101, 7)])
    np.testing.assert_array_equal(chunked, whole)


def _prepared(data: pd.DataFrame, context: bool, augment: bool = False) -> tuple[dict, pd.DataFrame]:
    split = make_split(data, 0.25, 3, 42, group_by="Artist")
    settings = {**FEATURES, "flags": False, "text": ["song"], "artist_context": context, "context_augmentation": augment}
    return features.prepare(data, split, settings, 0.2, 42), data.merge(split, on="row")


def test_each_set_is_its_own_context_and_the_song_columns_are_unchanged() -> None:
    data = text_songs(120)
    plain, _ = _prepared(data, False)
    arrays, merged = _prepared(data, True)
    artist = merged.set_index("row")["Artist"]
    width = plain["X_test"].shape[1]
    assert list(arrays["feature_names"]) == artist_context.column_names(list(plain["feature_names"]))
    for suffix in ["", "_0", "_1", "_2"]:
        other = "test" if suffix == "" else "val"
        for name in ("fit", "es", other):
            np.testing.assert_array_equal(arrays[f"X_{name}{suffix}"][:, :width], plain[f"X_{name}{suffix}"])
        # the training rows (fit and early-stopping rows together) among themselves ...
        train = np.vstack([plain[f"X_fit{suffix}"], plain[f"X_es{suffix}"]])
        train_artists = artist.loc[np.concatenate([plain[f"row_fit{suffix}"], plain[f"row_es{suffix}"]])].to_numpy()
        expected = artist_context.with_context(train, train_artists)
        np.testing.assert_array_equal(np.vstack([arrays[f"X_fit{suffix}"], arrays[f"X_es{suffix}"]]), expected)
        # ... and the held-out rows among themselves only
        held_out = artist.loc[plain[f"row_{other}{suffix}"]].to_numpy()
        np.testing.assert_array_equal(arrays[f"X_{other}{suffix}"], artist_context.with_context(plain[f"X_{other}{suffix}"], held_out))
        assert not set(held_out) & set(train_artists)  # artist-disjoint: no context reaches across


def test_the_fitted_features_give_the_test_rows_context_among_the_input() -> None:
    data = text_songs(120)
    arrays, merged = _prepared(data, True)
    split = merged[["row", "set", "fold"]]
    settings = {**FEATURES, "flags": False, "text": ["song"], "artist_context": True}
    fitted = features.fit_final(data, split, settings, 42)
    test = merged[merged["set"] == "test"].set_index("row").loc[arrays["row_test"]].reset_index()
    np.testing.assert_allclose(fitted.transform(test), arrays["X_test"], rtol=0, atol=1e-6)
    alone = fitted.transform(test.iloc[:1])  # a lone song sees only itself
    width = alone.shape[1] // 2
    np.testing.assert_array_equal(alone[0, width : 2 * width], alone[0, :width])
    assert alone[0, -1] == 0.0


def test_random_halves_split_each_artist_and_leave_blank_artists_alone() -> None:
    artists = np.array(["a"] * 50 + ["b"] * 50 + [None, " "], dtype=object)
    halves = artist_context.random_halves(artists, 7)
    assert set(halves[:50]) == {"a\x000", "a\x001"} and set(halves[50:100]) == {"b\x000", "b\x001"}
    assert halves[100] is None and halves[101] == " "
    np.testing.assert_array_equal(halves, artist_context.random_halves(artists, 7))  # the seed decides
    assert not np.array_equal(halves, artist_context.random_halves(artists, 8))


def test_augmentation_repeats_the_fit_rows_with_a_random_halfs_context_only_in_training() -> None:
    data = text_songs(120)
    plain, _ = _prepared(data, True)
    arrays, merged = _prepared(data, True, augment=True)
    artist = merged.set_index("row")["Artist"]
    width = len(plain["feature_names"]) // 2  # song columns (the count column rounds down)
    for suffix in ["", "_0", "_1", "_2"]:
        other = "test" if suffix == "" else "val"
        for name in ("es", other):  # early-stopping and held-out rows: as without augmentation
            for key in ("X", "y", "row", "fold"):
                np.testing.assert_array_equal(arrays[f"{key}_{name}{suffix}"], plain[f"{key}_{name}{suffix}"])
        n = len(plain[f"y_fit{suffix}"])
        assert len(arrays[f"X_fit{suffix}"]) == 2 * n
        for key in ("y", "row", "fold"):
            np.testing.assert_array_equal(arrays[f"{key}_fit{suffix}"], np.tile(plain[f"{key}_fit{suffix}"], 2))
        full, half = arrays[f"X_fit{suffix}"][:n], arrays[f"X_fit{suffix}"][n:]
        np.testing.assert_array_equal(full, plain[f"X_fit{suffix}"])
        np.testing.assert_array_equal(half[:, :width], full[:, :width])  # the same songs ...
        # ... whose context is a random half's: the training rows' context over halved artists
        train = np.vstack([plain[f"X_fit{suffix}"], plain[f"X_es{suffix}"]])[:, :width]
        train_artists = artist.loc[np.concatenate([plain[f"row_fit{suffix}"], plain[f"row_es{suffix}"]])].to_numpy()
        expected = artist_context.with_context(train, artist_context.random_halves(train_artists, 42))[:n]
        np.testing.assert_array_equal(half, expected)
        assert (half[:, -1] < full[:, -1]).any()  # some artists' halves hold fewer songs
        assert (
            features.training_set(arrays, suffix).n_songs == features.training_set(plain, suffix).n_songs == n + len(plain[f"y_es{suffix}"])
        )
