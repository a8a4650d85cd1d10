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

from workflow_scripts.core.artist_sums import ArtistSums, artist_keys

COUNT_COLUMN = "artist_log_songs"


def column_names(feature_names: Sequence[str]) -> list[str]:
    """``feature_names`` followed by the context columns."""
    return [*feature_names, *(f"artist_mean_{name}" for name in feature_names), COUNT_COLUMN]


def random_halves(artists: Any, seed: int) -> np.ndarray:
    """The artists with each song put into one of two random halves of its artist ("name",
    half): the context over these keys is that of a random half of the artist's songs.
    Missing and blank artists stay as they are (alone)."""
    keys, blank = artist_keys(artists)
    halves = np.random.default_rng(seed).integers(0, 2, len(keys))
    out = np.asarray(artists, dtype=object).copy()
    out[~blank] = [f"{artist}\0{half}" for artist, half in zip(keys[~blank], halves[~blank], strict=True)]
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
