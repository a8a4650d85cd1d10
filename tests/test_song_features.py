"""Features beyond the study's: shapes, no look at test labels, text models fit on training rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.test_dataset import make_songs
from workflow_scripts import song_features


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
