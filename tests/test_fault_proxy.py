"""Tests of tests/support/oxigraph_server.py and tests/support/fault_proxy.py.

They serve the real Wikidata fixture (../shared/wikidata/wikidata-artists.nt.gz) with the
``oxigraph`` CLI and put the fault-injecting proxy in front of it.
"""

from __future__ import annotations

import email.utils
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from tests.conftest import WIKIDATA_NT
from tests.support.fault_proxy import FAULT_KINDS, FaultProxy
from tests.support.oxigraph_server import (
    OxigraphServer,
    find_free_port,
    find_oxigraph_binary,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURE = WIKIDATA_NT  # ../shared or GENRE_FACTOR_SHARED, as every data-backed test

pytestmark = pytest.mark.skipif(
    not FIXTURE.is_file(),
    reason=f"shared Wikidata fixture not found at {FIXTURE} (place ../shared beside the repository or set GENRE_FACTOR_SHARED)",
)

ACCEPT_JSON = {"Accept": "application/sparql-results+json"}
USER_AGENT = "genre-factor-tests/0.1 (https://example.org/genre-factor; test@example.org)"
CLIENT_TIMEOUT = 10.0

GORILLAZ_QUERY = """\
PREFIX wdt:  <http://www.wikidata.org/prop/direct/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?artist ?genre ?genreLabel WHERE {
  ?artist rdfs:label "Gorillaz"@en ;
          wdt:P136 ?genre .
  OPTIONAL { ?genre rdfs:label ?genreLabel . FILTER(LANG(?genreLabel) = "en") }
}
"""
GORILLAZ_GENRES = {"alternative rock", "alternative hip hop", "trip hop"}


def genre_labels(payload: dict) -> set[str]:
    """The ``genreLabel`` values of a SPARQL JSON result."""
    return {b["genreLabel"]["value"] for b in payload["results"]["bindings"]}


def query(url: str, *, method: str = "POST", timeout: float = CLIENT_TIMEOUT):
    """Send GORILLAZ_QUERY (form-encoded POST or GET) and return the response."""
    headers = {**ACCEPT_JSON, "User-Agent": USER_AGENT}
    if method == "GET":
        return requests.get(url, params={"query": GORILLAZ_QUERY}, headers=headers, timeout=timeout)
    return requests.post(url, data={"query": GORILLAZ_QUERY}, headers=headers, timeout=timeout)


def new_server(workdir: Path) -> OxigraphServer:
    try:
        find_oxigraph_binary()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    return OxigraphServer(FIXTURE, workdir)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServer]:
    with new_server(tmp_path_factory.mktemp("oxigraph")) as srv:
        yield srv


# -- OxigraphServer ---------------------------------------------------------------------


def test_server_answers_gorillaz_with_genres(server: OxigraphServer) -> None:
    assert server.url == f"http://127.0.0.1:{server.port}/query"
    assert server.process is not None and server.process.poll() is None
    for method in ("GET", "POST"):
        response = query(server.url, method=method)
        assert response.status_code == 200
        assert genre_labels(response.json()) == GORILLAZ_GENRES


def test_server_process_is_gone_after_exit(tmp_path: Path) -> None:
    with new_server(tmp_path) as srv:
        pid, port = srv.pid, srv.port
        assert pid is not None
        os.kill(pid, 0)  # alive
    assert srv.process is not None and srv.process.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), 1):
        pass


def test_server_refuses_a_busy_port(server: OxigraphServer, tmp_path: Path) -> None:
    busy = OxigraphServer(FIXTURE, tmp_path, port=server.port)
    with pytest.raises(RuntimeError, match="already in use"):
        busy.start()
    assert busy.process is None


def test_server_startup_failure_reports_stderr(tmp_path: Path) -> None:
    fake = tmp_path / "oxigraph"
    fake.write_text('#!/bin/sh\n[ "$1" = load ] && exit 0\necho "bind failed: boom" >&2\nexit 3\n')
    fake.chmod(0o755)
    srv = OxigraphServer(FIXTURE, tmp_path)
    srv.binary = fake
    with pytest.raises(RuntimeError, match="(?s)code 3.*bind failed: boom"):
        srv.start()


def test_find_free_port_is_bindable() -> None:
    port = find_free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


# -- FaultProxy: clean forwarding ---------------------------------------------------------


