"""Genres for a user's own songs from a model bundle (``results/model/``).

    python -m workflow_scripts.predict --model results/model --input songs.csv --output predictions.csv \\
        [--model-name ensemble] [--all-models] [--pool-by-artist [mean|evidence]] [--chunk-size 50000] \\
        [--raw-text] [--overwrite]

The input is a CSV in the Kaggle "Spotify and YouTube" schema; only the columns the bundle
needs are required (its manifest lists them), others are ignored. Missing values and unknown
categories get what the training pipeline gives them (imputation, the unknown code). The
output has per song its row id, Artist, Track, the predicted genre and each genre's
probability; ``--all-models`` adds each model's predicted genre. The rule ``predict``
(``rules/predict.smk``) runs the same :func:`predict_file`.

The input is read, featurised and scored ``--chunk-size`` rows at a time and the output is
written as it goes to a temporary file renamed at the end, so memory does not grow with the
input and an error leaves nothing. ``--pool-by-artist`` pools each artist's songs in the
input by a rule of :mod:`workflow_scripts.evaluation.pooling` (``mean``, the default, or
``evidence``) and takes two passes (see :mod:`workflow_scripts.predict_stream`). An existing output is replaced only when it is an
earlier predictions file of this tool (:func:`is_predictions_file`), never the input, unless
``--overwrite``. Text cells a spreadsheet would run as a formula are written inert (a leading
``'``) unless ``--raw-text``. docs/predict.md has the details.
"""

from __future__ import annotations

import argparse
import csv
import glob
import itertools
import logging
import os
import re
import stat
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from workflow_scripts.core.errors import UserError

log = logging.getLogger(__name__)

#: Rows read, featurised and scored at a time (``--chunk-size``; ``predict.chunk_size``).
DEFAULT_CHUNK_SIZE = 50_000
#: The first characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: The columns before the probabilities in every predictions file (:func:`is_predictions_file`).
LEADING_COLUMNS = ("row", "Artist", "Track", "genre")
#: Probabilities equal to this many decimals tie; the first genre in the bundle's order wins.
TIE_DECIMALS = 12


def output_name(settings: Mapping[str, Any]) -> str:
    """The name of ``results/predictions/<name>.csv``: ``predict.name``, else the input's stem."""
    name = settings.get("name") or Path(str(settings["input"])).stem
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def _unreadable(path: Path, error: Exception) -> UserError:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return UserError(
        f"Input file {path} is not a readable CSV: {first}", "check that it is a comma-separated UTF-8 CSV of songs (--input)."
    )


def iter_songs(path: str | Path, required: Sequence[str], chunk_size: int | None = DEFAULT_CHUNK_SIZE) -> Iterator[Any]:
    """The input CSV ``chunk_size`` rows at a time (all at once for None), each chunk's
    required columns checked and typed as in training (``dataset.validate``).

    Only the row id (the first, unnamed column; else rows are numbered from 0), the required
    columns, Artist and Track are parsed; text columns are read as text in every chunk. Row ids
    must be unique over the whole file: the ids seen so far are kept (8 bytes a song)."""
    import numpy as np
    import pandas as pd

    from workflow_scripts.data import dataset

    path = Path(path)
    if not path.exists():
        raise UserError(f"Input file {path} does not exist.", "check --input (a CSV in the Kaggle 'Spotify and YouTube' schema).")
    if path.stat().st_size == 0:
        raise UserError(f"Input file {path} is empty.", "point --input at a CSV with a header and one row per song.")
    source = f"input {path}"
    try:
        header = pd.read_csv(path, nrows=0).columns
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise _unreadable(path, error) from None
    has_ids = str(header[0]).startswith("Unnamed") or header[0] in ("", dataset.ROW_ID)
    missing = [name for name in required if name not in header]
    if missing:
        one = " (the header has one column: is the file separated by commas?)" if len(header) == 1 else ""
        raise UserError(
            f"The {source} lacks required column(s): {', '.join(missing)}{one}.",
            f"add the column(s); this bundle needs: {', '.join(required)} (the Kaggle 'Spotify and YouTube' names).",
        )
    wanted = {*required, "Artist", "Track"}
    positions = [i for i, name in enumerate(header) if (i == 0 and has_ids) or name in wanted]
    text = {name: "str" for name in header if name in wanted and name in dataset.TEXT_COLUMNS}
    reader = pd.read_csv(path, usecols=positions, dtype=text, chunksize=chunk_size or None, iterator=True, low_memory=False)
    seen = np.empty(0, dtype="int64")
    offset = 0
    with reader:
        while True:
            try:
                chunk = reader.get_chunk() if chunk_size else reader.read()
            except StopIteration:
                break
            except (pd.errors.ParserError, UnicodeDecodeError) as error:
                raise _unreadable(path, error) from None
            if chunk.empty:
                break
            if has_ids:
                chunk = chunk.rename(columns={chunk.columns[0]: dataset.ROW_ID})
            else:
                chunk.insert(0, dataset.ROW_ID, np.arange(offset, offset + len(chunk)))
            try:
                songs = dataset.validate(
                    chunk,
                    source=source,
                    required=list(required),
                    missing_fix="",
                    drop_blank_artists=False,
                )
            except UserError as error:
                if not chunk_size or len(chunk) < chunk_size:
                    raise
                note = f" (counted in songs {offset + 1:,}-{offset + len(chunk):,}; the songs after them were not checked)"
                raise UserError(error.problem.rstrip(".") + note + ".", error.fix) from None
            if has_ids and chunk_size:
                ids = songs[dataset.ROW_ID].to_numpy()
                if np.isin(ids, seen).any():
                    raise UserError(
                        f"The {source}'s row id column (first column) is not a unique integer.",
                        "keep the CSV's first, unnamed index column as it is.",
                    )
                seen = np.union1d(seen, ids)
            songs.index = pd.RangeIndex(offset, offset + len(songs))
            offset += len(songs)
            yield songs
            if not chunk_size:
                break
    if offset == 0:
        raise UserError(f"The {source} has no rows (only a header).", "point --input at a CSV with a header and one row per song.")


