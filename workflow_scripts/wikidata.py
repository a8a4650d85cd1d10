"""Artist genres (P136) from a Wikidata SPARQL endpoint: batched, retried, cached per artist.

Retry policy (per request): HTTP 429 waits ``Retry-After`` (seconds or HTTP date, capped at
``retry_after_max_s``); 5xx, time-outs, dropped connections and unparseable bodies wait an
exponential back-off with full jitter. A request is tried at most ``1 + max_retries`` times,
so a run sends at most ``2 * batches * (1 + max_retries)`` requests (an artist query and a
genre-ancestry query per batch). Errors are never cached; "not on Wikidata" is.
"""

from __future__ import annotations

import argparse
import email.utils
import hashlib
import http.client
import json
import logging
import random
import re
import threading
import time
import urllib.error
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from workflow_scripts.errors import UserError
from workflow_scripts.fileio import write_json_atomic

log = logging.getLogger(__name__)

QUERY_VERSION = 1
PROJECT_URL = "https://github.com/genre-factor/genre-factor"
PREFIXES = """PREFIX wd: <http://www.wikidata.org/entity/>
PREFIX wdt: <http://www.wikidata.org/prop/direct/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
# Artists matched by English label or alias, restricted to humans and musical groups (or
# subclasses), genres restricted to music genres, genre labels in English.
ARTIST_QUERY = (
    PREFIXES
    + """SELECT ?name ?artist ?genre ?genreLabel WHERE {
  VALUES ?name { %s }
  VALUES ?kind { wd:Q5 wd:Q215380 }
  ?artist rdfs:label|skos:altLabel ?name ;
          wdt:P31/wdt:P279* ?kind .
  OPTIONAL {
    ?artist wdt:P136 ?genre .
    ?genre wdt:P31/wdt:P279* wd:Q188451 .
    OPTIONAL { ?genre rdfs:label ?genreLabel . FILTER(LANG(?genreLabel) = "en") }
  }
}"""
)
ANCESTRY_QUERY = (
    PREFIXES
    + """SELECT ?genre ?ancestor ?ancestorLabel WHERE {
  VALUES ?genre { %s }
  ?genre wdt:P279+ ?ancestor .
  OPTIONAL { ?ancestor rdfs:label ?ancestorLabel . FILTER(LANG(?ancestorLabel) = "en") }
}"""
)
ENTITY_PREFIX = "http://www.wikidata.org/entity/"
_QID = re.compile(r"Q[0-9]+")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def sparql_literal(text: str, lang: str = "en") -> str:
    """Render ``text`` as a SPARQL string literal that can only ever match ``text`` itself.

    Backslash, quote and line breaks get SPARQL escapes; a ``u``/``U`` right after a
    backslash is written as a code point, so a name holding ``\\uXXXX`` text is never
    decoded by a parser's code-point pass. Braces, ``#``, ``<``, ``>`` and any script are
    inert inside a literal.
    """
    out: list[str] = []
    previous_backslash = False
    for char in text:
        if previous_backslash and char in "uU":
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(_ESCAPES.get(char, char))
        previous_backslash = char == "\\"
    return '"' + "".join(out) + '"@' + lang


def artist_query(names: Sequence[str]) -> str:
    """The SPARQL SELECT for a batch of artist names."""
    return ARTIST_QUERY % " ".join(sparql_literal(n) for n in names)


def ancestry_query(genre_ids: Sequence[str]) -> str:
    """The SPARQL SELECT for the P279 ancestors of a batch of genre ids (validated Q-ids)."""
    for qid in genre_ids:
        if not _QID.fullmatch(qid):
            raise ValueError(f"not a Wikidata item id: {qid!r}")
    return ANCESTRY_QUERY % " ".join(f"wd:{q}" for q in genre_ids)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one request."""

    max_retries: int = 8
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    retry_after_max_s: float = 300.0
    timeout_s: float = 60.0