def test_clean_forwarding_keeps_method_headers_and_body(server: OxigraphServer) -> None:
    with FaultProxy(server.url) as proxy:
        assert proxy.url == f"http://127.0.0.1:{proxy.port}/query"
        get = query(proxy.url, method="GET")
        post = query(proxy.url, method="POST")
        raw = requests.post(
            proxy.url,
            data=GORILLAZ_QUERY.encode(),
            headers={
                **ACCEPT_JSON,
                "Content-Type": "application/sparql-query",
                "User-Agent": "raw/1",
            },
            timeout=CLIENT_TIMEOUT,
        )
        for response in (get, post, raw):
            assert response.status_code == 200
            assert genre_labels(response.json()) == GORILLAZ_GENRES
        assert proxy.total == proxy.forwarded == 3
        assert proxy.faulted_total == 0
        assert proxy.user_agents == [USER_AGENT, USER_AGENT, "raw/1"]
        assert proxy.queries == [GORILLAZ_QUERY] * 3
        methods = [r.method for r in proxy.requests]
        assert methods == ["GET", "POST", "POST"]
        content_types = [r.headers.get("Content-Type") for r in proxy.requests]
        assert content_types[1] == "application/x-www-form-urlencoded"
        assert content_types[2] == "application/sparql-query"
        assert proxy.requests[2].body == GORILLAZ_QUERY.encode()


def test_upstream_error_status_is_passed_through(server: OxigraphServer) -> None:
    with FaultProxy(server.url) as proxy:
        response = requests.get(proxy.url, params={"query": "SELECT nonsense"}, timeout=CLIENT_TIMEOUT)
        assert response.status_code == 400
        assert proxy.forwarded == 1


# -- FaultProxy: each fault kind -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["429", "500", "502", "503"])
def test_status_faults_then_clean_pass(server: OxigraphServer, kind: str) -> None:
    with FaultProxy(server.url, fault=kind, rate=1.0, max_consecutive_faults=1, retry_after="1") as proxy:
        first, second, third = (query(proxy.url) for _ in range(3))
        assert first.status_code == int(kind)
        assert second.status_code == 200
        assert genre_labels(second.json()) == GORILLAZ_GENRES
        assert third.status_code == int(kind)
        if kind in ("429", "503"):
            assert first.headers["Retry-After"] == "1"
        else:
            assert "Retry-After" not in first.headers
        assert proxy.faulted[kind] == 2
        assert proxy.forwarded == 1
        assert proxy.total == 3
        assert [r.outcome for r in proxy.requests] == [kind, "forwarded", kind]


def test_retry_after_http_date_form(server: OxigraphServer) -> None:
    with FaultProxy(
        server.url,
        fault="429",
        rate=1.0,
        retry_after=30,
        retry_after_form="http-date",
    ) as proxy:
        response = query(proxy.url)
    assert response.status_code == 429
    when = email.utils.parsedate_to_datetime(response.headers["Retry-After"])
    delta = (when - datetime.now(UTC)).total_seconds()
    assert 25 <= delta <= 31


def test_retry_after_can_be_left_out(server: OxigraphServer) -> None:
    with FaultProxy(server.url, fault="429", rate=1.0, retry_after=None) as proxy:
        response = query(proxy.url)
    assert response.status_code == 429
    assert "Retry-After" not in response.headers