def read_songs(path: str | Path, required: Sequence[str]) -> Any:  # -> pd.DataFrame
    """The whole input CSV at once, its required columns checked and typed as in training."""
    return next(iter_songs(path, required, chunk_size=None))


def inert(values: Any) -> Any:  # pd.Series -> pd.Series
    """Text cells a spreadsheet would run as a formula (a leading ``=``, ``+``, ``-``, ``@``,
    tab or CR) with a leading ``'``, so they show as text; other cells and missing ones as they are."""

    text = values.astype("string")
    formula = text.str.startswith(FORMULA_START).fillna(False).astype(bool)
    if not formula.any():
        return values
    return text.where(~formula, "'" + text)


def table(
    songs: Any, probas: Mapping[str, Any], classes: Sequence[str], model_name: str, all_models: bool = False, raw_text: bool = False
) -> Any:
    """The output rows of ``songs`` from each model's probabilities: row, Artist, Track, genre,
    ``p_<genre>`` per genre and, with ``all_models``, ``genre_<model>`` per model. Text cells
    are made :func:`inert` unless ``raw_text``; the probabilities are written as computed."""
    import numpy as np
    import pandas as pd

    classes = np.asarray(classes)

    def winner(proba: np.ndarray) -> np.ndarray:
        # Ties to 12 decimals go to the first genre: a pooled mean's last bit depends on the
        # order of the sums, and must not decide between two genres that tie (KNN's k/12 shares).
        return classes[np.round(proba, TIE_DECIMALS).argmax(axis=1)]

    out = pd.DataFrame({"row": songs["row"].to_numpy()})
    for column in ("Artist", "Track"):
        out[column] = songs[column].to_numpy() if column in songs.columns else pd.NA
    out["genre"] = winner(probas[model_name])
    for k, genre in enumerate(classes):
        out[f"p_{genre}"] = probas[model_name][:, k]
    if all_models:
        for name, proba in probas.items():
            out[f"genre_{name.replace(' ', '_')}"] = winner(proba)
    if not raw_text:
        for column in out.columns:
            if column in ("Artist", "Track") or column == "genre" or column.startswith("genre_"):
                out[column] = inert(out[column])
    return out


def model_names(manifest: Mapping[str, Any], model_name: str, all_models: bool) -> list[str]:
    """The models whose probabilities the output needs: ``model_name`` first."""
    names = list(manifest["models"]) if all_models else [model_name]
    return names if model_name in names else [model_name, *names]


