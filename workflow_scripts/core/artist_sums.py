"""Per-artist sums of rows of values (features, probabilities), chunk by chunk: what the
artist context (``features.artist_context``) and pooling over an artist's songs
(``evaluation.metrics.pool_by_artist``) both build on. A song with a missing or blank artist
is its own group."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def artist_keys(artists: Any) -> tuple[pd.Series, np.ndarray]:
    """The artists as strings, and which are missing or blank (those songs stay alone)."""
    keys = pd.Series(np.asarray(artists, dtype=object), dtype="string")
    return keys, (keys.isna() | (keys.str.strip() == "")).to_numpy(dtype=bool)


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
