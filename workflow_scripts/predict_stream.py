"""``predict``'s output written chunk by chunk: memory bounded by the chunk, not the input.

Without pooling each chunk of songs is scored and appended to the output's temporary file.
With ``--pool-by-artist`` a song's probabilities are the mean over every song of its artist
in the input, which the last chunk may still change, so it takes two passes:

1. score each chunk, add its probabilities to its artists' running sums (one row of
   ``models x genres`` floats and a count per distinct artist), and spill the chunk's row ids,
   Artist, Track and probabilities to a temporary Parquet file beside the output;
2. read the spill back a chunk at a time and write each song with its artist's mean (songs
   without an artist keep their own probabilities).

Memory: the chunk plus the sums, which grow with the number of distinct artists (about
``8 x models x genres`` bytes and a dict entry each), not with the songs. Disk: the spill,
about the size of the output. Time: writing and reading the spill, not a second scoring.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workflow_scripts import predict
from workflow_scripts.core.errors import UserError
from workflow_scripts.core.fileio import atomic_path, temporary_path


def _blank(artists: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """The artists as strings, and which are missing or blank (those songs stay alone, as in
    ``evaluation.pool_by_artist``)."""
    keys = pd.Series(np.asarray(artists, dtype=object), dtype="string")
    return keys, (keys.isna() | (keys.str.strip() == "")).to_numpy(dtype=bool)


class ArtistSums:
    """Each artist's sum of its songs' probability rows so far, and its number of songs."""

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

    def add(self, artists: pd.Series, values: np.ndarray) -> None:
        """Add each song's row of ``values`` to its artist's sum."""
        keys, blank = _blank(artists)
        codes = self._codes(keys, blank, add=True)
        np.add.at(self.sums, codes, values[~blank])
        np.add.at(self.counts, codes, 1)

    def means(self, artists: pd.Series, values: np.ndarray) -> np.ndarray:
        """``values`` with each song's row replaced by its artist's mean (blank artists: as they are)."""
        keys, blank = _blank(artists)
        codes = self._codes(keys, blank, add=False)
        out = np.array(values, dtype="float64", copy=True)
        out[~blank] = self.sums[codes] / self.counts[codes, None]
        return out

    @property
    def nbytes(self) -> int:
        """The arrays' bytes (the dict's keys and entries come on top)."""
        return self.sums.nbytes + self.counts.nbytes


def _stacked(probas: dict[str, np.ndarray], names: Sequence[str]) -> np.ndarray:
    return np.concatenate([np.asarray(probas[name], dtype="float64") for name in names], axis=1)


def _unstacked(values: np.ndarray, names: Sequence[str], k: int) -> dict[str, np.ndarray]:
    return {name: values[:, i * k : (i + 1) * k] for i, name in enumerate(names)}


def _plain(bundle: Any, chunks: Iterable[pd.DataFrame], tmp: Path, names: Sequence[str], options: dict[str, Any]) -> int:
    n = 0
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        for songs in chunks:
            probas = bundle.probabilities(songs, names)
            rows = predict.table(songs, {name: probas[name] for name in names}, bundle.classes, **options)
            rows.to_csv(handle, header=n == 0, index=False)
            n += len(rows)
    return n


def _spill_table(songs: pd.DataFrame, values: np.ndarray) -> Any:
    import pyarrow as pa

    columns: dict[str, Any] = {"row": pa.array(songs["row"].to_numpy(dtype="int64"))}
    for column in ("Artist", "Track"):
        text = songs[column] if column in songs.columns else pd.Series([None] * len(songs), dtype=object)
        columns[column] = pa.array(np.asarray(text.astype("string").astype(object).where(text.notna(), None)), type=pa.string())
    for j in range(values.shape[1]):
        columns[f"v{j}"] = pa.array(values[:, j])
    return pa.table(columns)


def _pooled(bundle: Any, chunks: Iterable[pd.DataFrame], tmp: Path, names: Sequence[str], options: dict[str, Any]) -> int:
    import pyarrow.parquet as pq

    k = len(bundle.classes)
    sums = ArtistSums(k * len(names))
    spill = temporary_path(tmp.with_name(tmp.name.lstrip(".") + ".spill"))
    writer = None
    batch_size = 1
    try:
        for songs in chunks:  # pass 1: score, sum per artist, spill
            if "Artist" not in songs.columns:
                raise UserError(
                    "The input has no Artist column, which --pool-by-artist needs.", "add the Artist column or drop --pool-by-artist."
                )
            values = _stacked(bundle.probabilities(songs, names), names)
            sums.add(songs["Artist"], values)
            part = _spill_table(songs, values)
            if writer is None:
                writer = pq.ParquetWriter(spill, part.schema)
            writer.write_table(part)
            batch_size = max(batch_size, len(songs))
        if writer is None:
            return 0
        writer.close()
        writer = None
        n = 0
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            for batch in pq.ParquetFile(spill).iter_batches(batch_size=batch_size):  # pass 2: each song with its artist's mean
                frame = batch.to_pandas()
                values = frame[[f"v{j}" for j in range(k * len(names))]].to_numpy()
                pooled = _unstacked(sums.means(frame["Artist"], values), names, k)
                songs = frame[["row", "Artist", "Track"]]
                rows = predict.table(songs, pooled, bundle.classes, **options)
                rows.to_csv(handle, header=n == 0, index=False)
                n += len(rows)
        return n
    finally:
        if writer is not None:
            writer.close()
        spill.unlink(missing_ok=True)


def write(
    bundle: Any,
    chunks: Iterable[pd.DataFrame],
    output: str | Path,
    names: Sequence[str],
    model_name: str,
    all_models: bool = False,
    pool_by_artist: bool = False,
    raw_text: bool = False,
) -> int:
    """Score ``chunks`` (validated songs) with ``names`` and write the predictions to
    ``output`` through a temporary file renamed at the end; the number of songs."""
    options = {"model_name": model_name, "all_models": all_models, "raw_text": raw_text}
    with atomic_path(output) as tmp:
        return (_pooled if pool_by_artist else _plain)(bundle, chunks, tmp, names, options)
