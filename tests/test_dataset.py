"""Dataset validation: good data passes typed; bad input gives a short error with a fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import DATASET_CSV, needs_shared
from tests.support.synthetic import COLUMNS  # the Kaggle CSV's columns, in order
from workflow_scripts.core.errors import UserError
from workflow_scripts.core.fileio import sha256_file
from workflow_scripts.data import dataset


def make_songs(n: int = 6, seed: int = 0) -> pd.DataFrame:
    """A small dataset in the Kaggle CSV's shape."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({c: [f"{c} {i}" for i in range(n)] for c in COLUMNS[1:]})
    frame.insert(0, "", range(n))
    for column in ["Danceability", "Energy", "Speechiness", "Acousticness", "Instrumentalness", "Liveness", "Valence"]:
        frame[column] = rng.random(n)
    frame["Key"] = rng.integers(0, 12, n).astype(float)
    frame["Loudness"] = -rng.random(n) * 20
    frame["Tempo"] = 60 + rng.random(n) * 120
    frame["Duration_ms"] = 1e5 + rng.random(n) * 1e5
    for column in ["Views", "Likes", "Comments", "Stream"]:
        frame[column] = rng.integers(0, 10**6, n).astype(float)
    frame["Album_type"] = "album"
    frame["Licensed"] = [True, False] * (n // 2) + [True] * (n % 2)
    frame["official_video"] = True
    return frame


def write(frame: pd.DataFrame, tmp_path: Path) -> Path:
    path = tmp_path / "songs.csv"
    frame.to_csv(path, index=False)
    return path


def test_valid_csv_is_typed_and_keeps_row_id(tmp_path: Path) -> None:
    frame = dataset.validate(dataset.read_csv(write(make_songs(), tmp_path)))
    assert list(frame["row"]) == list(range(6))
    assert frame["Licensed"].dtype == "boolean"
    assert frame["Views"].dtype == "float64"


def test_missing_column_names_it(tmp_path: Path) -> None:
    path = write(make_songs().drop(columns=["Energy", "Views"]), tmp_path)
    with pytest.raises(UserError, match=r"lacks required column\(s\): Energy, Views") as info:
        dataset.validate(dataset.read_csv(path))
    assert "Fix:" in str(info.value)


def test_non_numeric_feature_names_column_and_rows(tmp_path: Path) -> None:
    frame = make_songs()
    frame["Tempo"] = frame["Tempo"].astype(object)
    frame.loc[3, "Tempo"] = "fast"
    with pytest.raises(UserError, match=r"column Tempo has 1 non-numeric value\(s\) \(e\.g\. 'fast'; rows 3\)"):
        dataset.validate(dataset.read_csv(write(frame, tmp_path)))


def test_out_of_range_value(tmp_path: Path) -> None:
    frame = make_songs()
    frame.loc[1, "Energy"] = 7.0
    with pytest.raises(UserError, match=r"column Energy has 1 value\(s\) outside \[0.0, 1.0\] \(rows 1\)"):
        dataset.validate(dataset.read_csv(write(frame, tmp_path)))


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(UserError, match="is empty"):
        dataset.read_csv(path)


def test_header_only_has_no_rows(tmp_path: Path) -> None:
    path = write(make_songs().iloc[:0], tmp_path)
    with pytest.raises(UserError, match="has no rows"):
        dataset.validate(dataset.read_csv(path))


def test_malformed_csv(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text('a,b\n1,"unterminated\n')
    with pytest.raises(UserError, match="not a readable CSV"):
        dataset.read_csv(path)


def test_bad_boolean(tmp_path: Path) -> None:
    frame = make_songs()
    frame["Licensed"] = frame["Licensed"].astype(object)
    frame.loc[0, "Licensed"] = "maybe"
    with pytest.raises(UserError, match="Licensed has 1 value"):
        dataset.validate(dataset.read_csv(write(frame, tmp_path)))


@needs_shared
def test_real_dataset_validates(tmp_path: Path) -> None:
    frame, digest = dataset.csv_to_parquet(DATASET_CSV, tmp_path / "raw.parquet")
    assert frame.shape == (20718, 28) and digest == sha256_file(DATASET_CSV) and len(digest) == 64
    again = pd.read_parquet(tmp_path / "raw.parquet")
    assert again["row"].is_unique and again["Stream"].dtype == "float64"
