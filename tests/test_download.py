"""Dataset sources through the real workflow: kagglehub and a URL, against a local stand-in server."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import deep_update, default_config, run_workflow, write_config
from tests.support.kaggle_standin import KaggleStandIn
from tests.test_dataset import make_songs

pytestmark = pytest.mark.integration


def pinned_version() -> int:
    """The dataset version the default config pins (kaggle_handle owner/slug/versions/N)."""
    return int(default_config()["dataset"]["kaggle_handle"].rsplit("/versions/", 1)[1])


def run_until_validated(tmp_path: Path, env: dict, dataset: dict, mode: str = "ok", version: int | None = None):
    csv = tmp_path / "served.csv"
    make_songs(12).to_csv(csv, index=False)
    config = deep_update(default_config(), {"dataset": dataset})
    with KaggleStandIn(csv, mode=mode, version=version or pinned_version()) as server:
        if "url" in dataset:
            config["dataset"]["url"] = server.base_url + dataset["url"]
        result = run_workflow(tmp_path, write_config(tmp_path / "config.yaml", config), "--until", "validate_dataset", check=False, env=env)
    return result, server


def test_kaggle_source_downloads_through_kagglehub(tmp_path: Path, kaggle_env: dict) -> None:
    result, server = run_until_validated(tmp_path, kaggle_env, {"source": "kaggle"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert server.count("/api/v1/datasets.DatasetApiService/DownloadDataset") == 1
    raw = pd.read_parquet(tmp_path / "results/data/raw.parquet")
    assert len(raw) == 12 and raw["row"].tolist() == list(range(12))
    # The handle is pinned: no question for the current version, the pinned one is downloaded.
    assert server.count("/api/v1/datasets.DatasetApiService/GetDataset") == 0
    assert server.calls[-1].body["datasetVersionNumber"] == pinned_version()
    info = json.loads((tmp_path / "results/data/dataset.json").read_text())
    assert info["sha256"] == hashlib.sha256((tmp_path / "served.csv").read_bytes()).hexdigest() and info["rows"] == 12


def test_a_newer_upload_does_not_replace_the_pinned_version(tmp_path: Path, kaggle_env: dict) -> None:
    result, _ = run_until_validated(tmp_path, kaggle_env, {"source": "kaggle"}, version=pinned_version() + 1)
    assert result.returncode != 0 and "Could not download Kaggle dataset" in result.stdout + result.stderr


def test_dataset_sha256_mismatch_names_both_digests(tmp_path: Path, kaggle_env: dict) -> None:
    wrong = "0" * 64
    result, _ = run_until_validated(tmp_path, kaggle_env, {"source": "url", "url": "/files/Spotify_Youtube.csv", "sha256": wrong})
    output = result.stdout + result.stderr
    actual = hashlib.sha256((tmp_path / "served.csv").read_bytes()).hexdigest()
    assert result.returncode != 0 and wrong in output and actual in output and "set dataset.sha256" in output
    assert "Traceback" not in output and not (tmp_path / "results/data/raw.parquet").exists()


@pytest.mark.parametrize("path", ["/files/Spotify_Youtube.csv", "/files/Spotify_Youtube.zip"])
def test_url_source_csv_or_zip(tmp_path: Path, kaggle_env: dict, path: str) -> None:
    result, server = run_until_validated(tmp_path, kaggle_env, {"source": "url", "url": path})
    assert result.returncode == 0, result.stderr[-3000:]
    assert server.count(path) == 1
    assert len(pd.read_parquet(tmp_path / "results/data/raw.parquet")) == 12


def test_kaggle_wanting_credentials_names_them(tmp_path: Path, kaggle_env: dict) -> None:
    result, _ = run_until_validated(tmp_path, kaggle_env, {"source": "kaggle"}, mode="unauthorized")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "KAGGLE_USERNAME and KAGGLE_KEY" in output and "HTTP 401" in output and "Traceback" not in output


def test_url_that_fails_is_a_clear_error(tmp_path: Path, kaggle_env: dict) -> None:
    result, _ = run_until_validated(tmp_path, kaggle_env, {"source": "url", "url": "/files/Spotify_Youtube.csv"}, mode="not_found")
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Could not download the dataset from" in output and "check dataset.url" in output