def test_truncate_breaks_json(server: OxigraphServer) -> None:
    full = query(server.url).content
    with FaultProxy(server.url, fault="truncate", rate=1.0, max_consecutive_faults=1) as proxy:
        cut = query(proxy.url)
        clean = query(proxy.url)
    assert cut.status_code == 200
    assert cut.content == full[: len(full) // 2]
    assert int(cut.headers["Content-Length"]) == len(cut.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.content)
    assert genre_labels(clean.json()) == GORILLAZ_GENRES
    assert proxy.faulted["truncate"] == 1


def test_slow_exceeds_client_timeout(server: OxigraphServer) -> None:
    with FaultProxy(server.url, fault="slow", rate=1.0, slow_delay=2.0, max_consecutive_faults=1) as proxy:
        start = time.monotonic()
        with pytest.raises(requests.exceptions.Timeout):
            query(proxy.url, timeout=0.3)
        assert time.monotonic() - start < 1.5
        response = query(proxy.url)
        assert response.status_code == 200
        assert proxy.faulted["slow"] == 1
        assert proxy.forwarded == 1
    assert time.monotonic() - start < 2.0  # stop() wakes the sleeping handler


def test_slow_answers_normally_when_client_waits(server: OxigraphServer) -> None:
    with FaultProxy(server.url, fault="slow", rate=1.0, slow_delay=0.2) as proxy:
        start = time.monotonic()
        response = query(proxy.url)
        assert time.monotonic() - start >= 0.2
    assert genre_labels(response.json()) == GORILLAZ_GENRES


def test_reset_raises_connection_error(server: OxigraphServer) -> None:
    with FaultProxy(server.url, fault="reset", rate=1.0, max_consecutive_faults=1) as proxy:
        with pytest.raises(requests.exceptions.ConnectionError) as info:
            query(proxy.url)
        assert not isinstance(info.value, requests.exceptions.Timeout)
        assert query(proxy.url).status_code == 200
        assert proxy.faulted["reset"] == 1
        assert proxy.forwarded == 1


# -- FaultProxy: rates, determinism, caps, stats ---------------------------------------------


def _outcomes(upstream: str, n: int, queries: Sequence[str] = ("ASK {}",), **kwargs: object) -> list[str]:
    """The outcomes of ``n`` requests, their queries taken in turn from ``queries``."""
    with FaultProxy(upstream, **kwargs) as proxy:  # type: ignore[arg-type]
        with requests.Session() as session:
            for i in range(n):
                session.get(proxy.url, params={"query": queries[i % len(queries)]}, timeout=CLIENT_TIMEOUT)
        assert proxy.total == n
        return [r.outcome for r in proxy.requests]


def test_rate_is_respected_and_deterministic(server: OxigraphServer) -> None:
    kwargs = {"fault": "500", "rate": 0.3, "seed": 7, "max_consecutive_faults": None}
    first = _outcomes(server.url, 200, **kwargs)
    second = _outcomes(server.url, 200, **kwargs)
    other_seed = _outcomes(server.url, 200, **{**kwargs, "seed": 8})
    assert first == second
    assert first != other_seed
    share = first.count("500") / len(first)
    assert 0.2 <= share <= 0.4
    assert _outcomes(server.url, 20, fault="500", rate=0.0) == ["forwarded"] * 20


def test_max_consecutive_faults_default_is_two(server: OxigraphServer) -> None:
    outcomes = _outcomes(server.url, 9, fault="503", rate=1.0)
    assert outcomes == ["503", "503", "forwarded"] * 3


def test_max_consecutive_faults_counts_each_query_apart(server: OxigraphServer) -> None:
    """Clients that share the proxy (labels.concurrency) interleave their queries: a query
    retried between the others' still gets through after two faults in a row."""
    outcomes = _outcomes(server.url, 6, queries=("ASK {}", "ASK { ?s ?p ?o }"), fault="503", rate=1.0)
    assert outcomes == ["503", "503", "503", "503", "forwarded", "forwarded"]


def test_mixed_mode_draws_all_kinds(server: OxigraphServer) -> None:
    seen: dict[str, int] = {}
    with FaultProxy(
        server.url,
        fault="mixed",
        rate=1.0,
        seed=1,
        slow_delay=0.05,
        max_consecutive_faults=None,
    ) as proxy:
        for _ in range(40):
            try:
                response = query(proxy.url)
            except requests.exceptions.ConnectionError:
                key = "reset"
            else:
                key = str(response.status_code)
                if response.status_code == 200:
                    try:
                        response.json()
                        key = "ok"
                    except ValueError:
                        key = "truncate"
            seen[key] = seen.get(key, 0) + 1
        faulted = dict(proxy.faulted)
    assert proxy.forwarded == 0
    assert sum(faulted.values()) == 40
    assert set(faulted) == set(FAULT_KINDS)
    assert all(count > 0 for count in faulted.values()), faulted
    for kind in ("429", "500", "502", "503", "reset", "truncate"):
        assert seen.get(kind) == faulted[kind]
    assert seen.get("ok") == faulted["slow"]  # slow but within the client's timeout


def test_stats_endpoint_matches_attributes(server: OxigraphServer) -> None:
    with FaultProxy(server.url, fault="429", rate=1.0, max_consecutive_faults=1) as proxy:
        query(proxy.url)
        query(proxy.url, method="GET")
        stats = requests.get(proxy.stats_url, timeout=CLIENT_TIMEOUT).json()
        assert stats == proxy.stats()
        assert stats["total"] == 2  # the /__stats request itself is not counted
        assert stats["forwarded"] == 1
        assert stats["faulted"]["429"] == 1
        assert stats["faulted_total"] == 1
        assert stats["user_agents"] == [USER_AGENT, USER_AGENT]
        assert stats["queries"] == [GORILLAZ_QUERY, GORILLAZ_QUERY]
        assert stats["outcomes"] == ["429", "forwarded"]
        proxy.reset_stats()
        assert proxy.stats()["total"] == 0
        port = proxy.port
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), 1):
        pass


def test_rejects_unknown_fault() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        FaultProxy("http://127.0.0.1:1/query", fault="teapot")


def test_command_line_proxy_in_a_subprocess(server: OxigraphServer) -> None:
    port = find_free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "tests.support.fault_proxy",
        "--upstream",
        server.url,
        "--port",
        str(port),
        "--fault",
        "502",
        "--rate",
        "1.0",
        "--max-consecutive-faults",
        "1",
    ]
    process = subprocess.Popen(
        cmd,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = f"http://127.0.0.1:{port}/query"
        assert line.strip() == f"listening on {url}"
        assert query(url).status_code == 502
        assert genre_labels(query(url).json()) == GORILLAZ_GENRES
        stats = requests.get(f"http://127.0.0.1:{port}/__stats", timeout=CLIENT_TIMEOUT).json()
        assert stats["total"] == 2
        assert stats["faulted"]["502"] == 1
        assert stats["forwarded"] == 1
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr
