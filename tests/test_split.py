"""Split: stratified by song; by artist, no artist in two places."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workflow_scripts.core.errors import UserError
from workflow_scripts.split.folds import ARTIST_GROUPS, make_split, split_params


def songs(n_artists: int = 60, per_artist: int = 8, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    genres = np.array(["rock", "pop", "metal"])
    artist_genre = genres[rng.integers(0, 3, n_artists)]
    rows = [
        {"row": a * per_artist + i, "Artist": f"artist {a}", "genre": artist_genre[a]} for a in range(n_artists) for i in range(per_artist)
    ]
    return pd.DataFrame(rows)


def test_song_split_is_stratified_and_complete() -> None:
    data = songs()
    split = make_split(data, 0.2, 3, 42)
    assert len(split) == len(data) and split["row"].is_unique
    assert abs((split["set"] == "test").mean() - 0.2) < 0.02
    train = split[split["set"] == "train"]
    assert set(train["fold"]) == {0, 1, 2}
    assert (split.loc[split["set"] == "test", "fold"] == -1).all()
    merged = data.merge(split, on="row")
    shares = merged.groupby("set")["genre"].value_counts(normalize=True).unstack()
    assert (shares.loc["train"] - shares.loc["test"]).abs().max() < 0.05


def test_artist_split_keeps_artists_whole() -> None:
    data = songs()
    merged = data.merge(make_split(data, 0.2, 3, 42, group_by="Artist"), on="row")
    train_artists = set(merged.loc[merged["set"] == "train", "Artist"])
    test_artists = set(merged.loc[merged["set"] == "test", "Artist"])
    assert train_artists.isdisjoint(test_artists) and test_artists
    per_artist_folds = merged[merged["set"] == "train"].groupby("Artist")["fold"].nunique()
    assert (per_artist_folds == 1).all()


def test_artists_sharing_a_track_stay_on_one_side() -> None:
    data = songs().assign(Uri=lambda d: "track " + d["row"].astype(str))
    # Artists 0-2 and 10-11 each share one track (a collaboration listed under each of them).
    for a, b in [(0, 1), (1, 2), (10, 11)]:
        data.loc[data.index[b * 8], "Uri"] = data.loc[data.index[a * 8], "Uri"]
    for outer in range(5):
        merged = data.merge(make_split(data, 0.2, 3, 42, group_by="artist", outer_fold=outer), on="row")
        for group in (["artist 0", "artist 1", "artist 2"], ["artist 10", "artist 11"]):
            rows = merged[merged["Artist"].isin(group)]
            assert rows["set"].nunique() == 1 and rows["fold"].nunique() == 1, rows
        train, test = merged[merged["set"] == "train"], merged[merged["set"] == "test"]
        assert set(train["Uri"]).isdisjoint(test["Uri"])


def test_songs_without_a_track_id_link_no_artists() -> None:
    data = songs().assign(Uri=pd.Series([None] * 480, dtype="string"))
    merged = data.merge(make_split(data, 0.2, 3, 42, group_by="artist"), on="row")
    assert 0.1 < (merged["set"] == "test").mean() < 0.3
    assert merged.groupby("Artist")["set"].nunique().max() == 1


def test_split_params_name_the_grouping_only_by_artist() -> None:
    # The rules' params: an artist-disjoint run reruns its splits when the grouping changes;
    # a split by song (the study's, with its long grid downstream) keeps its params.
    by_song = {"test_size": 0.2, "n_folds": 3, "seed": 42, "group_by": None}
    assert split_params(by_song) == by_song
    assert split_params({**by_song, "group_by": "artist"})["artist_groups"] == ARTIST_GROUPS


def test_outer_folds_cover_every_artist_once() -> None:
    data = songs()
    seen = []
    for outer in range(5):
        merged = data.merge(make_split(data, 0.2, 3, 42, group_by="Artist", outer_fold=outer), on="row")
        seen += sorted(set(merged.loc[merged["set"] == "test", "Artist"]))
    assert sorted(seen) == sorted(set(data["Artist"]))


def test_too_few_songs_is_a_clear_error() -> None:
    data = pd.DataFrame({"row": range(5), "Artist": list("abcde"), "genre": ["rock"] * 4 + ["pop"]})
    with pytest.raises(UserError, match="too few for 3 folds"):
        make_split(data, 0.2, 3, 42)
