"""Serve an N-Triples fixture with the ``oxigraph`` CLI for tests.

Example::

    with OxigraphServer(Path("wikidata-artists.nt.gz"), tmp_path) as server:
        requests.get(server.url, params={"query": "ASK {}"})
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Self

from tests.support.processes import StartStop

__all__ = ["OxigraphServer", "find_free_port", "find_oxigraph_binary"]

_PROBE_QUERY = "ASK {}"


def find_free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that was free when asked (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_is_free(host: str, port: int) -> bool:
    """Whether ``host:port`` can be bound now (with SO_REUSEADDR, as servers do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def find_oxigraph_binary() -> Path:
    """Locate the ``oxigraph`` CLI: next to ``sys.executable`` first, then on PATH."""
    candidate = Path(sys.executable).parent / "oxigraph"
    if candidate.is_file():
        return candidate
    found = shutil.which("oxigraph")
    if found:
        return Path(found)
    raise FileNotFoundError(f"oxigraph binary not found next to {sys.executable} nor on PATH (pip install oxigraph)")


class OxigraphServer(StartStop):
    """Load an N-Triples file into an on-disk store and serve it read-only.

    Use as a context manager (or call :meth:`start` / :meth:`stop`). While
    running, ``url`` is the SPARQL endpoint (``http://127.0.0.1:PORT/query``),
    ``port`` the TCP port and ``pid`` the server's process id.
    """

    def __init__(
        self,
        nt_gz_path: Path,
        workdir: Path,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        startup_timeout: float = 20.0,
        stop_grace: float = 5.0,
    ) -> None:
        """Prepare (but do not start) a server for ``nt_gz_path`` with its store in ``workdir``."""
        self.nt_gz_path = Path(nt_gz_path)
        self.workdir = Path(workdir)
        self.host = host
        self.port: int = port if port is not None else find_free_port(host)
        self.startup_timeout = startup_timeout
        self.stop_grace = stop_grace
        self.store_dir = self.workdir / "oxigraph-store"
        self.binary = find_oxigraph_binary()
        #: The ``serve-read-only`` process; kept after stop() so callers can check it exited.
        self.process: subprocess.Popen[bytes] | None = None
        self._stderr_file: tempfile._TemporaryFileWrapper[bytes] | None = None

    @property
    def url(self) -> str:
        """The SPARQL query endpoint URL."""
        return f"http://{self.host}:{self.port}/query"

    @property
    def pid(self) -> int | None:
        """PID of the server process (kept after :meth:`stop`), or None before start."""
        return self.process.pid if self.process is not None else None

    def load(self) -> None:
        """Bulk-load the fixture into ``store_dir`` with ``oxigraph load``."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [
                str(self.binary),
                "load",
                "--location",
                str(self.store_dir),
                "--file",
                str(self.nt_gz_path),
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"oxigraph load failed (exit {result.returncode}): {result.stderr.decode(errors='replace')}")

    def start(self) -> Self:
        """Load the store, start ``serve-read-only`` and wait until it answers."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError("server already running")
        if not _port_is_free(self.host, self.port):
            raise RuntimeError(f"port {self.port} on {self.host} is already in use")
        self.load()
        self._stderr_file = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                str(self.binary),
                "serve-read-only",
                "--location",
                str(self.store_dir),
                "--bind",
                f"{self.host}:{self.port}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr_file,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _read_stderr(self) -> str:
        if self._stderr_file is None:
            return ""
        self._stderr_file.flush()
        self._stderr_file.seek(0)
        return self._stderr_file.read().decode(errors="replace")

    def _wait_ready(self) -> None:
        assert self.process is not None
        probe = self.url + "?" + urllib.parse.urlencode({"query": _PROBE_QUERY})
        deadline = time.monotonic() + self.startup_timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"oxigraph serve exited early with code {self.process.returncode}; stderr:\n{self._read_stderr()}")
            try:
                request = urllib.request.Request(probe, headers={"Accept": "application/sparql-results+json"})
                with urllib.request.urlopen(request, timeout=2) as response:
                    response.read()
                    # Make sure it was our process that answered and that it stays up.
                    if response.status == 200 and self.process.poll() is None:
                        return
            except (urllib.error.URLError, OSError) as exc:
                last_error = exc
            time.sleep(0.05)
        raise TimeoutError(
            f"oxigraph did not answer on {self.url} within {self.startup_timeout} s "
            f"(last error: {last_error!r}); stderr:\n{self._read_stderr()}"
        )

    def stop(self) -> None:
        """Terminate the server by PID (SIGTERM, then SIGKILL after the grace period)."""
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=self.stop_grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=self.stop_grace)
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None
