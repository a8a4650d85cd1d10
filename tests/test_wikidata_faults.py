"""Wikidata labelling under injected faults, interruption and cache management.

Every test here talks to a real Oxigraph server on 127.0.0.1 (session fixture ``oxigraph``),
most of them through the project's own FaultProxy. The reference is a clean run straight
against Oxigraph; a faulty run must produce the same artist table.

The request bound: a batch costs at most 2 queries (artists, then their genres) and a query
is tried at most ``1 + max_retries`` times (``SparqlClient.select``), so a run sends at most
``2 * batches * (1 + max_retries)`` requests (``request_bound``). Beyond the bound,
the tests check the exact accounting: requests = clean run's requests + retries, and every
injected fault costs exactly one retry.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.conftest import DATASET_CSV, REPO, needs_shared
from tests.support.fault_proxy import FaultProxy
from tests.support.oxigraph_server import find_free_port
from workflow_scripts.core import fileio
from workflow_scripts.core.errors import UserError
from workflow_scripts.labels.cache import ArtistCache
from workflow_scripts.labels.cli import read_artists
from workflow_scripts.labels.client import RetryPolicy, SparqlClient, Stats, request_bound, user_agent
from workflow_scripts.labels.labelling import label_artists
from workflow_scripts.labels.query import artist_query, genre_query
from workflow_scripts.labels.tables import entries_table

pytestmark = needs_shared

CONTACT = "tests <ci@example.org>"
N_ARTISTS = 300
BATCH = 10
RATE = 0.3
SLOW_DELAY_S = 1.5
# Short waits so that the tests stay fast; Retry-After is parsed, then capped at 0.05 s.
FAST = RetryPolicy(max_retries=6, backoff_base_s=0.01, backoff_max_s=0.05, retry_after_max_s=0.05, timeout_s=5.0)
# Shorter than the proxy's slow_delay, so a "slow" answer is a time-out for the client.
FAST_TIMEOUT = RetryPolicy(max_retries=6, backoff_base_s=0.01, backoff_max_s=0.05, retry_after_max_s=0.05, timeout_s=0.35)
# Retries beyond the injected faults: a legitimate answer slower than 0.35 s on a
# loaded machine counts as a time-out too.
SPURIOUS_SLACK = 5

_LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"@en')
_UNESCAPE = re.compile(r'\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|["\\nrtbf\'])')
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "\\": "\\", "'": "'"}


def values_names(query: str | None) -> list[str]:
    """The artist names in a query's ``VALUES ?name { ... }`` block, unescaped (empty for other queries)."""
    if not query or "VALUES ?name {" not in query:
        return []
    block = query.split("VALUES ?name {", 1)[1]
    names, pos = [], 0
    while True:
        while pos < len(block) and block[pos].isspace():
            pos += 1
        match = _LITERAL.match(block, pos)
        if match is None:
            assert block.startswith("}", pos), f"unparsed VALUES text: {block[pos : pos + 80]!r}"
            return names
        names.append(_UNESCAPE.sub(lambda m: _SIMPLE.get(m[1]) or chr(int(m[1][1:], 16)), match[1]))
        pos = match.end()


def test_values_parser_reads_back_hostile_names() -> None:
    from tests.test_wikidata import HOSTILE

    assert values_names(artist_query(HOSTILE)) == HOSTILE
    assert values_names(genre_query(["Q1"])) == []


def asked_names(proxy: FaultProxy) -> list[str]:
    return [name for query in proxy.queries for name in values_names(query)]


def table(entries: list[dict[str, Any]]) -> pd.DataFrame:
    return entries_table(entries)  # has no queried_at or endpoint column


def cache_files(cache_dir: Path) -> tuple[list[Path], list[Path]]:
    """(entry files, temporary files) under a cache folder."""
    files = [p for p in Path(cache_dir).rglob("*") if p.is_file()]
    return [p for p in files if not p.name.startswith(".")], [p for p in files if p.name.startswith(".")]


def assert_cache_sound(cache_dir: Path, expected: int) -> list[dict[str, Any]]:
    entries, temporary = cache_files(cache_dir)
    assert not temporary, temporary
    parsed = [json.loads(p.read_text(encoding="utf-8")) for p in entries]
    assert len(parsed) == expected
    keys = {"artist", "endpoint", "query_version", "queried_at", "found", "items"}
    assert all(set(e) == keys for e in parsed)
    return parsed


@pytest.fixture(scope="module")
def artists() -> list[str]:
    """300 real artist names (a fixed sample), including ones with quotes and non-Latin letters."""
    every = sorted(set(read_artists(DATASET_CSV)))
    chosen = set(random.Random(3).sample(every, N_ARTISTS - 3))
    chosen.update(n for n in every if n in ('Héctor "El Father"', "Café Tacvba", "JAY-Z"))
    chosen.update(random.Random(4).sample(sorted(set(every) - chosen), N_ARTISTS - len(chosen)))
    assert len(chosen) == N_ARTISTS
    return sorted(chosen)


@pytest.fixture(scope="module")
def clean(oxigraph, artists, tmp_path_factory) -> dict[str, Any]:
    """A fault-free run straight against Oxigraph: the reference table and request count."""
    entries, stats = label_artists(artists, oxigraph.url, tmp_path_factory.mktemp("clean"), CONTACT, batch_size=BATCH, policy=FAST)
    assert stats.retries == 0
    reference = table(entries)
    assert reference["found"].sum() > 200 and (reference["genre_ids"] != "[]").sum() > 150
    return {"table": reference, "requests": stats.requests, "batches": -(-N_ARTISTS // BATCH), "entries": entries}


CASES = [
    pytest.param("429", "seconds", id="429-seconds"),
    pytest.param("429", "http-date", id="429-http-date"),
    pytest.param("500", "seconds", id="500"),
    pytest.param("502", "seconds", id="502"),
    pytest.param("503", "http-date", id="503"),
    pytest.param("slow", "seconds", id="slow"),
    pytest.param("reset", "seconds", id="reset"),
    pytest.param("truncate", "seconds", id="truncate"),
    pytest.param("mixed", "seconds", id="mixed"),
]


@pytest.mark.parametrize(("fault", "form"), CASES)
def test_labels_survive_faults(oxigraph, artists, clean, tmp_path: Path, fault: str, form: str) -> None:
    policy = FAST_TIMEOUT if fault in ("slow", "mixed") else FAST
    with FaultProxy(
        oxigraph.url, fault=fault, rate=RATE, seed=11, retry_after="1", retry_after_form=form, slow_delay=SLOW_DELAY_S
    ) as proxy:
        entries, stats = label_artists(artists, proxy.url, tmp_path, CONTACT, batch_size=BATCH, policy=policy)
        total, faulted = proxy.total, proxy.faulted_total

    pd.testing.assert_frame_equal(table(entries), clean["table"])
    assert_cache_sound(tmp_path, N_ARTISTS)
    # every fault kind asked for was injected, and each cost a retry
    injected = {kind for kind, n in proxy.faulted.items() if n}
    if fault == "mixed":
        assert len(injected) >= 5, injected
    else:
        assert injected == {fault}
    assert stats.retries > 0 and stats.retries >= faulted
    assert stats.retries <= faulted + (SPURIOUS_SLACK if policy is FAST_TIMEOUT else 0)
    # exact accounting: what the proxy saw is what the client sent: the clean run's queries plus one per retry
    assert total == stats.requests == clean["requests"] + stats.retries
    # the documented bound, and the count the fault rate predicts (a share RATE of requests fails)
    bound = request_bound(clean["batches"], policy)
    assert total <= bound == 2 * clean["batches"] * (1 + policy.max_retries)
    predicted = clean["requests"] / (1 - RATE)
    assert 0.75 * predicted <= total <= 1.25 * predicted, (total, predicted)
    assert all(CONTACT in (ua or "") and "genre-factor" in (ua or "") for ua in proxy.user_agents)


def test_concurrent_requests_under_faults_match_a_clean_run(oxigraph, artists, clean, tmp_path: Path) -> None:
    policy = FAST_TIMEOUT
    with FaultProxy(oxigraph.url, fault="mixed", rate=RATE, seed=5, slow_delay=SLOW_DELAY_S) as proxy:
        entries, stats = label_artists(artists, proxy.url, tmp_path, CONTACT, batch_size=BATCH, policy=policy, concurrency=3)
    pd.testing.assert_frame_equal(table(entries), clean["table"])
    assert_cache_sound(tmp_path, N_ARTISTS)
    assert stats.retries >= proxy.faulted_total > 0
    assert proxy.total == stats.requests == clean["requests"] + stats.retries <= request_bound(clean["batches"], policy)
    assert set(asked_names(proxy)) == set(artists)  # a retried batch is asked more than once


def recorded_waits(proxy_url: str, policy: RetryPolicy) -> tuple[list[float], Stats]:
    waits: list[float] = []
    client = SparqlClient(proxy_url, user_agent(CONTACT), policy, sleep=waits.append)
    assert client.select("SELECT ?x WHERE { VALUES ?x { 1 } }") == [
        {"x": {"type": "literal", "datatype": "http://www.w3.org/2001/XMLSchema#integer", "value": "1"}}
    ]
    return waits, client.stats


@pytest.mark.parametrize(("fault", "form"), [("429", "seconds"), ("429", "http-date"), ("503", "http-date")])
def test_retry_after_is_honoured(oxigraph, fault: str, form: str) -> None:
    policy = RetryPolicy(max_retries=3, backoff_base_s=0.01, backoff_max_s=0.05, retry_after_max_s=10.0)
    with FaultProxy(oxigraph.url, fault=fault, rate=1.0, retry_after="4", retry_after_form=form, max_consecutive_faults=1) as proxy:
        waits, stats = recorded_waits(proxy.url, policy)
    assert proxy.total == 2 and stats.retries == 1
    # an HTTP date has whole seconds: 4 s from now is 3 to 4 s away when it arrives
    assert len(waits) == 1 and (3.9 <= waits[0] <= 4.0 if form == "seconds" else 2.5 <= waits[0] <= 4.0), waits


def test_retry_after_is_capped_and_429_without_it_waits_the_longest_back_off(oxigraph) -> None:
    policy = RetryPolicy(max_retries=3, backoff_base_s=0.01, backoff_max_s=0.7, retry_after_max_s=2.0)
    with FaultProxy(oxigraph.url, fault="429", rate=1.0, retry_after="3600", max_consecutive_faults=1) as proxy:
        assert recorded_waits(proxy.url, policy)[0] == [pytest.approx(2.0, abs=0.1)]
    with FaultProxy(oxigraph.url, fault="429", rate=1.0, retry_after=None, max_consecutive_faults=1) as proxy:
        assert recorded_waits(proxy.url, policy)[0] == [pytest.approx(0.7, abs=0.1)]
    with FaultProxy(oxigraph.url, fault="502", rate=1.0, max_consecutive_faults=3) as proxy:
        waits, stats = recorded_waits(proxy.url, policy)
    # full jitter: uniform(0, min(backoff_max_s, base * 2**(retry - 1)))
    assert stats.retries == 3 and [w <= cap for w, cap in zip(waits, (0.01, 0.02, 0.04), strict=True)] == [True] * 3


def test_errors_are_never_cached(oxigraph, artists, clean, tmp_path: Path) -> None:
    first = artists[:50]
    with FaultProxy(oxigraph.url, fault="500", rate=0.0, max_consecutive_faults=None) as proxy:
        label_artists(first, proxy.url, tmp_path, CONTACT, batch_size=BATCH, policy=FAST)
        proxy.rate = 1.0  # from now on every request fails, with no cap on consecutive faults
        proxy.reset_stats()
        with pytest.raises(UserError, match="kept failing"):
            label_artists(artists, proxy.url, tmp_path, CONTACT, batch_size=BATCH, policy=FAST)
        # the failing run stopped at its first request's last try: 1 + max_retries requests
        assert proxy.total == 1 + FAST.max_retries
        # the cache holds the batches that succeeded, nothing from the failed run
        cached = assert_cache_sound(tmp_path, len(first))
        assert sorted(e["artist"] for e in cached) == first
        by_name = {e["artist"]: e for e in clean["entries"]}
        assert all(e["items"] == by_name[e["artist"]]["items"] for e in cached)

        proxy.rate = 0.0
        proxy.reset_stats()
        entries, stats = label_artists(artists, proxy.url, tmp_path, CONTACT, batch_size=BATCH, policy=FAST)
    pd.testing.assert_frame_equal(table(entries), clean["table"])
    assert stats.cached == len(first) and sorted(asked_names(proxy)) == artists[50:]
    assert_cache_sound(tmp_path, N_ARTISTS)


def test_refused_connections_end_in_a_clear_user_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{find_free_port()}/query"  # nothing listens there
    policy = RetryPolicy(max_retries=2, backoff_base_s=0.01, backoff_max_s=0.02)
    with pytest.raises(UserError, match="connection refused") as caught:
        label_artists(["Gorillaz"], url, tmp_path, CONTACT, policy=policy)
    assert "3 tries" in str(caught.value) and "rerun later" in caught.value.fix
    assert cache_files(tmp_path) == ([], [])


def test_a_bad_request_is_not_retried(oxigraph) -> None:
    with FaultProxy(oxigraph.url) as proxy:
        client = SparqlClient(proxy.url, user_agent(CONTACT), FAST)
        with pytest.raises(UserError, match="rejected the query"):
            client.select("SELECT WHERE {")
    assert proxy.total == 1 and client.stats.retries == 0


def test_old_entries_are_asked_again(oxigraph, artists, tmp_path: Path) -> None:
    names = artists[:20]
    with FaultProxy(oxigraph.url) as proxy:
        label_artists(names, proxy.url, tmp_path, CONTACT, batch_size=BATCH)
        cache = ArtistCache(tmp_path, proxy.url)
        for name, days in ((names[3], 400), (names[7], 10)):
            entry = cache.get(name)
            entry["queried_at"] = (pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=days)).isoformat(timespec="seconds")
            cache.put(entry)
        proxy.reset_stats()
        _, stats = label_artists(names, proxy.url, tmp_path, CONTACT, batch_size=BATCH)  # no maximum age
        assert proxy.total == 0 and stats.cached == 20
        entries, stats = label_artists(names, proxy.url, tmp_path, CONTACT, batch_size=BATCH, max_age_days=30)
        assert asked_names(proxy) == [names[3]] and stats.cached == 19
    renewed = next(e for e in entries if e["artist"] == names[3])
    assert pd.Timestamp.now(tz="UTC") - pd.Timestamp(renewed["queried_at"]) < pd.Timedelta(minutes=5)
    assert ArtistCache(tmp_path, proxy.url, max_age_days=30).get(names[7]) is not None


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "workflow_scripts.wikidata", *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=60
    )