def pooling_rule(pool_by_artist: bool | str | None) -> str | None:
    """The pooling rule asked for: None (no pooling), ``True`` (the ``mean`` rule) or a rule's name."""
    from workflow_scripts.evaluation import pooling

    if pool_by_artist is None or pool_by_artist is False:
        return None
    rule = "mean" if pool_by_artist is True else str(pool_by_artist)
    if rule not in pooling.POOLINGS:
        raise UserError(f"Unknown pooling {rule!r}.", f"pool by one of: {', '.join(pooling.POOLINGS)}.")
    return rule


def check_pooling(manifest: dict[str, Any], rule: str | None) -> None:
    """A rule that needs the training rows' genre shares needs a bundle that records them."""
    from workflow_scripts.evaluation import pooling

    if rule is not None and pooling.get(rule).needs_class_shares and manifest.get("class_shares") is None:
        raise UserError(
            f"This bundle records no genre shares of its training rows, which pooling by {rule!r} needs (it was built before "
            "they were recorded).",
            "rebuild the bundle (snakemake results/model/manifest.json), or pool by the mean (--pool-by-artist mean).",
        )


def predictions(
    bundle: Any, songs: Any, model_name: str, all_models: bool = False, pool_by_artist: bool | str = False, raw_text: bool = False
) -> Any:
    """The output table of ``songs`` in one piece (see :func:`table`); with ``pool_by_artist``
    (``True``: ``mean``, or a rule's name) each song's probabilities are its artist's songs in
    ``songs`` pooled by that rule."""
    names = model_names(bundle.manifest, model_name, all_models)
    probas = bundle.probabilities(songs, names)
    rule = pooling_rule(pool_by_artist)
    if rule is not None:
        from workflow_scripts.evaluation import pooling

        check_pooling(bundle.manifest, rule)
        probas = {name: pooling.pool(proba, songs["Artist"], rule, bundle.class_shares) for name, proba in probas.items()}
    return table(songs, {name: probas[name] for name in names}, bundle.classes, model_name, all_models, raw_text)