class TransientError(Exception):
    """A failure worth retrying; ``wait_s`` is the server's Retry-After when it gave one."""

    def __init__(self, message: str, wait_s: float | None = None) -> None:
        super().__init__(message)
        self.wait_s = wait_s


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass
class Stats:
    """Counters a person can follow while labelling runs."""

    total: int = 0
    done: int = 0
    cached: int = 0
    requests: int = 0
    retries: int = 0
    started: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        asked = self.done - self.cached
        rate = asked / elapsed
        left = self.total - self.done
        eta = f"{left / rate:.0f} s" if rate > 0 else "?"
        return (
            f"labelled {self.done}/{self.total} artists ({self.cached} from cache), "
            f"{rate:.1f} artists/s, ~{eta} left, {self.requests} requests, {self.retries} retries"
        )


class SparqlClient:
    """One endpoint, one User-Agent, the retry policy; returns parsed SPARQL JSON results."""

    def __init__(
        self, endpoint: str, user_agent: str, policy: RetryPolicy, stats: Stats | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.endpoint = endpoint
        self.user_agent = user_agent
        self.policy = policy
        self.stats = stats or Stats()
        self._sleep = sleep

    def select(self, query: str) -> list[dict[str, Any]]:
        """Run a SELECT with retries; return its bindings. Raise UserError when retries run out."""
        last: TransientError | None = None
        for attempt in range(self.policy.max_retries + 1):
            if attempt:
                wait = self._wait_before(attempt, last)
                with self.stats.lock:
                    self.stats.retries += 1
                log.warning("retry %d/%d in %.1f s after: %s", attempt, self.policy.max_retries, wait, last)
                self._sleep(wait)
            try:
                return self._select_once(query)
            except TransientError as error:
                last = error
        raise UserError(
            f"The SPARQL endpoint {self.endpoint} kept failing ({self.policy.max_retries + 1} tries, last: {last}).",
            "rerun later (artists already labelled are cached and not asked again), or raise "
            "labels.retry.max_retries / labels.timeout_s in config.yaml.",
        )

    def _wait_before(self, attempt: int, error: TransientError | None) -> float:
        if error is not None and error.wait_s is not None:
            return min(error.wait_s, self.policy.retry_after_max_s)
        cap = min(self.policy.backoff_max_s, self.policy.backoff_base_s * 2 ** (attempt - 1))
        return random.uniform(cap / 2, cap)

    def _select_once(self, query: str) -> list[dict[str, Any]]:
        from SPARQLWrapper import JSON, POST, SELECT, SPARQLWrapper
        from SPARQLWrapper.SPARQLExceptions import EndPointInternalError, SPARQLWrapperException

        sparql = SPARQLWrapper(self.endpoint, agent=self.user_agent)
        sparql.setMethod(POST)
        sparql.setReturnFormat(JSON)
        sparql.setTimeout(int(max(1, round(self.policy.timeout_s))))
        sparql.setQuery(query)
        sparql.queryType = SELECT  # never let SPARQLWrapper's keyword regex guess from the text
        with self.stats.lock:
            self.stats.requests += 1
        try:
            response = sparql.query().response
            body = response.read()
        except urllib.error.HTTPError as error:
            if error.code == 429:
                raise TransientError("HTTP 429 Too Many Requests", parse_retry_after(error.headers.get("Retry-After"))) from None
            if error.code >= 500:
                raise TransientError(f"HTTP {error.code}") from None
            raise UserError(
                f"The SPARQL endpoint {self.endpoint} answered HTTP {error.code}.", "check labels.endpoint in config.yaml."
            ) from None
        except EndPointInternalError:
            raise TransientError("HTTP 500") from None
        except SPARQLWrapperException as error:
            raise UserError(
                f"The SPARQL endpoint {self.endpoint} rejected the query: {str(error).splitlines()[0]}",
                "check labels.endpoint in config.yaml.",
            ) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException, OSError) as error:
            reason = getattr(error, "reason", error)
            if isinstance(error, urllib.error.URLError) and isinstance(reason, ConnectionRefusedError):
                raise TransientError(f"connection refused by {self.endpoint}") from None
            raise TransientError(f"{type(error).__name__}: {reason}") from None
        try:
            return json.loads(body)["results"]["bindings"]
        except (ValueError, KeyError, TypeError) as error:
            raise TransientError(f"unparseable response body ({type(error).__name__})") from None


