"""A local stand-in for the Kaggle API, so the real kagglehub client can be tested offline.

kagglehub reaches Kaggle through kagglesdk, which reads ``KAGGLE_API_ENVIRONMENT``; with
``KAGGLE_API_ENVIRONMENT=TEST`` every call goes to ``http://localhost:7777`` (hard-wired in
``kagglesdk.kaggle_env``). For ``kagglehub.dataset_download("salvatorerastelli/spotify-and-youtube")``
the client (kagglehub 1.0.2, kagglesdk 0.1.37) makes two JSON POSTs:

* ``/api/v1/datasets.DatasetApiService/GetDataset`` with ``{"ownerSlug", "datasetSlug"}``; only
  ``currentVersionNumber`` of the answer is used. Skipped when the handle names a version
  (``owner/slug/versions/N``).
* ``/api/v1/datasets.DatasetApiService/DownloadDataset`` with ``datasetVersionNumber`` added
  (and ``fileName`` when ``path=`` is given); the answer body is the archive (or the single file).

kagglehub unpacks the archive into ``$KAGGLEHUB_CACHE/datasets/<owner>/<slug>/versions/<n>/``.

The same server also stands in for a plain "dataset from an HTTP URL" source:
``GET /files/Spotify_Youtube.csv`` (raw bytes) and ``GET /files/Spotify_Youtube.zip``.

Stdlib only. Usage::

    with KaggleStandIn(csv_path) as standin:
        ...  # run kagglehub with KAGGLE_API_ENVIRONMENT=TEST
        assert standin.count(KaggleStandIn.DOWNLOAD_DATASET_PATH) == 1
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import socket
import threading
import zipfile
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

from tests.support.processes import StartStop

__all__ = ["KaggleStandIn", "PortBusyError", "RecordedRequest"]

OWNER = "salvatorerastelli"
SLUG = "spotify-and-youtube"
FILE_NAME = "Spotify_Youtube.csv"
ZIP_NAME = "Spotify_Youtube.zip"

# Status and JSON body per failure mode, shaped like Kaggle's own error answers
# ({"code": 401, "message": "Unauthorized"}, Content-Type application/json).
_MODE_ERRORS: dict[str, tuple[HTTPStatus, str]] = {
    "unauthorized": (HTTPStatus.UNAUTHORIZED, "Unauthorized"),
    "forbidden": (HTTPStatus.FORBIDDEN, "Forbidden"),
    "not_found": (HTTPStatus.NOT_FOUND, "Not found"),
    "server_error": (HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error"),
}
MODES = ("ok", *_MODE_ERRORS)


class PortBusyError(RuntimeError):
    """The stand-in could not listen on its port (another server, or another stand-in, holds it)."""


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the stand-in saw it (recorded before the answer is sent)."""

    method: str
    path: str
    status: int
    body: dict[str, Any] | None = None
    #: whether the client sent an Authorization header (its value is never kept)
    authorization: bool = False
    user_agent: str = ""


