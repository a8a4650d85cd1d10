"""``predict``'s output written chunk by chunk: memory bounded by the chunk, not the input.

Without pooling each chunk of songs is scored and appended to the output's temporary file.
With ``--pool-by-artist`` a song's probabilities are pooled over every song of its artist in
the input (:mod:`workflow_scripts.evaluation.pooling`: the mean, or the songs as evidence),
which the last chunk may still change, so it takes two passes:

1. score each chunk, add the rule's values of its probabilities (the probabilities, or their
   logarithms) to its artists' running sums (one row of ``models x genres`` floats and a count
   per distinct artist), and spill the chunk's row ids, Artist, Track and values to a
   temporary Parquet file beside the output;
2. read the spill back a chunk at a time and write each song with its artist's pooled
   probabilities (songs without an artist are their own group).

A bundle built with ``features.artist_context`` needs each artist's songs in the whole input
before it can score any of them, so its songs are read the same way: pass 1 computes each
chunk's song features, sums them per artist and spills them; pass 2 adds each song's artist
context and scores (``_scored``). With pooling as well, that makes three passes.

Memory: the chunk plus the sums, which grow with the number of distinct artists (about
``8 x models x genres`` bytes and a dict entry each), not with the songs. Disk: the spill,
about the size of the output. Time: writing and reading the spill, not a second scoring.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workflow_scripts import predict
from workflow_scripts.core.artist_sums import ArtistSums
from workflow_scripts.core.errors import UserError
from workflow_scripts.core.fileio import atomic_path, temporary_path
from workflow_scripts.evaluation import pooling


def _stacked(probas: dict[str, np.ndarray], names: Sequence[str]) -> np.ndarray:
    return np.concatenate([np.asarray(probas[name], dtype="float64") for name in names], axis=1)


def _unstacked(values: np.ndarray, names: Sequence[str], k: int) -> dict[str, np.ndarray]:
    return {name: values[:, i * k : (i + 1) * k] for i, name in enumerate(names)}


class _Spill:
    """Chunks of songs (row, Artist, Track) with a matrix of values, written to a temporary
    Parquet file beside the output and read back in chunks as large as the largest written;
    the file is deleted when the ``with`` block ends, however it ends."""

    def __init__(self, tmp: Path, suffix: str) -> None:
        self.path = temporary_path(tmp.with_name(tmp.name.lstrip(".") + suffix))
        self.writer: Any = None
        self.batch_size = 1

    def __enter__(self) -> _Spill:
        return self

    def write(self, songs: pd.DataFrame, values: np.ndarray) -> None:
        import pyarrow.parquet as pq

        part = _spill_table(songs, values)
        self.writer = self.writer or pq.ParquetWriter(self.path, part.schema)
        self.writer.write_table(part)
        self.batch_size = max(self.batch_size, len(songs))

    def read(self) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        """The chunks written, in order: their songs and values (nothing when none were)."""
        import pyarrow.parquet as pq

        if self.writer is None:
            return
        self.writer.close()
        self.writer = None
        for batch in pq.ParquetFile(self.path).iter_batches(batch_size=self.batch_size):
            frame = batch.to_pandas()
            yield frame[["row", "Artist", "Track"]], frame[[c for c in frame.columns if c.startswith("v")]].to_numpy()

    def __exit__(self, *exc: object) -> None:
        if self.writer is not None:
            self.writer.close()
        self.path.unlink(missing_ok=True)


def _spill_table(songs: pd.DataFrame, values: np.ndarray) -> Any:
    import pyarrow as pa

    columns: dict[str, Any] = {"row": pa.array(songs["row"].to_numpy(dtype="int64"))}
    for column in ("Artist", "Track"):
        text = songs[column] if column in songs.columns else pd.Series([None] * len(songs), dtype=object)
        columns[column] = pa.array(np.asarray(text.astype("string").astype(object).where(text.notna(), None)), type=pa.string())
    for j in range(values.shape[1]):
        columns[f"v{j}"] = pa.array(values[:, j])
    return pa.table(columns)


def _scored(bundle: Any, chunks: Iterable[pd.DataFrame], tmp: Path, names: Sequence[str]) -> Iterator[tuple[pd.DataFrame, dict]]:
    """Each chunk's songs (at least row, Artist, Track) and the named models' probabilities;
    with artist context in two passes over a spill of the song features."""
    if not bundle.features.uses_artist_context:
        for songs in chunks:
            yield songs, bundle.probabilities(songs, names)
        return
    with _Spill(tmp, ".features") as spill:
        sums = None
        for songs in chunks:  # pass 1: song features, summed per artist and spilled
            X = bundle.features.song_transform(songs)
            sums = sums or ArtistSums(X.shape[1])
            sums.add(songs["Artist"], X)
            spill.write(songs, X)
        for songs, X in spill.read():  # pass 2: with the artist context (X as written: float32)
            X = bundle.features.with_context(X, songs["Artist"], sums)
            yield songs, bundle.probabilities_of(X, songs["Artist"], names)


def _plain(bundle: Any, chunks: Iterable[pd.DataFrame], tmp: Path, names: Sequence[str], options: dict[str, Any]) -> int:
    n = 0
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        for songs, probas in _scored(bundle, chunks, tmp, names):
            rows = predict.table(songs, {name: probas[name] for name in names}, bundle.classes, **options)
            rows.to_csv(handle, header=n == 0, index=False)
            n += len(rows)
    return n


def _pooled(bundle: Any, chunks: Iterable[pd.DataFrame], tmp: Path, names: Sequence[str], options: dict[str, Any], rule: str) -> int:
    rule_of = pooling.get(rule)
    k = len(bundle.classes)
    sums = ArtistSums(k * len(names))
    with _Spill(tmp, ".spill") as spill:
        for songs, probas in _scored(bundle, chunks, tmp, names):  # pass 1: score, sum per artist, spill
            if "Artist" not in songs.columns:
                raise UserError(
                    "The input has no Artist column, which --pool-by-artist needs.", "add the Artist column or drop --pool-by-artist."
                )
            values = rule_of.values(_stacked(probas, names))
            sums.add(songs["Artist"], values)
            spill.write(songs, values)
        n = 0
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            for songs, values in spill.read():  # pass 2: each song with its artist's pooled probabilities
                means, n_songs = _unstacked(sums.means(songs["Artist"], values), names, k), sums.counts_of(songs["Artist"])
                pooled = {name: rule_of.finish(mean, n_songs, bundle.class_shares) for name, mean in means.items()}
                rows = predict.table(songs, pooled, bundle.classes, **options)
                rows.to_csv(handle, header=n == 0, index=False)
                n += len(rows)
        return n


def write(
    bundle: Any,
    chunks: Iterable[pd.DataFrame],
    output: str | Path,
    names: Sequence[str],
    model_name: str,
    all_models: bool = False,
    pool_by_artist: str | None = None,
    raw_text: bool = False,
) -> int:
    """Score ``chunks`` (validated songs) with ``names`` and write the predictions to
    ``output`` through a temporary file renamed at the end; the number of songs. ``pool_by_artist``:
    None or a rule of :data:`pooling.POOLINGS`."""
    options = {"model_name": model_name, "all_models": all_models, "raw_text": raw_text}
    with atomic_path(output) as tmp:
        if pool_by_artist is None:
            return _plain(bundle, chunks, tmp, names, options)
        return _pooled(bundle, chunks, tmp, names, options, pool_by_artist)
