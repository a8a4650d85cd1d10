"""Artist context (``features.artist_context``): each song also sees the mean of its artist's
songs in the same input, and how many there are, without any label or identity.

"The same input" is one set of rows: the training rows among themselves, a validation fold or
the test rows among themselves, and in ``predict`` the songs of the input file. An artist's
songs never reach across sets, so in artist-disjoint mode a test song's context is built from
unseen songs only; a song with a blank artist, or an artist's only song, sees itself.
The context columns are the mean of every feature column (audio, engineered, flags, the text
models' probabilities) over the artist's songs, then log(number of the artist's songs).

``features.context_augmentation`` varies the training rows' context: a training artist's
context is one fixed vector, which a model can learn by heart instead of what it says about
the genre; ``random_halves`` gives each training song a second context, that of a random half
of its artist's songs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

COUNT_COLUMN = "artist_log_songs"


def column_names(feature_names: Sequence[str]) -> list[str]:
    """``feature_names`` followed by the context columns."""
    return [*feature_names, *(f"artist_mean_{name}" for name in feature_names), COUNT_COLUMN]


def artist_keys(artists: Any) -> tuple[pd.Series, np.ndarray]:
    """The artists as strings, and which are missing or blank (those songs stay alone)."""
    keys = pd.Series(np.asarray(artists, dtype=object), dtype="string")
    return keys, (keys.isna() | (keys.str.strip() == "")).to_numpy(dtype=bool)


def random_halves(artists: Any, seed: int) -> np.ndarray:
    """The artists with each song put into one of two random halves of its artist ("name",
    half): the context over these keys is that of a random half of the artist's songs.
    Missing and blank artists stay as they are (alone)."""
    keys, blank = artist_keys(artists)
    halves = np.random.default_rng(seed).integers(0, 2, len(keys))
    out = np.asarray(artists, dtype=object).copy()
    out[~blank] = [f"{artist}\0{half}" for artist, half in zip(keys[~blank], halves[~blank], strict=True)]
    return out


class ArtistSums:
    """Running sums of each artist's rows of values and its number of songs, over any number
    of chunks; memory grows with distinct artists, not with songs."""

    def __init__(self, width: int) -> None:
        self.index: dict[str, int] = {}
        self.sums = np.zeros((1024, width))
        self.counts = np.zeros(1024, dtype="int64")

    def _codes(self, keys: pd.Series, blank: np.ndarray, add: bool) -> np.ndarray:
        local, uniques = pd.factorize(keys[~blank].astype(object))
        if add:
            for artist in uniques:
                self.index.setdefault(artist, len(self.index))
            if len(self.index) > len(self.counts):
                grow = max(len(self.index), 2 * len(self.counts)) - len(self.counts)
                self.sums = np.vstack([self.sums, np.zeros((grow, self.sums.shape[1]))])
                self.counts = np.concatenate([self.counts, np.zeros(grow, dtype="int64")])
        return np.asarray([self.index[artist] for artist in uniques], dtype="int64")[local]

    def add(self, artists: Any, values: np.ndarray) -> None:
        """Add each song's row of ``values`` to its artist's sum."""
        keys, blank = artist_keys(artists)
        codes = self._codes(keys, blank, add=True)
        np.add.at(self.sums, codes, np.asarray(values, dtype="float64")[~blank])
        np.add.at(self.counts, codes, 1)

    def means(self, artists: Any, values: np.ndarray) -> np.ndarray:
        """``values`` with each song's row replaced by its artist's mean (blank artists: as they are)."""
        keys, blank = artist_keys(artists)
        codes = self._codes(keys, blank, add=False)
        out = np.array(values, dtype="float64", copy=True)
        out[~blank] = self.sums[codes] / self.counts[codes, None]
        return out

    def counts_of(self, artists: Any) -> np.ndarray:
        """Each song's number of songs of its artist (blank artists: 1)."""
        keys, blank = artist_keys(artists)
        out = np.ones(len(keys), dtype="int64")
        out[~blank] = self.counts[self._codes(keys, blank, add=False)]
        return out


def with_context(X: np.ndarray, artists: Any, sums: ArtistSums | None = None) -> np.ndarray:
    """``X`` with the context columns appended: each row's artist mean of ``X`` and
    log(songs of its artist). ``sums``: the whole input's, when ``X`` is one chunk of it
    (``predict``); by default the rows of ``X`` are the whole set."""
    if sums is None:
        sums = ArtistSums(X.shape[1])
        sums.add(artists, X)
    means = sums.means(artists, X)
    count = np.log(sums.counts_of(artists).astype("float64"))[:, None]
    return np.hstack([X, means, count]).astype(X.dtype, copy=False)