def _zip_bytes(member_name: str, data: bytes) -> bytes:
    """A deterministic zip holding one member (fixed timestamp, so equal input gives equal bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(member_name, date_time=(2023, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        archive.writestr(info, data)
    return buffer.getvalue()


def _goog_md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


class KaggleStandIn(StartStop):
    """Context manager running a stand-in Kaggle API on 127.0.0.1:<port> in a background thread.

    Args:
        csv_path: the CSV served as ``Spotify_Youtube.csv`` of ``salvatorerastelli/spotify-and-youtube``.
        port: 7777 because kagglesdk's ``TEST`` environment is hard-wired to ``localhost:7777``.
        mode: "ok", or a failure every endpoint answers with: "unauthorized" (401),
            "forbidden" (403), "not_found" (404), "server_error" (500). May be changed while running.
        version: the dataset's current version number (``versions/<n>`` in kagglehub's cache).
        redirect: when true, DownloadDataset answers 302 to ``/storage/...`` (as real Kaggle
            redirects to Google Cloud Storage) instead of carrying the archive itself.
    """

    OWNER = OWNER
    SLUG = SLUG
    HANDLE = f"{OWNER}/{SLUG}"
    FILE_NAME = FILE_NAME
    ZIP_NAME = ZIP_NAME
    MODES = MODES
    GET_DATASET_PATH = "/api/v1/datasets.DatasetApiService/GetDataset"
    DOWNLOAD_DATASET_PATH = "/api/v1/datasets.DatasetApiService/DownloadDataset"
    CSV_FILE_PATH = f"/files/{FILE_NAME}"
    ZIP_FILE_PATH = f"/files/{ZIP_NAME}"
    STORAGE_PREFIX = "/storage/"

    def __init__(
        self,
        csv_path: Path | str,
        port: int = 7777,
        mode: str = "ok",
        *,
        version: int = 1,
        redirect: bool = False,
    ) -> None:
        self.csv_path = Path(csv_path)
        self.port = port
        self.mode = mode  # validated by the property setter
        self.version = version
        self.redirect = redirect
        self.csv_bytes = self.csv_path.read_bytes()
        self.zip_bytes = _zip_bytes(FILE_NAME, self.csv_bytes)
        self.calls: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- configuration -------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            msg = f"unknown KaggleStandIn mode {value!r}; choose one of {', '.join(MODES)}"
            raise ValueError(msg)
        self._mode = value

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def csv_url(self) -> str:
        return self.base_url + self.CSV_FILE_PATH

    @property
    def zip_url(self) -> str:
        return self.base_url + self.ZIP_FILE_PATH

    # -- what was asked ------------------------------------------------------------------------

    @property
    def requests(self) -> list[str]:
        """Paths of every request received so far, in order (query strings kept)."""
        with self._lock:
            return [call.path for call in self.calls]

    def count(self, path: str) -> int:
        """How many requests were made for exactly ``path`` (query string ignored)."""
        with self._lock:
            return sum(1 for call in self.calls if call.path.split("?", 1)[0] == path)

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def _record(self, call: RecordedRequest) -> None:
        with self._lock:
            self.calls.append(call)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            msg = "KaggleStandIn is already running"
            raise RuntimeError(msg)
        _refuse_if_ipv6_localhost_taken(self.port)
        handler = _make_handler(self)
        try:
            server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        except OSError as exc:
            msg = (
                f"KaggleStandIn cannot listen on 127.0.0.1:{self.port} ({exc.strerror or exc}). "
                "kagglesdk's TEST environment only talks to localhost:7777, so whatever holds "
                "that port (another stand-in in a parallel test run?) must be stopped first."
            )
            raise PortBusyError(msg) from exc
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"KaggleStandIn:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    # -- answers -------------------------------------------------------------------------------

    def _storage_path(self) -> str:
        return f"{self.STORAGE_PREFIX}{OWNER}/{SLUG}/versions/{self.version}/archive.zip"

    def _dataset_json(self) -> dict[str, Any]:
        return {
            "id": 3527106,
            "ref": self.HANDLE,
            "title": "Spotify and Youtube",
            "url": f"https://www.kaggle.com/datasets/{self.HANDLE}",
            "ownerRef": OWNER,
            "currentVersionNumber": self.version,
            "totalBytes": len(self.csv_bytes),
            "isPrivate": False,
        }


def _refuse_if_ipv6_localhost_taken(port: int) -> None:
    """kagglesdk asks for ``localhost``, which may resolve to ::1 first: a listener there would win."""
    if not socket.has_ipv6:
        return
    try:
        with socket.create_connection(("::1", port), timeout=0.2):
            pass
    except OSError:
        return
    msg = f"something already listens on [::1]:{port}; kagglesdk would reach it instead of KaggleStandIn"
    raise PortBusyError(msg)


def _make_handler(standin: KaggleStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "KaggleStandIn/1"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet; everything is in standin.calls

        # .. plumbing .....................................................................

        def _read_json(self) -> dict[str, Any] | None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not raw:
                return None
            try:
                body = json.loads(raw)
            except ValueError:
                return {"_unparsed": raw.decode("utf-8", "replace")}
            return body if isinstance(body, dict) else {"_value": body}

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str,
            extra: dict[str, str] | None = None,
            *,
            head_only: bool = False,
        ) -> None:
            # Record first, so a client that has its answer always finds its request recorded.
            standin._record(
                RecordedRequest(
                    method=self.command,
                    path=self.path,
                    status=int(status),
                    body=getattr(self, "_body", None),
                    authorization="Authorization" in self.headers,
                    user_agent=self.headers.get("User-Agent", ""),
                )
            )
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if not head_only:
                self.wfile.write(body)

        def _send_json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode("utf-8")
            self._send(status, data, "application/json; charset=utf-8")

        def _send_api_error(self, status: HTTPStatus, message: str) -> None:
            self._send_json(status, {"code": int(status), "message": message})

        def _send_blob(self, data: bytes, content_type: str, name: str, *, head_only: bool = False) -> None:
            headers = {
                "Content-Disposition": f'attachment; filename="{name}"',
                "x-goog-hash": f"md5={_goog_md5(data)}",
            }
            self._send(HTTPStatus.OK, data, content_type, headers, head_only=head_only)

        # .. methods .......................................................................

        def do_POST(self) -> None:
            self._body = self._read_json()
            self._answer_api(self._body)

        def do_GET(self) -> None:
            self._body = None
            self._answer_get(head_only=False)

        def do_HEAD(self) -> None:
            self._body = None
            self._answer_get(head_only=True)

        # .. routes ........................................................................

        def _answer_api(self, body: dict[str, Any] | None) -> None:
            path = self.path.split("?", 1)[0]
            if path not in (standin.GET_DATASET_PATH, standin.DOWNLOAD_DATASET_PATH):
                self._send_api_error(HTTPStatus.NOT_FOUND, f"No such API method: {path}")
                return
            if standin.mode != "ok":
                self._send_api_error(*_MODE_ERRORS[standin.mode])
                return
            body = body or {}
            owner, slug = body.get("ownerSlug"), body.get("datasetSlug")
            if (owner, slug) != (OWNER, SLUG):
                self._send_api_error(HTTPStatus.NOT_FOUND, "Not found")
                return
            if path == standin.GET_DATASET_PATH:
                self._send_json(HTTPStatus.OK, standin._dataset_json())
                return
            version = body.get("datasetVersionNumber")
            if version is not None and int(version) != standin.version:
                self._send_api_error(HTTPStatus.NOT_FOUND, "Not found")
                return
            file_name = body.get("fileName")
            if file_name is not None and file_name != FILE_NAME:
                self._send_api_error(HTTPStatus.NOT_FOUND, "Not found")
                return
            if standin.redirect:
                target = standin._storage_path() if file_name is None else standin._storage_path() + "?file=1"
                location = standin.base_url + target
                self._send(HTTPStatus.FOUND, b"", "text/plain", {"Location": location})
            elif file_name is None:
                self._send_blob(standin.zip_bytes, "application/zip", f"{SLUG}.zip")
            else:
                self._send_blob(standin.csv_bytes, "text/csv", FILE_NAME)

        def _answer_get(self, *, head_only: bool) -> None:
            path, _, query = self.path.partition("?")
            known = {
                standin.CSV_FILE_PATH: (standin.csv_bytes, "text/csv", FILE_NAME),
                standin.ZIP_FILE_PATH: (standin.zip_bytes, "application/zip", ZIP_NAME),
                standin._storage_path(): (
                    (standin.csv_bytes, "text/csv", FILE_NAME)
                    if query == "file=1"
                    else (standin.zip_bytes, "application/zip", f"{SLUG}.zip")
                ),
            }
            if path not in known:
                self._send(
                    HTTPStatus.NOT_FOUND,
                    b"Not found\n",
                    "text/plain; charset=utf-8",
                    head_only=head_only,
                )
                return
            if standin.mode != "ok":
                status, message = _MODE_ERRORS[standin.mode]
                data = f"{message}\n".encode()
                self._send(status, data, "text/plain; charset=utf-8", head_only=head_only)
                return
            data, content_type, name = known[path]
            self._send_blob(data, content_type, name, head_only=head_only)

    return Handler
