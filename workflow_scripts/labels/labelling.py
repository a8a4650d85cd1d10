"""``label_artists``: every distinct artist from the cache, the rest in batches over SPARQL.

Artists are asked in batches of ``batch_size`` names (``VALUES``); a batch costs one artist
query and, when its artists have genres, one genre query. One request at a time unless
``concurrency`` > 1. Each batch's entries are cached as soon as it is answered, so an
interrupted or failed run keeps its progress. Defaults are the schema's (``labels.*``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from workflow_scripts.labels import defaults
from workflow_scripts.labels.cache import ArtistCache
from workflow_scripts.labels.client import RetryPolicy, SparqlClient, Stats, request_bound, user_agent
from workflow_scripts.labels.entries import build_entries
from workflow_scripts.labels.query import QID, artist_query, genre_query, qid, qnum

log = logging.getLogger(__name__)
_DEFAULTS = defaults.labels()


def label_artists(
    artists: Iterable[str],
    endpoint: str,
    cache_dir: str | Path,
    contact: str,
    batch_size: int = _DEFAULTS["batch_size"],
    policy: RetryPolicy | None = None,
    concurrency: int = _DEFAULTS["concurrency"],
    max_age_days: float | None = _DEFAULTS["max_age_days"],
    refresh: Iterable[str] = (),
    progress_every_s: float = 2.0,
) -> tuple[list[dict[str, Any]], Stats]:
    """Label every distinct artist: cached ones from the cache, the rest in batched queries.

    Returns the entries in name order and the run's counters. Raises UserError when a
    request runs out of retries (the batches answered so far stay cached).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    policy = policy or RetryPolicy()
    names = sorted(set(artists))
    cache = ArtistCache(cache_dir, endpoint, max_age_days)
    cache.clean_stale()
    for artist in refresh:
        if cache.forget(artist):
            log.info("refresh: asking %r again", artist)
    stats = Stats(total=len(names))
    client = SparqlClient(endpoint, user_agent(contact), policy, stats)
    entries, todo = _from_cache(cache, names)
    stats.done = stats.cached = len(entries)
    batches = [todo[i : i + batch_size] for i in range(0, len(todo), batch_size)]
    log.info(
        "%d artists: %d cached, %d to ask %s in %d batches (at most %d requests)",
        len(names),
        len(entries),
        len(todo),
        endpoint,
        len(batches),
        request_bound(len(batches), policy),
    )
    stats.started = time.monotonic()
    last_report = [stats.started]

    def run_batch(batch: list[str]) -> None:
        rows = client.select(artist_query(batch))
        genre_ids = sorted({qid(r["genre"]["value"]) for r in rows if "genre" in r and QID.fullmatch(qid(r["genre"]["value"]))}, key=qnum)
        genre_rows = client.select(genre_query(genre_ids)) if genre_ids else []
        for entry in build_entries(batch, rows, genre_rows, endpoint):
            cache.put(entry)
            entries[entry["artist"]] = entry
        with stats.lock:
            stats.done += len(batch)
            if time.monotonic() - last_report[0] >= progress_every_s:
                last_report[0] = time.monotonic()
                log.info(stats.line())

    try:
        _run(run_batch, batches, concurrency)
    except BaseException:
        log.info("stopped: %s", stats.line())
        raise
    log.info(stats.line())
    return [entries[n] for n in names], stats


def _from_cache(cache: ArtistCache, names: list[str]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The cached entries by name, and the names still to ask (in order)."""
    entries: dict[str, dict[str, Any]] = {}
    todo: list[str] = []
    for name in names:
        entry = cache.get(name)
        if entry is None:
            todo.append(name)
        else:
            entries[name] = entry
    return entries, todo


def _run(run_batch: Callable[[list[str]], None], batches: list[list[str]], concurrency: int) -> None:
    """Run the batches one after another, or on ``concurrency`` threads; the first failure stops the rest."""
    if concurrency <= 1 or len(batches) <= 1:
        for batch in batches:
            run_batch(batch)
        return
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="wikidata") as pool:
        futures = [pool.submit(run_batch, b) for b in batches]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in done if f.exception() is not None]
        if failed:
            for future in futures:
                future.cancel()  # batches not started yet are dropped; running ones finish
            raise failed[0].exception()  # type: ignore[misc]