def is_predictions_file(path: str | Path) -> bool:
    """Whether ``path`` is a predictions file this tool wrote: a regular UTF-8 file whose
    header is ``row,Artist,Track,genre``, then one or more ``p_<genre>`` and any number of
    ``genre_<model>`` columns (in that order). Any other file is the user's."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        with open(path, newline="", encoding="utf-8") as handle:
            line = handle.readline(1 << 16)
    except (OSError, UnicodeDecodeError):
        return False
    header = next(csv.reader([line]), [])
    if tuple(header[: len(LEADING_COLUMNS)]) != LEADING_COLUMNS:
        return False
    rest = header[len(LEADING_COLUMNS) :]
    n_p = next((i for i, name in enumerate(rest) if not name.startswith("p_")), len(rest))
    return n_p > 0 and all(len(name) > 2 for name in rest[:n_p]) and all(re.fullmatch(r"genre_\S+", n) for n in rest[n_p:])


def check_output(input_csv: str | Path, output_csv: str | Path, overwrite: bool = False) -> Path:
    """The output's absolute path, after refusing to write over the input (compared as files:
    symlinks, ``..`` and hard links resolve to it), over anything but a regular file, or over
    an existing file that is not an earlier predictions file of this tool, unless ``overwrite``."""
    output = Path(output_csv)
    target = Path(os.path.abspath(output))
    if target.is_dir():
        raise UserError(f"--output {output} is a folder.", f"give a file name, e.g. --output {output / 'predictions.csv'}.")
    exists = output.exists() or output.is_symlink()
    if output.exists() and not stat.S_ISREG(os.stat(output).st_mode):
        raise UserError(
            f"--output {output} is not a regular file (a device, pipe or socket).", "write to a file, e.g. --output predictions.csv."
        )
    if overwrite or not exists:
        return target
    if output.exists() and os.path.samefile(output, input_csv):
        how = "" if output.resolve() == Path(input_csv).resolve() and not output.is_symlink() else f" (it resolves to {output.resolve()})"
        raise UserError(
            f"--output {output} is the input file {input_csv}{how}: writing it would replace your songs with the predictions.",
            "choose another --output (e.g. predictions.csv); add --overwrite only if you mean to replace the input.",
        )
    if not is_predictions_file(output):
        raise UserError(
            f"--output {output} exists and is not a predictions file of this tool "
            f"(its first line is not {','.join(LEADING_COLUMNS)},p_<genre>,...); it is left as it is.",
            "choose another --output, or add --overwrite to replace that file.",
        )
    return target


def remove_stale_temporaries(target: Path) -> int:
    """Delete the temporary files (output and spill) that killed runs writing ``target`` on this
    host left beside it; only this output's, and only those of processes that are gone."""
    from workflow_scripts.core import fileio

    removed = 0
    for path in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        owner = fileio._OWNER.search(path.name)
        if owner and owner["host"] == fileio.HOST and not fileio._pid_alive(int(owner["pid"])):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def predict_file(
    model: str | Path,
    input_csv: str | Path,
    output_csv: str | Path,
    model_name: str = "ensemble",
    all_models: bool = False,
    pool_by_artist: bool | str = False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    raw_text: bool = False,
    overwrite: bool = False,
) -> int:
    """Read, predict and write ``output_csv`` ``chunk_size`` songs at a time, atomically
    (nothing is left on an error); the number of songs."""
    from workflow_scripts import predict_stream
    from workflow_scripts.bundle import store as bundle_lib

    if chunk_size < 1:
        raise UserError(
            f"The chunk size must be a positive number of rows, not {chunk_size}.", f"use e.g. --chunk-size {DEFAULT_CHUNK_SIZE}."
        )
    manifest = bundle_lib.read_manifest(model)
    if model_name not in manifest["models"]:
        raise UserError(f"The bundle has no model {model_name!r}.", f"choose --model-name from: {', '.join(manifest['models'])}.")
    if not Path(input_csv).exists():
        raise UserError(f"Input file {input_csv} does not exist.", "check --input (a CSV in the Kaggle 'Spotify and YouTube' schema).")
    target = check_output(input_csv, output_csv, overwrite)
    created = not target.parent.exists()
    if not created and remove_stale_temporaries(target):
        log.info("removed the temporary files of an earlier, killed run beside %s", target)
    rule = pooling_rule(pool_by_artist)
    check_pooling(manifest, rule)
    names = model_names(manifest, model_name, all_models)
    chunks = iter_songs(input_csv, manifest["required_columns"], chunk_size)
    first = next(chunks)  # the input's problems before the models load (a small input's all of them)
    loaded = bundle_lib.load(model, names)
    n = predict_stream.write(loaded, itertools.chain([first], chunks), output_csv, names, model_name, all_models, rule, raw_text)
    log.info(
        "wrote %d songs' predictions (%s%s) to %s%s",
        n,
        model_name,
        f", pooled by artist ({rule})" if rule else "",
        target,
        " (folder created)" if created else "",
    )
    return n


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; exit status 1 with a short message (no traceback) on a UserError."""
    # One OpenMP thread: gradient boosting's prediction spin-waits on busy cores (3.06 s of CPU
    # for 4,000 songs with the default threads, 0.12 s with one, same result on a loaded 2-core machine).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from workflow_scripts.evaluation import pooling
    from workflow_scripts.models import registry as models

    parser = argparse.ArgumentParser(prog="python -m workflow_scripts.predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="the bundle folder (results/model)")
    parser.add_argument("--input", required=True, help="a CSV of songs (Kaggle 'Spotify and YouTube' columns)")
    parser.add_argument(
        "--output", required=True, help="where to write the predictions (CSV); an existing file only if it is earlier predictions"
    )
    parser.add_argument("--model-name", default=models.DEFAULT_MODEL, choices=[m.name for m in models.REGISTRY if m.in_bundle])
    parser.add_argument("--all-models", action="store_true", help="add each model's predicted genre")
    parser.add_argument(
        "--pool-by-artist",
        nargs="?",
        const="mean",
        default=None,
        choices=list(pooling.POOLINGS),
        help="give each song its artist's songs in the input pooled: by the mean probability (mean, the default) or as "
        "independent evidence against the training rows' genre shares (evidence)",
    )
    parser.add_argument(
        "--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, help=f"songs read and scored at a time (default {DEFAULT_CHUNK_SIZE:,})"
    )
    parser.add_argument(
        "--raw-text",
        action="store_true",
        help="write text cells as read: no leading ' before cells starting with = + - @ tab CR (for programs, not spreadsheets)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace --output even if it is the input or not an earlier predictions file"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        predict_file(
            args.model,
            args.input,
            args.output,
            args.model_name,
            args.all_models,
            args.pool_by_artist,
            args.chunk_size,
            args.raw_text,
            args.overwrite,
        )
    except UserError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
