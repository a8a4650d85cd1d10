"""The real kagglehub client against our local Kaggle stand-in (tests/support/kaggle_standin.py).

kagglehub runs in a subprocess with KAGGLE_API_ENVIRONMENT=TEST (kagglesdk then talks to
localhost:7777 only), its cache and HOME in tmp_path, and every KAGGLE_* variable removed, so
no real credentials or network are involved. The exception types and messages asserted here
are what kagglehub 1.0.2 / kagglesdk 0.1.37 really raise.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.support.kaggle_standin import KaggleStandIn, PortBusyError
from tests.support.synthetic import COLUMNS  # the Kaggle CSV's columns, in order

HANDLE = "salvatorerastelli/spotify-and-youtube"
GET = KaggleStandIn.GET_DATASET_PATH
DOWNLOAD = KaggleStandIn.DOWNLOAD_DATASET_PATH
API_ERROR = "kagglehub.exceptions.KaggleApiHTTPError"


# Runs in the subprocess: the result goes to a JSON file, since kagglesdk in the TEST
# environment prints every request and response (zip bytes included) to stdout.
DRIVER = """
import json, sys
import kagglehub
out, handle, kwargs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
try:
    result = {"path": kagglehub.dataset_download(handle, **kwargs)}
except Exception as error:
    response = getattr(error, "response", None)
    result = {
        "error_type": f"{type(error).__module__}.{type(error).__qualname__}",
        "message": str(error),
        "status": getattr(response, "status_code", None),
    }
with open(out, "w") as handle_out:
    json.dump(result, handle_out)