def test_forget_command_and_label_command(oxigraph, tmp_path: Path) -> None:
    names = ["Gorillaz", 'Héctor "El Father"', "Metallica", "周杰倫"]
    source = tmp_path / "songs.csv"
    pd.DataFrame({"Artist": names + names[:2], "Track": range(6)}).to_csv(source, index=False)
    cache, out = tmp_path / "cache", tmp_path / "artists.csv"
    with FaultProxy(oxigraph.url) as proxy:
        args = ["label", str(source), "--output", str(out), "--endpoint", proxy.url, "--cache-dir", str(cache), "--contact", CONTACT]
        done = run_cli(*args)
        assert done.returncode == 0, done.stderr
        assert "labelled 4/4 artists" in done.stderr and "retries" in done.stderr
        entries, _ = label_artists(names, proxy.url, cache, CONTACT)
        assert out.read_text(encoding="utf-8") == table(entries).to_csv(index=False)

        forgot = run_cli("forget", "--cache-dir", str(cache), 'Héctor "El Father"', "Nobody")
        assert forgot.returncode == 0 and forgot.stdout.splitlines() == ['forgot Héctor "El Father"', "not cached: Nobody"]
        proxy.reset_stats()
        assert run_cli(*args).returncode == 0
        assert asked_names(proxy) == ['Héctor "El Father"']
        proxy.reset_stats()
        assert run_cli(*args, "--refresh", "Metallica").returncode == 0
        assert asked_names(proxy) == ["Metallica"]
    down = run_cli("label", str(source), "--output", str(tmp_path / "x.csv"), "--endpoint", f"http://127.0.0.1:{find_free_port()}/query",
                   "--cache-dir", str(tmp_path / "c2"), "--contact", CONTACT, "--max-retries", "1", "--backoff-base-s", "0.01")  # fmt: skip
    assert down.returncode == 1 and "connection refused" in down.stderr and "Traceback" not in down.stderr


