"""A fault-injecting HTTP reverse proxy for testing SPARQL clients (stdlib only).

Every request to the proxy, whatever its path, is forwarded to one upstream URL (for
example Oxigraph's ``/query`` endpoint) with its query string, body and headers
(Content-Type, User-Agent, Accept, ...). For a share ``rate`` of the requests, drawn from
``random.Random(seed)``, the proxy answers with a fault instead:

``429``       Too Many Requests, with a ``Retry-After`` header (seconds or HTTP-date form)
``500``, ``502``, ``503``
              an error status with a short text body (503 also carries ``Retry-After``)
``slow``      waits ``slow_delay`` seconds, then forwards and answers normally
``reset``     closes the connection with an RST (SO_LINGER 0) and no response at all
``truncate``  forwards, then sends only the first half of the upstream body (the status is
              the upstream one, i.e. 200 for a good query; Content-Length matches the cut body)
``mixed``     each fault picks one of the kinds above at random

After ``max_consecutive_faults`` faults in a row for one query (its SPARQL text), that
query's next request is always forwarded cleanly, so a client that retries is guaranteed to
get through, however many clients send other queries in between. ``GET /__stats`` returns the
counters as JSON (that request itself is not counted or faulted).

In-process::

    with FaultProxy(server.url, fault="429", rate=0.5, seed=1, retry_after="1") as proxy:
        client.query(proxy.url)
        assert proxy.faulted["429"] >= 1

As a separate process (prints ``listening on URL`` once ready; stops on SIGTERM/SIGINT)::

    python -m tests.support.fault_proxy --upstream http://127.0.0.1:7878/query \\
        --port 8899 --fault mixed --rate 0.3 --seed 1
"""

from __future__ import annotations

import argparse
import email.utils
import http.client
import io
import json
import random
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from tests.support.processes import StartStop

__all__ = ["FAULT_KINDS", "FaultProxy", "RequestRecord", "main"]

#: Every fault kind the proxy can produce; ``mixed`` draws among all of them.
FAULT_KINDS: tuple[str, ...] = ("429", "500", "502", "503", "slow", "reset", "truncate")

STATS_PATH = "/__stats"

# Headers that must not be copied between the two hops (RFC 9110 section 7.6.1), plus
# those the proxy sets itself.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        # Dropped so that upstream answers uncompressed and ``truncate`` cuts plain text.
        "accept-encoding",
    }
)


@dataclass
class RequestRecord:
    """One request the proxy received, and what it did with it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    user_agent: str | None
    #: The SPARQL text: ``query`` URL/form parameter, or a ``application/sparql-query`` body.
    query: str | None
    #: ``forwarded`` or the fault kind (``429``, ``slow``, ...).
    outcome: str = "forwarded"
    timestamp: float = field(default_factory=time.time)


def _extract_query(query_string: str, content_type: str, body: bytes) -> str | None:
    """Return the SPARQL query carried by a request, if any."""
    params = urllib.parse.parse_qs(query_string, keep_blank_values=True)
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime == "application/x-www-form-urlencoded" and body:
        params.update(urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))
    if "query" in params:
        return params["query"][0]
    if mime == "application/sparql-query":
        return body.decode("utf-8", "replace")
    return None


class _ProxyHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], proxy: FaultProxy) -> None:
        self.proxy = proxy
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _ProxyHTTPServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY a keep-alive client
    # waits ~40 ms per answer (Nagle + delayed ACK).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.proxy.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        if urllib.parse.urlsplit(self.path).path == STATS_PATH:
            self._send(200, json.dumps(self.server.proxy.stats()).encode(), "application/json")
            return
        self._proxy()

    def do_POST(self) -> None:
        self._proxy()

    # -- helpers ---------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/plain; charset=utf-8",
        extra_headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for name, value in extra_headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:  # the client went away (e.g. timed out on a slow answer)
            self.close_connection = True

    def _reset(self) -> None:
        """Abort the connection with a TCP RST and no response."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        # rfile (a makefile()) holds a reference to the socket: close it too, so that the fd
        # really closes now. A dummy rfile keeps the handler's own cleanup quiet.
        self.rfile.close()
        self.connection.close()
        self.rfile = io.BytesIO()

    def _proxy(self) -> None:
        proxy = self.server.proxy
        body = self._read_body()
        split = urllib.parse.urlsplit(self.path)
        record = RequestRecord(
            method=self.command,
            path=self.path,
            headers={k: v for k, v in self.headers.items()},
            body=body,
            user_agent=self.headers.get("User-Agent"),
            query=_extract_query(split.query, self.headers.get("Content-Type", ""), body),
        )
        fault = proxy._decide(record)
        if fault is None:
            self._forward(split.query, body)
        elif fault in ("429", "500", "502", "503"):
            extra = []
            if fault in ("429", "503") and proxy.retry_after is not None:
                extra.append(("Retry-After", proxy._retry_after_value()))
            reason = http.client.responses.get(int(fault), "Error")
            self._send(
                int(fault),
                f"{fault} {reason} (injected by FaultProxy)\n".encode(),
                extra_headers=extra,
            )
        elif fault == "slow":
            proxy._stopping.wait(proxy.slow_delay)
            self._forward(split.query, body)
        elif fault == "reset":
            self._reset()
        elif fault == "truncate":
            self._forward(split.query, body, truncate=True)
        else:  # pragma: no cover - _decide only returns known kinds
            raise AssertionError(fault)

    def _forward(self, query_string: str, body: bytes, *, truncate: bool = False) -> None:
        proxy = self.server.proxy
        up = proxy._upstream
        path = up.path or "/"
        query = "&".join(q for q in (up.query, query_string) if q)
        if query:
            path += "?" + query
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        conn_cls = http.client.HTTPSConnection if up.scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(up.hostname or "127.0.0.1", up.port, timeout=proxy.upstream_timeout)
        try:
            conn.request(self.command, path, body=body or None, headers=headers)
            response = conn.getresponse()
            data = response.read()
            status = response.status
            resp_headers = [
                (k, v)
                for k, v in response.getheaders()
                if k.lower() not in _HOP_BY_HOP and k.lower() not in ("content-type", "content-encoding")
            ]
            content_type = response.getheader("Content-Type", "application/octet-stream")
            encoding = response.getheader("Content-Encoding")
        except OSError as exc:
            with proxy._lock:
                proxy.upstream_errors += 1
            self._send(502, f"FaultProxy: upstream error: {exc!r}\n".encode())
            return
        finally:
            conn.close()
        if encoding:
            resp_headers.append(("Content-Encoding", encoding))
        if truncate:
            data = data[: len(data) // 2]
        self._send(status, data, content_type, resp_headers)


class FaultProxy(StartStop):
    """A reverse proxy in a background thread that injects faults into some answers.

    Args:
        upstream_url: where every request is forwarded (e.g. ``http://127.0.0.1:7878/query``);
            the incoming query string is appended.
        fault: a kind from :data:`FAULT_KINDS`, ``"mixed"`` (all of them), ``"none"``, or a
            sequence / comma-separated string of kinds to draw among.
        rate: share of requests (0..1) that get a fault.
        seed: seed of the random generator that decides which requests fault, and which kind.
        retry_after: ``Retry-After`` value on 429/503 answers; ``None`` leaves the header out.
            A number (or numeric string) is sent as seconds, unless ``retry_after_form`` is
            ``"http-date"``: then it is sent as the HTTP-date that many seconds from now.
            Any other string is sent verbatim.
        retry_after_form: ``"seconds"`` or ``"http-date"``.
        slow_delay: seconds a ``slow`` fault waits before forwarding.
        max_consecutive_faults: after this many faults in a row for one query, its next
            request is forwarded cleanly; ``None`` for no limit.
        host, port: where to listen; port 0 picks a free one.
        upstream_timeout: socket timeout for the upstream connection.
        verbose: log each request to stderr.

    Attributes (live, read them any time): ``url``, ``port``, ``total``, ``forwarded``,
    ``faulted`` (dict kind -> count), ``upstream_errors``, ``user_agents``, ``queries``,
    ``requests`` (list of :class:`RequestRecord`).
    """

    def __init__(
        self,
        upstream_url: str,
        fault: str | Sequence[str] = "none",
        rate: float = 0.0,
        seed: int | None = 0,
        retry_after: str | float | None = "1",
        retry_after_form: str = "seconds",
        slow_delay: float = 5.0,
        max_consecutive_faults: int | None = 2,
        host: str = "127.0.0.1",
        port: int = 0,
        upstream_timeout: float = 30.0,
        verbose: bool = False,
    ) -> None:
        self.upstream_url = upstream_url
        self._upstream = urllib.parse.urlsplit(upstream_url)
        if self._upstream.scheme not in ("http", "https"):
            raise ValueError(f"upstream_url must be http(s): {upstream_url!r}")
        self.kinds = self._parse_kinds(fault)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1]: {rate}")
        if retry_after_form not in ("seconds", "http-date"):
            raise ValueError(f"retry_after_form must be 'seconds' or 'http-date': {retry_after_form!r}")
        self.fault = fault
        self.rate = rate
        self.seed = seed
        self.retry_after = retry_after
        self.retry_after_form = retry_after_form
        self.slow_delay = slow_delay
        self.max_consecutive_faults = max_consecutive_faults
        self.host = host
        self.port = port
        self.upstream_timeout = upstream_timeout
        self.verbose = verbose

        self.total = 0
        self.forwarded = 0
        self.faulted: dict[str, int] = {kind: 0 for kind in FAULT_KINDS}
        self.upstream_errors = 0
        self.user_agents: list[str | None] = []
        self.queries: list[str | None] = []
        self.requests: list[RequestRecord] = []

        self._rng = random.Random(seed)
        self._consecutive: Counter[str | None] = Counter()  # faults in a row, per query
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _ProxyHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @staticmethod
    def _parse_kinds(fault: str | Sequence[str]) -> tuple[str, ...]:
        names = [f.strip() for f in fault.split(",")] if isinstance(fault, str) else list(fault)
        kinds: list[str] = []
        for name in names:
            if name == "mixed":
                kinds.extend(FAULT_KINDS)
            elif name in FAULT_KINDS:
                kinds.append(name)
            elif name not in ("none", ""):
                raise ValueError(f"unknown fault {name!r}; choose from {FAULT_KINDS + ('mixed', 'none')}")
        return tuple(dict.fromkeys(kinds))

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The proxy's SPARQL endpoint URL (any path works; this one mirrors Oxigraph's)."""
        return f"http://{self.host}:{self.port}/query"

    @property
    def stats_url(self) -> str:
        """URL of the JSON counters."""
        return f"http://{self.host}:{self.port}{STATS_PATH}"

    def bind(self) -> _ProxyHTTPServer:
        """Bind the listening socket (if not yet bound) and set ``port``."""
        if self._server is None:
            self._stopping.clear()
            self._server = _ProxyHTTPServer((self.host, self.port), self)
            self.port = int(self._server.server_address[1])
        return self._server

    def start(self) -> Self:
        """Bind the port and serve in a daemon thread."""
        if self._thread is not None:
            raise RuntimeError("proxy already started")
        server = self.bind()
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake sleeping ``slow`` handlers and close the socket."""
        self._stopping.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` or KeyboardInterrupt."""
        server = self.bind()
        try:
            server.serve_forever(poll_interval=0.05)
        finally:
            self._stopping.set()
            server.server_close()
            self._server = None

    # -- decisions and counters --------------------------------------------------------------

    def _decide(self, record: RequestRecord) -> str | None:
        """Record a request and return the fault to inject, or None to forward it."""
        with self._lock:
            self.total += 1
            self.requests.append(record)
            self.user_agents.append(record.user_agent)
            self.queries.append(record.query)
            # Always draw, so the sequence depends only on the seed and the request order.
            roll = self._rng.random()
            kind = self._rng.choice(self.kinds) if self.kinds else None
            limit = self.max_consecutive_faults
            capped = limit is not None and self._consecutive[record.query] >= limit
            if kind is None or capped or roll >= self.rate:
                self._consecutive.pop(record.query, None)
                self.forwarded += 1
                return None
            self._consecutive[record.query] += 1
            self.faulted[kind] += 1
            record.outcome = kind
            return kind

    def _retry_after_value(self) -> str:
        value = self.retry_after
        try:
            seconds = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return str(value)
        if self.retry_after_form == "http-date":
            return email.utils.formatdate(time.time() + seconds, usegmt=True)
        return str(int(seconds)) if seconds == int(seconds) else str(seconds)

    @property
    def faulted_total(self) -> int:
        """Number of requests answered with any fault."""
        return sum(self.faulted.values())

    def stats(self) -> dict[str, Any]:
        """A JSON-ready snapshot of the counters (also served at ``GET /__stats``)."""
        with self._lock:
            return {
                "total": self.total,
                "forwarded": self.forwarded,
                "faulted": dict(self.faulted),
                "faulted_total": sum(self.faulted.values()),
                "upstream_errors": self.upstream_errors,
                "user_agents": list(self.user_agents),
                "queries": list(self.queries),
                "outcomes": [r.outcome for r in self.requests],
            }

    def reset_stats(self) -> None:
        """Zero the counters and forget recorded requests (the random sequence continues)."""
        with self._lock:
            self.total = self.forwarded = self.upstream_errors = 0
            self.faulted = {kind: 0 for kind in FAULT_KINDS}
            self.user_agents.clear()
            self.queries.clear()
            self.requests.clear()
            self._consecutive.clear()

    def records_as_dicts(self) -> list[dict[str, Any]]:
        """Recorded requests as plain dicts (body decoded as UTF-8)."""
        with self._lock:
            return [{**asdict(r), "body": r.body.decode("utf-8", "replace")} for r in self.requests]


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: run a proxy in the foreground."""
    parser = argparse.ArgumentParser(prog="python -m tests.support.fault_proxy", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--upstream",
        required=True,
        help="upstream URL, e.g. http://127.0.0.1:7878/query",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--fault",
        default="none",
        help=f"one of {', '.join(FAULT_KINDS)}, mixed, none, or a comma list",
    )
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--retry-after", default="1", help="Retry-After value; 'none' to omit")
    parser.add_argument("--retry-after-form", choices=("seconds", "http-date"), default="seconds")
    parser.add_argument("--slow-delay", type=float, default=5.0)
    parser.add_argument("--max-consecutive-faults", type=int, default=2, help="negative for no limit")
    parser.add_argument("--upstream-timeout", type=float, default=30.0)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)

    proxy = FaultProxy(
        args.upstream,
        fault=args.fault,
        rate=args.rate,
        seed=args.seed,
        retry_after=None if args.retry_after.lower() == "none" else args.retry_after,
        retry_after_form=args.retry_after_form,
        slow_delay=args.slow_delay,
        max_consecutive_faults=None if args.max_consecutive_faults < 0 else args.max_consecutive_faults,
        host=args.host,
        port=args.port,
        upstream_timeout=args.upstream_timeout,
        verbose=args.verbose,
    )

    def _on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_signal)
    proxy.bind()
    print(f"listening on {proxy.url}", flush=True)
    try:
        proxy.serve_forever()
    except KeyboardInterrupt:
        pass
    print(
        json.dumps({k: v for k, v in proxy.stats().items() if k != "queries"}),
        file=sys.stderr,
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