class ArtistCache:
    """One JSON file per artist under ``folder``; written atomically, never holds an error."""

    def __init__(self, folder: str | Path, endpoint: str, max_age_days: float | None = None) -> None:
        self.folder = Path(folder)
        self.endpoint = endpoint
        self.max_age = timedelta(days=max_age_days) if max_age_days else None

    def path(self, artist: str) -> Path:
        digest = hashlib.sha256(artist.encode("utf-8")).hexdigest()
        return self.folder / "artists" / digest[:2] / f"{digest}.json"

    def get(self, artist: str) -> dict[str, Any] | None:
        """The cached entry, or None when missing, unreadable, stale or from another endpoint."""
        path = self.path(artist)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            log.warning("ignoring unreadable cache entry %s", path)
            return None
        if entry.get("artist") != artist or entry.get("endpoint") != self.endpoint or entry.get("query_version") != QUERY_VERSION:
            return None
        if self.max_age is not None:
            asked = datetime.fromisoformat(entry["queried_at"])
            if datetime.now(UTC) - asked > self.max_age:
                return None
        return entry

    def put(self, entry: dict[str, Any]) -> None:
        write_json_atomic(self.path(entry["artist"]), entry)

    def forget(self, artist: str) -> bool:
        """Delete an artist's entry so the next run asks again; True when one existed."""
        path = self.path(artist)
        existed = path.exists()
        path.unlink(missing_ok=True)
        return existed


def _qid(uri: str) -> str:
    return uri.removeprefix(ENTITY_PREFIX)


def build_entries(
    names: Sequence[str], artist_rows: Iterable[dict[str, Any]], ancestry_rows: Iterable[dict[str, Any]], endpoint: str
) -> list[dict[str, Any]]:
    """Turn SPARQL bindings into one cache entry per asked name."""
    ancestors: dict[str, dict[str, str]] = {}
    for row in ancestry_rows:
        genre = _qid(row["genre"]["value"])
        ancestor = _qid(row["ancestor"]["value"])
        ancestors.setdefault(genre, {})[ancestor] = row.get("ancestorLabel", {}).get("value", "")
    items: dict[str, dict[str, dict[str, str]]] = {name: {} for name in names}
    for row in artist_rows:
        name = row["name"]["value"]
        if name not in items:
            continue
        genres = items[name].setdefault(_qid(row["artist"]["value"]), {})
        if "genre" in row:
            genres[_qid(row["genre"]["value"])] = row.get("genreLabel", {}).get("value", "")
    now = datetime.now(UTC).isoformat(timespec="seconds")
    entries = []
    for name in names:
        entry_items = [
            {
                "id": item,
                "genres": [
                    {
                        "id": g,
                        "label": label,
                        "ancestors": [ancestors[g][a] for a in sorted(ancestors.get(g, {}), key=_qnum) if ancestors[g][a]],
                    }
                    for g, label in sorted(genres.items(), key=lambda kv: _qnum(kv[0]))
                ],
            }
            for item, genres in sorted(items[name].items(), key=lambda kv: _qnum(kv[0]))
        ]
        entries.append(
            {
                "artist": name,
                "endpoint": endpoint,
                "query_version": QUERY_VERSION,
                "queried_at": now,
                "found": bool(entry_items),
                "items": entry_items,
            }
        )
    return entries


def _qnum(qid: str) -> int:
    return int(qid[1:]) if _QID.fullmatch(qid) else 0


