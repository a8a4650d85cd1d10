"""The held-out test set and the cross-validation folds, by song or by artist."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workflow_scripts.core.errors import UserError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


# How artist-disjoint splits group songs. It goes into the split rules' params, so that a
# change of the grouping reruns what an artist-disjoint run built on the old one.
ARTIST_GROUPS = "artists that share a track (Uri) form one group"


def split_params(split: dict) -> dict:
    """The split rules' ``split`` param: the config's ``split``, with :data:`ARTIST_GROUPS` when
    it is by artist (a split by song does not depend on it, and keeps its params)."""
    return {**split, "artist_groups": ARTIST_GROUPS} if split.get("group_by") else dict(split)


def make_split(
    songs: pd.DataFrame, test_size: float, n_folds: int, seed: int, group_by: str | None = None, outer_fold: int | None = None
) -> pd.DataFrame:
    """Rows with ``set`` (train/test) and ``fold`` (0..k-1 for train rows, -1 for test).

    By song, without ``outer_fold``: a stratified test share (the study's protocol), then
    stratified k folds. With ``outer_fold``, the test set is that fold of round(1/test_size)
    outer folds, so that the outer folds together test every song once. By artist: every
    artist lies wholly in train or test (StratifiedGroupKFold; ``outer_fold`` defaults to 0),
    and the k folds are grouped by artist too. Artists that share a track (one Spotify ``Uri``
    listed under each of them, a collaboration) form one group, so that no test song is a
    training song under another name (:func:`shared_track_groups`).
    """
    # Imported here: the Snakefile imports this module for n_outer_folds at parse time, and
    # pandas + scikit-learn would add ~0.8 s to every `snakemake` call (benchmarks/bench_dag.py).
    import pandas as pd
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, train_test_split

    from workflow_scripts.data.dataset import ROW_ID

    y = songs["genre"].astype(str).to_numpy()
    counts = songs["genre"].value_counts()
    if len(counts) < 2:
        raise UserError(f"Only {len(counts)} genre(s) left after selection; a classifier needs two.", "keep more genres in genres.keep.")
    if counts.min() < n_folds + 1:
        raise UserError(
            f"Genre {counts.idxmin()!r} has only {counts.min()} songs, too few for {n_folds} folds and a test set.",
            "drop it from genres.keep or lower split.n_folds.",
        )
    index = pd.RangeIndex(len(songs))
    n_outer = n_outer_folds(test_size)
    if group_by is None:
        if outer_fold is None:
            train_idx, test_idx = train_test_split(index, test_size=test_size, stratify=y, random_state=seed)
        else:
            train_idx, test_idx = list(StratifiedKFold(n_splits=n_outer, shuffle=True, random_state=seed).split(index, y))[outer_fold]
        folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(train_idx, y[train_idx])
    else:
        column = {"artist": "Artist"}.get(group_by, group_by)
        groups = shared_track_groups(songs, column)
        outer = list(StratifiedGroupKFold(n_splits=n_outer, shuffle=True, random_state=seed).split(index, y, groups))
        train_idx, test_idx = outer[outer_fold or 0]
        folds = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(train_idx, y[train_idx], groups[train_idx])
    fold = pd.Series(-1, index=index)
    for k, (_, val) in enumerate(folds):
        fold.iloc[train_idx[val]] = k
    result = pd.DataFrame({ROW_ID: songs[ROW_ID].to_numpy(), "set": "train", "fold": fold.to_numpy()})
    result.loc[test_idx, "set"] = "test"
    return result


def shared_track_groups(songs: pd.DataFrame, column: str) -> np.ndarray:
    """One group id per song: its ``column`` value, with values joined into one group wherever
    they share a track (the same ``Uri``); without a ``Uri`` column, the value alone."""
    import numpy as np
    import pandas as pd
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    values, value_id = np.unique(songs[column].astype(str).to_numpy(), return_inverse=True)
    if "Uri" not in songs:
        return value_id
    track_id, tracks = pd.factorize(songs["Uri"])
    # A song without a Uri (factorized as -1) links to nothing: it gets a track of its own.
    track_id = np.where(track_id < 0, len(tracks) + np.arange(len(songs)), track_id)
    # A graph of values and tracks: a song links its value to its track. Components are
    # numbered in the order of their first value node, so the track ids' order does not matter.
    n_values = len(values)
    edges = coo_matrix((np.ones(len(songs)), (value_id, n_values + track_id)), shape=(n_values + track_id.max() + 1,) * 2)
    _, component = connected_components(edges, directed=False)
    return component[value_id]


def n_outer_folds(test_size: float) -> int:
    """How many outer folds a test share implies (0.2 -> 5)."""
    return max(2, round(1 / test_size))
