"""The Spotify and YouTube dataset: fetch it (Kaggle, URL or path), validate it, write parquet."""

from __future__ import annotations

import io
import logging
import shutil
import urllib.error
import urllib.request
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from workflow_scripts.core.errors import UserError
from workflow_scripts.core.fileio import atomic_path, sha256_file

log = logging.getLogger(__name__)

ROW_ID = "row"
CSV_NAME = "Spotify_Youtube.csv"

#: Numeric columns and their valid closed range (None = unbounded on that side).
NUMERIC_RANGES: dict[str, tuple[float | None, float | None]] = {
    "Danceability": (0.0, 1.0),
    "Energy": (0.0, 1.0),
    "Key": (-1.0, 11.0),
    "Loudness": (-80.0, 10.0),
    "Speechiness": (0.0, 1.0),
    "Acousticness": (0.0, 1.0),
    "Instrumentalness": (0.0, 1.0),
    "Liveness": (0.0, 1.0),
    "Valence": (0.0, 1.0),
    "Tempo": (0.0, 300.0),
    "Duration_ms": (0.0, None),
    "Views": (0.0, None),
    "Likes": (0.0, None),
    "Comments": (0.0, None),
    "Stream": (0.0, None),
}
TEXT_COLUMNS = [
    "Artist",
    "Url_spotify",
    "Track",
    "Album",
    "Album_type",
    "Uri",
    "Url_youtube",
    "Title",
    "Channel",
    "Description",
]
BOOLEAN_COLUMNS = ["Licensed", "official_video"]
REQUIRED_COLUMNS = ["Artist", "Track", "Album_type", *NUMERIC_RANGES, *BOOLEAN_COLUMNS]


def fetch_kaggle(handle: str, dest: Path) -> None:
    """Download the dataset with kagglehub and copy its CSV to ``dest``."""
    import kagglehub  # imported here: only this source needs it

    try:
        folder = Path(kagglehub.dataset_download(handle))
    except Exception as error:  # kagglehub raises requests errors and its own; all end here
        text = str(error)
        status = getattr(getattr(error, "response", None), "status_code", None)
        if status in (401, 403):
            raise UserError(
                f"Kaggle refused the download of {handle!r} (HTTP {status}): it wants credentials.",
                "set KAGGLE_USERNAME and KAGGLE_KEY (or KAGGLE_API_TOKEN, or put kaggle.json in ~/.kaggle/), "
                "or set dataset.source to 'path' or 'url' in config.yaml.",
            ) from None
        raise UserError(
            f"Could not download Kaggle dataset {handle!r}: {text.splitlines()[0] if text else error!r}",
            "check the network and dataset.kaggle_handle, or set dataset.source to 'path' or 'url'.",
        ) from None
    csvs = sorted(folder.rglob("*.csv"))
    if not csvs:
        raise UserError(
            f"The Kaggle dataset {handle!r} holds no CSV file (looked in {folder}).",
            "check dataset.kaggle_handle.",
        )
    with atomic_path(dest) as tmp:
        shutil.copyfile(csvs[0], tmp)