# -- interruption ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def everyone(oxigraph, tmp_path_factory) -> tuple[list[str], pd.DataFrame]:
    """All 2,079 artists of the dataset and their clean table."""
    names = sorted(set(read_artists(DATASET_CSV)))
    assert len(names) == 2079
    entries, _ = label_artists(names, oxigraph.url, tmp_path_factory.mktemp("everyone"), CONTACT)
    return names, table(entries)


def test_killed_run_resumes_without_asking_cached_artists(oxigraph, everyone, tmp_path: Path) -> None:
    names, reference = everyone
    cache = tmp_path / "cache"
    # Every request waits 40 ms in the proxy, so that the run lasts several seconds.
    with FaultProxy(oxigraph.url, fault="slow", rate=1.0, slow_delay=0.04, max_consecutive_faults=None) as proxy:
        child = subprocess.Popen(
            [sys.executable, "-m", "workflow_scripts.wikidata", "label", str(DATASET_CSV), "--output", str(tmp_path / "never.csv"),
             "--endpoint", proxy.url, "--cache-dir", str(cache), "--contact", CONTACT, "--batch-size", "25"],
            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        try:
            while len(cache_files(cache)[0]) < 300:
                assert child.poll() is None, f"the labelling ended before it was killed: {child.stderr.read().decode()[-2000:]}"
                assert time.monotonic() < deadline, "no progress within 60 s"
                time.sleep(0.02)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
            child.stderr.close()
        assert child.returncode == -signal.SIGKILL and not (tmp_path / "never.csv").exists()

        entry_files, temporary = cache_files(cache)
        before = {json.loads(p.read_text(encoding="utf-8"))["artist"] for p in entry_files}  # every entry parses
        assert 300 <= len(before) < len(names)
        # A write cut short by the kill leaves at most a temporary file; plant one for an artist not
        # yet cached (half its JSON, named after the killed writer) to show it is harmless and removed.
        victim = next(n for n in names if n not in before)
        target = ArtistCache(cache, proxy.url).path(victim)
        target.parent.mkdir(parents=True, exist_ok=True)
        planted = target.with_name(f".{target.name}.{fileio.HOST}-{child.pid}-0badc0de.tmp")
        planted.write_text('{"artist": "' + victim[:3], encoding="utf-8")
        assert all(p.name.startswith(".") and p.name.endswith(".tmp") for p in temporary)

        proxy.rate = 0.0
        proxy.reset_stats()
        entries, stats = label_artists(names, proxy.url, cache, CONTACT, batch_size=25)
        asked = asked_names(proxy)
    assert not before & set(asked), "a cached artist was asked again"
    assert sorted(asked) == sorted(set(names) - before) and victim in asked
    assert stats.cached == len(before) and stats.retries == 0
    pd.testing.assert_frame_equal(table(entries), reference)
    assert_cache_sound(cache, len(names))  # the planted and any killed writer's temporary files are gone