def chosen_item(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The item an ambiguous name stands for: most music genres, then the lowest Q-number."""
    items = entry.get("items") or []
    if not items:
        return None
    return sorted(items, key=lambda item: (-len(item["genres"]), _qnum(item["id"])))[0]


def user_agent(contact: str) -> str:
    """A descriptive User-Agent as the Wikidata query service asks for."""
    return f"genre-factor/0.1 ({PROJECT_URL}; {contact}) SPARQLWrapper/2"


def label_artists(
    artists: Iterable[str],
    endpoint: str,
    cache_dir: str | Path,
    contact: str,
    batch_size: int = 50,
    policy: RetryPolicy | None = None,
    concurrency: int = 1,
    max_age_days: float | None = None,
    refresh: Iterable[str] = (),
    progress_every_s: float = 2.0,
) -> tuple[list[dict[str, Any]], Stats]:
    """Label every distinct artist: cached ones from the cache, the rest in batched queries."""
    names = sorted(set(artists))
    cache = ArtistCache(cache_dir, endpoint, max_age_days)
    for artist in refresh:
        cache.forget(artist)
    stats = Stats(total=len(names))
    client = SparqlClient(endpoint, user_agent(contact), policy or RetryPolicy(), stats)
    entries: dict[str, dict[str, Any]] = {}
    todo: list[str] = []
    for name in names:
        entry = cache.get(name)
        if entry is None:
            todo.append(name)
        else:
            entries[name] = entry
    stats.done = stats.cached = len(entries)
    log.info("%d artists: %d cached, %d to ask %s", len(names), len(entries), len(todo), endpoint)
    batches = [todo[i : i + batch_size] for i in range(0, len(todo), batch_size)]
    last_report = [time.monotonic()]

    def run_batch(batch: list[str]) -> None:
        rows = client.select(artist_query(batch))
        genre_ids = sorted({_qid(r["genre"]["value"]) for r in rows if "genre" in r}, key=_qnum)
        ancestry = client.select(ancestry_query(genre_ids)) if genre_ids else []
        for entry in build_entries(batch, rows, ancestry, endpoint):
            cache.put(entry)
            entries[entry["artist"]] = entry
        with stats.lock:
            stats.done += len(batch)
            if time.monotonic() - last_report[0] >= progress_every_s:
                last_report[0] = time.monotonic()
                log.info(stats.line())

    if concurrency <= 1:
        for batch in batches:
            run_batch(batch)
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for future in [pool.submit(run_batch, b) for b in batches]:
                future.result()
    log.info(stats.line())
    return [entries[n] for n in names], stats


def entries_table(entries: Sequence[dict[str, Any]]):  # -> pd.DataFrame
    """One row per artist: chosen item, genre ids, labels and ancestor labels (JSON lists)."""
    import pandas as pd

    rows = []
    for entry in entries:
        item = chosen_item(entry)
        genres = item["genres"] if item else []
        rows.append(
            {
                "artist": entry["artist"],
                "found": entry["found"],
                "wikidata_id": item["id"] if item else "",
                "n_items": len(entry.get("items") or []),
                "genre_ids": json.dumps([g["id"] for g in genres]),
                "genre_labels": json.dumps([g["label"] for g in genres], ensure_ascii=False),
                "genre_ancestors": json.dumps([g["ancestors"] for g in genres], ensure_ascii=False),
            }
        )
    return pd.DataFrame(rows, columns=["artist", "found", "wikidata_id", "n_items", "genre_ids", "genre_labels", "genre_ancestors"])


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m workflow_scripts.wikidata forget --cache-dir DIR --endpoint URL ARTIST...``"""
    parser = argparse.ArgumentParser(description="Manage the per-artist Wikidata cache.")
    sub = parser.add_subparsers(dest="command", required=True)
    forget = sub.add_parser("forget", help="delete cache entries so the next run asks these artists again")
    forget.add_argument("--cache-dir", default="resources/wikidata")
    forget.add_argument("artists", nargs="+")
    args = parser.parse_args(argv)
    cache = ArtistCache(args.cache_dir, endpoint="")
    for artist in args.artists:
        print(("forgot " if cache.forget(artist) else "not cached: ") + artist)


if __name__ == "__main__":
    main()