def fetch_url(url: str, dest: Path, timeout_s: float = 60.0) -> None:
    """Download a CSV, or a zip holding one, from an HTTP(S) URL to ``dest``."""
    request = urllib.request.Request(url, headers={"User-Agent": "genre-factor"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            payload = response.read()
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise UserError(
            f"Could not download the dataset from {url}: {error}",
            "check dataset.url and the network, or set dataset.source to 'path'.",
        ) from None
    if payload[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            names = sorted(n for n in archive.namelist() if n.lower().endswith(".csv"))
            if not names:
                raise UserError(f"The zip at {url} holds no CSV file.", "point dataset.url at a CSV or a zip with one.")
            payload = archive.read(names[0])
    with atomic_path(dest) as tmp:
        tmp.write_bytes(payload)


def read_csv(path: Path) -> pd.DataFrame:
    """Read the raw CSV; the first, unnamed column becomes the ``row`` id."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"Dataset file {path} does not exist.", "check dataset.path in config.yaml.")
    if path.stat().st_size == 0:
        raise UserError(f"Dataset file {path} is empty.", "download the dataset again or point dataset.path at the full CSV.")
    try:
        frame = pd.read_csv(path, low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(
            f"Dataset file {path} is not a readable CSV: {first}", "check that it is the Spotify and YouTube CSV, comma-separated, UTF-8."
        ) from None
    first_column = frame.columns[0]
    if str(first_column).startswith("Unnamed") or first_column in ("", ROW_ID):
        frame = frame.rename(columns={first_column: ROW_ID})
    else:
        frame.insert(0, ROW_ID, np.arange(len(frame)))
    return frame


def validate(
    frame: pd.DataFrame,
    source: str = "dataset",
    required: Sequence[str] = REQUIRED_COLUMNS,
    missing_fix: str = "use the Kaggle 'Spotify and YouTube' CSV (28 columns) or add the missing columns.",
    drop_blank_artists: bool = True,
) -> pd.DataFrame:
    """Check the ``required`` columns' presence, types and value ranges; return a typed copy
    (other columns are left as read). Raise UserError on problems."""
    if frame.empty:
        raise UserError(f"The {source} has no rows.", "point the dataset config at the full CSV.")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise UserError(f"The {source} lacks required column(s): {', '.join(missing)}.", missing_fix)
    out = frame.copy()
    ids = pd.to_numeric(out[ROW_ID], errors="coerce")
    if ids.isna().any() or not ids.is_unique:
        raise UserError(
            f"The {source}'s row id column (first column) is not a unique integer.", "keep the CSV's first, unnamed index column as it is."
        )
    out[ROW_ID] = ids.astype("int64")
    problems: list[str] = []
    for column, (low, high) in NUMERIC_RANGES.items():
        if column in required:
            problems += _numeric(out, column, low, high)
    for column in BOOLEAN_COLUMNS:
        if column in required:
            problems += _boolean(out, column)
    if problems:
        raise UserError(f"The {source} has invalid values: " + "; ".join(problems) + ".", "fix or remove those rows in the CSV.")
    for column in TEXT_COLUMNS:
        if column in out.columns:
            out[column] = out[column].astype("string")
    if drop_blank_artists and "Artist" in out.columns:
        blank = out["Artist"].isna() | (out["Artist"].str.strip() == "")
        if blank.any():
            log.warning("dropping %d row(s) without an artist", int(blank.sum()))
            out = out.loc[~blank]
    return out.reset_index(drop=True)


def _numeric(out: pd.DataFrame, column: str, low: float | None, high: float | None) -> list[str]:
    """Type ``out[column]`` as float64 in place; the problems with its values (non-numeric ones
    leave the column as read)."""
    values = pd.to_numeric(out[column], errors="coerce")
    bad_type = values.isna() & out[column].notna()
    if bad_type.any():
        examples = ", ".join(repr(v) for v in out.loc[bad_type, column].astype(str).head(3))
        return [f"column {column} has {int(bad_type.sum())} non-numeric value(s) (e.g. {examples}; rows {_rows(out, bad_type)})"]
    out_of_range = pd.Series(False, index=out.index)
    if low is not None:
        out_of_range |= values < low
    if high is not None:
        out_of_range |= values > high
    out[column] = values.astype("float64")
    if out_of_range.any():
        return [f"column {column} has {int(out_of_range.sum())} value(s) outside [{low}, {high}] (rows {_rows(out, out_of_range)})"]
    return []


def _boolean(out: pd.DataFrame, column: str) -> list[str]:
    """Type ``out[column]`` as a nullable boolean in place (True/False, 1/0); the values that are neither."""
    text = out[column].astype("string").str.strip().str.lower()
    mapped = text.map({"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False})
    bad = mapped.isna() & text.notna()
    out[column] = mapped.astype("boolean")
    if bad.any():
        return [f"column {column} has {int(bad.sum())} value(s) that are not True/False (rows {_rows(out, bad)})"]
    return []


def _rows(frame: pd.DataFrame, mask: pd.Series) -> str:
    ids = frame.loc[mask, ROW_ID].head(5).tolist()
    return ", ".join(str(i) for i in ids) + (", ..." if int(mask.sum()) > 5 else "")


def check_sha256(path: str | Path, expected: str | None) -> str:
    """The CSV's SHA-256; a UserError naming both digests when ``expected`` is set and differs."""
    actual = sha256_file(path)
    if expected and actual != expected.strip().lower():
        raise UserError(
            f"The dataset {path} has SHA-256 {actual}, but dataset.sha256 in the config is {expected}: it is not the file the "
            "config was pinned to (a new upload, another version or a damaged download).",
            "get the pinned file (dataset.kaggle_handle .../versions/N), or, if the new file is intended, set dataset.sha256 to "
            f"{actual} (or empty it) and accept that results change.",
        )
    return actual


def pinned_sha256(path: str | Path, expected: str | None) -> str:
    """The CSV's SHA-256 checked against the pin (``check_sha256``), or "" while the CSV is not
    there yet (a download to come, whose validation checks the pin)."""
    return check_sha256(path, expected) if Path(path).is_file() else ""


def csv_to_parquet(csv_path: Path, parquet_path: Path, expected_sha256: str | None = None) -> tuple[pd.DataFrame, str]:
    """Check the CSV's SHA-256 (when pinned), read, validate and write it as typed parquet
    (atomically). Returns the frame and the CSV's SHA-256."""
    digest = pinned_sha256(csv_path, expected_sha256)
    frame = validate(read_csv(csv_path), source=f"dataset {csv_path}")
    with atomic_path(parquet_path) as tmp:
        frame.to_parquet(tmp, index=False)
    log.info("validated %d songs, %d columns -> %s (sha256 %s)", len(frame), frame.shape[1], parquet_path, digest)
    return frame, digest