"""


def make_csv(path: Path, rows: int = 3) -> Path:
    """A small CSV with the 28 columns of the real dataset (first one unnamed)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for i in range(rows):
        writer.writerow(
            [
                i,
                f"Artist {i}",
                f"https://open.spotify.com/artist/{i:022d}",
                f"Track {i}",
                f"Album {i}",
                "album",
                f"spotify:track:{i:022d}",
                0.5 + i / 100,
                0.6,
                i % 12,
                -6.5,
                0.05,
                0.1,
                0.0,
                0.2,
                0.7,
                120.0 + i,
                200000 + i,
                f"https://www.youtube.com/watch?v={i:011d}",
                f"Title {i} (Official Video)",
                f"Channel {i}",
                1000.0 * (i + 1),
                10.0,
                1.0,
                'Multi-line, "quoted" description\nwith ünïcödé ♫',
                True,
                i % 2 == 0,
                5000.0 * (i + 1),
            ]
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    return path


@pytest.fixture
def spotify_csv(tmp_path: Path) -> Path:
    # A different name on purpose: the stand-in serves it as Spotify_Youtube.csv whatever it is called.
    return make_csv(tmp_path / "source" / "small_spotify.csv")


@pytest.fixture
def kaggle_env(tmp_path: Path) -> dict[str, str]:
    """Environment for the kagglehub subprocess: TEST endpoint, private cache, no credentials."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.upper().startswith(("KAGGLE", "COLAB_", "TBE_")) and key.lower() not in {"http_proxy", "https_proxy", "all_proxy"}
    }
    home = tmp_path / "home"
    home.mkdir()
    env.update(
        KAGGLE_API_ENVIRONMENT="TEST",
        KAGGLEHUB_CACHE=str(tmp_path / "kagglehub-cache"),
        HOME=str(home),
        NO_PROXY="localhost,127.0.0.1",
        no_proxy="localhost,127.0.0.1",
    )
    return env


def run_kagglehub(env: dict[str, str], tmp_path: Path, handle: str = HANDLE, **kwargs: Any) -> dict[str, Any]:
    out = tmp_path / f"result-{len(list(tmp_path.glob('result-*.json')))}.json"
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, str(out), handle, json.dumps(kwargs)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0 and out.exists(), f"driver failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return json.loads(out.read_text())


def expected_dir(env: dict[str, str], version: int = 1) -> Path:
    return Path(env["KAGGLEHUB_CACHE"]) / "datasets" / "salvatorerastelli" / "spotify-and-youtube" / "versions" / str(version)


def open_url(url: str) -> tuple[int, bytes, str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10) as response:
            return (
                response.status,
                response.read(),
                response.headers.get("Content-Type", ""),
            )
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("Content-Type", "")


# -- the happy path -------------------------------------------------------------------------------


def test_download_arrives_byte_identical_over_two_posts(spotify_csv, kaggle_env, tmp_path):
    with KaggleStandIn(spotify_csv) as standin:
        result = run_kagglehub(kaggle_env, tmp_path)

    folder = Path(result["path"])
    assert folder == expected_dir(kaggle_env)
    assert sorted(p.name for p in folder.iterdir()) == ["Spotify_Youtube.csv"]
    assert (folder / "Spotify_Youtube.csv").read_bytes() == spotify_csv.read_bytes()

    assert standin.requests == [GET, DOWNLOAD]
    get_call, download_call = standin.calls
    assert (get_call.method, get_call.status) == ("POST", 200)
    assert get_call.body == {
        "ownerSlug": "salvatorerastelli",
        "datasetSlug": "spotify-and-youtube",
    }
    assert download_call.body == {
        "ownerSlug": "salvatorerastelli",
        "datasetSlug": "spotify-and-youtube",
        "datasetVersionNumber": 1,
    }
    assert not get_call.authorization and not download_call.authorization  # no credentials were sent
    assert get_call.user_agent.startswith("kagglehub/")


def test_second_download_comes_from_cache_but_still_asks_for_the_version(spotify_csv, kaggle_env, tmp_path):
    with KaggleStandIn(spotify_csv) as standin:
        first = run_kagglehub(kaggle_env, tmp_path)
        second = run_kagglehub(kaggle_env, tmp_path)

    assert first == second
    # An unversioned handle always resolves the current version (GetDataset) first; the
    # archive itself is fetched only once, the second call is served from KAGGLEHUB_CACHE.
    assert standin.requests == [GET, DOWNLOAD, GET]
    assert standin.count(DOWNLOAD) == 1
    assert (Path(second["path"]) / "Spotify_Youtube.csv").read_bytes() == spotify_csv.read_bytes()


def test_versioned_handle_with_warm_cache_makes_no_request_at_all(spotify_csv, kaggle_env, tmp_path):
    with KaggleStandIn(spotify_csv) as standin:
        run_kagglehub(kaggle_env, tmp_path)
        standin.clear()
        standin.mode = "unauthorized"  # would fail any request that was made
        result = run_kagglehub(kaggle_env, tmp_path, handle=f"{HANDLE}/versions/1")
    assert Path(result["path"]) == expected_dir(kaggle_env)
    assert standin.requests == []


def test_unversioned_handle_with_warm_cache_still_fails_when_kaggle_refuses(spotify_csv, kaggle_env, tmp_path):
    with KaggleStandIn(spotify_csv) as standin:
        run_kagglehub(kaggle_env, tmp_path)
        standin.mode = "unauthorized"
        result = run_kagglehub(kaggle_env, tmp_path)
    assert result["error_type"] == API_ERROR
    assert result["status"] == 401
    assert (expected_dir(kaggle_env) / "Spotify_Youtube.csv").exists()  # the cache is left as it was


def test_new_version_is_downloaded_next_to_the_old_one(spotify_csv, kaggle_env, tmp_path):
    with KaggleStandIn(spotify_csv) as standin:
        run_kagglehub(kaggle_env, tmp_path)
        standin.version = 2
        result = run_kagglehub(kaggle_env, tmp_path)
    assert Path(result["path"]) == expected_dir(kaggle_env, version=2)
    assert standin.count(DOWNLOAD) == 2
    assert standin.calls[-1].body["datasetVersionNumber"] == 2
    assert expected_dir(kaggle_env, version=1).exists()


def test_redirect_to_storage_like_real_kaggle(spotify_csv, kaggle_env, tmp_path):
    with KaggleStandIn(spotify_csv, redirect=True) as standin:
        result = run_kagglehub(kaggle_env, tmp_path)
    assert (Path(result["path"]) / "Spotify_Youtube.csv").read_bytes() == spotify_csv.read_bytes()
    assert standin.requests == [
        GET,
        DOWNLOAD,
        "/storage/salvatorerastelli/spotify-and-youtube/versions/1/archive.zip",
    ]
    assert [c.status for c in standin.calls] == [200, 302, 200]


def test_single_file_download_with_path(spotify_csv, kaggle_env, tmp_path):
    with KaggleStandIn(spotify_csv) as standin:
        result = run_kagglehub(kaggle_env, tmp_path, path="Spotify_Youtube.csv")
    target = Path(result["path"])
    assert target == expected_dir(kaggle_env) / "Spotify_Youtube.csv"
    assert target.read_bytes() == spotify_csv.read_bytes()
    assert standin.calls[-1].body["fileName"] == "Spotify_Youtube.csv"


def test_credentials_from_environment_are_sent(spotify_csv, kaggle_env, tmp_path):
    env = {**kaggle_env, "KAGGLE_USERNAME": "someone", "KAGGLE_KEY": "not-a-real-key"}
    with KaggleStandIn(spotify_csv) as standin:
        result = run_kagglehub(env, tmp_path)
    assert "path" in result
    assert all(call.authorization for call in standin.calls)


# -- failures: the exact exceptions kagglehub raises ----------------------------------------------

GET_URL = "http://localhost:7777/api/v1/datasets.DatasetApiService/GetDataset"
NO_PERMISSION = (
    "{status} Client Error.\n\n"
    f"You don't have permission to access resource at URL: {GET_URL}. "
    "Please make sure you are authenticated if you are trying to access a private resource "
    "or a resource requiring consent."
)
NOT_FOUND = f"404 Client Error.\n\nResource not found at URL: {GET_URL}\nPlease make sure you specified the correct resource identifiers."


@pytest.mark.parametrize(
    ("mode", "status", "message"),
    [
        ("unauthorized", 401, NO_PERMISSION.format(status=401)),
        ("forbidden", 403, NO_PERMISSION.format(status=403)),
        ("not_found", 404, NOT_FOUND),
        ("server_error", 500, "Internal server error"),
    ],
)
def test_refusals_raise_kaggle_api_http_error(spotify_csv, kaggle_env, tmp_path, mode, status, message):
    with KaggleStandIn(spotify_csv, mode=mode) as standin:
        result = run_kagglehub(kaggle_env, tmp_path)
    assert result == {"error_type": API_ERROR, "message": message, "status": status}
    assert standin.requests == [GET]  # it stops at the first refusal
    assert not expected_dir(kaggle_env).exists()


def test_unknown_handle_is_404(spotify_csv, kaggle_env, tmp_path):
    with KaggleStandIn(spotify_csv) as standin:
        result = run_kagglehub(kaggle_env, tmp_path, handle="someone/no-such-dataset")
    assert result == {"error_type": API_ERROR, "message": NOT_FOUND, "status": 404}
    assert standin.calls[0].body == {
        "ownerSlug": "someone",
        "datasetSlug": "no-such-dataset",
    }


def test_no_server_raises_connection_error(kaggle_env, tmp_path):
    result = run_kagglehub(kaggle_env, tmp_path)
    assert result["error_type"] == "requests.exceptions.ConnectionError"
    assert "port=7777" in result["message"]
    assert result["status"] is None


# -- the plain HTTP files and the stand-in itself ---------------------------------------------------


def test_plain_get_of_zip_and_csv(spotify_csv):
    with KaggleStandIn(spotify_csv) as standin:
        assert standin.base_url == "http://127.0.0.1:7777"
        status, body, content_type = open_url(standin.base_url + "/files/Spotify_Youtube.zip")
        assert (status, content_type) == (200, "application/zip")
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            assert archive.testzip() is None
            assert archive.namelist() == ["Spotify_Youtube.csv"]
            assert archive.read("Spotify_Youtube.csv") == spotify_csv.read_bytes()

        status, body, _ = open_url(standin.csv_url)
        assert (status, body) == (200, spotify_csv.read_bytes())

        assert open_url(standin.base_url + "/files/other.csv")[0] == 404
        standin.mode = "forbidden"
        assert open_url(standin.zip_url)[0] == 403
    assert standin.count("/files/Spotify_Youtube.zip") == 2
    assert standin.count("/files/Spotify_Youtube.csv") == 1


def test_port_busy_fails_clearly(spotify_csv):
    with (
        KaggleStandIn(spotify_csv),
        pytest.raises(PortBusyError, match="127.0.0.1:7777"),
    ):
        KaggleStandIn(spotify_csv).start()


def test_unknown_mode_is_rejected(spotify_csv):
    with pytest.raises(ValueError, match="unknown KaggleStandIn mode"):
        KaggleStandIn(spotify_csv, mode="teapot")
