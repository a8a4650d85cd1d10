"""Artist genres (P136) from a Wikidata SPARQL endpoint: batched, retried, cached per artist.

Requests. Artists are asked in batches of ``batch_size`` names (``VALUES``); a batch costs
one artist query and, when the artists have genres, one genre query (music-genre check,
English label, P279 ancestors). One request at a time unless ``concurrency`` > 1, and every
request carries a User-Agent that names the project and the configured contact.

Retry policy (per request): HTTP 429 (and 503) wait ``Retry-After`` (seconds or HTTP date,
capped at ``retry_after_max_s``; a 429 without it waits ``backoff_max_s``) and, with
``concurrency`` > 1, hold back every worker for that long; other 5xx, time-outs, refused or
dropped connections and unparseable bodies wait an exponential back-off with full jitter,
``uniform(0, min(backoff_max_s, backoff_base_s * 2**(retry - 1)))``. A request is tried at
most ``1 + max_retries`` times, so a run sends at most ``2 * batches * (1 + max_retries)``
requests (``request_bound``); when a request runs out of tries the run stops with a
UserError. Other 4xx answers are not retried.

Cache. One JSON file per artist, written to a temporary file and renamed over the entry, so
a killed run leaves either the old entry, the new one or none. "Not on Wikidata" is cached
(``found: false``); errors never are: an artist whose batch failed has no entry and is asked
on the next run. Entries older than ``max_age_days`` are asked again, ``refresh`` names are
forgotten first, and ``python -m workflow_scripts.wikidata forget`` deletes chosen entries.
Temporary files left by killed writers are removed on start (``ArtistCache.clean_stale``).
A cached entry is only used for the same endpoint URL and ``QUERY_VERSION``.

``python -m workflow_scripts.wikidata label INPUT --output CSV ...`` runs the whole labelling
from the command line (used by ``benchmarks/bench_label_artists.py``).
"""

from __future__ import annotations

import argparse
import csv
import email.utils
import hashlib
import http.client
import json
import logging
import math
import os
import random
import re
import secrets
import socket
import sys
import threading
import time
import unicodedata
import urllib.error
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from workflow_scripts.errors import UserError

log = logging.getLogger(__name__)

QUERY_VERSION = 1
PROJECT_URL = "https://github.com/genre-factor/genre-factor"
PREFIXES = """PREFIX wd: <http://www.wikidata.org/entity/>
PREFIX wdt: <http://www.wikidata.org/prop/direct/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
# Artists matched by English label or alias, restricted to humans and musical groups (or
# instances of their subclasses), with all their P136 values. The type test is a UNION with
# both ends of each P279* walk bound: WDQS asks for bound walks, and Oxigraph would otherwise
# start from ``VALUES ?kind`` and enumerate every human (10x slower on the fixture).
ARTIST_QUERY = (
    PREFIXES
    + """SELECT ?name ?artist ?genre WHERE {
  VALUES ?name { %s }
  ?artist rdfs:label|skos:altLabel ?name .
  { ?artist wdt:P31/wdt:P279* wd:Q5 } UNION { ?artist wdt:P31/wdt:P279* wd:Q215380 }
  OPTIONAL { ?artist wdt:P136 ?genre }
}"""
)
# Of a batch's genres, the music genres (instances of music genre or of its subclasses), with
# their English label and their P279 ancestors with English labels. Asked per batch with the
# genres bound: an OPTIONAL in the artist query that tests the genre type is evaluated over
# every P136 link of the store by Oxigraph.
GENRE_QUERY = (
    PREFIXES
    + """SELECT ?genre ?genreLabel ?ancestor ?ancestorLabel WHERE {
  VALUES ?genre { %s }
  ?genre wdt:P31/wdt:P279* wd:Q188451 .
  OPTIONAL { ?genre rdfs:label ?genreLabel . FILTER(LANG(?genreLabel) = "en") }
  OPTIONAL {
    ?genre wdt:P279+ ?ancestor .
    OPTIONAL { ?ancestor rdfs:label ?ancestorLabel . FILTER(LANG(?ancestorLabel) = "en") }
  }
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


def genre_query(genre_ids: Sequence[str]) -> str:
    """The SPARQL SELECT for the music genres among ``genre_ids`` (validated Q-ids), labels and ancestors."""
    for qid in genre_ids:
        if not _QID.fullmatch(qid):
            raise ValueError(f"not a Wikidata item id: {qid!r}")
    return GENRE_QUERY % " ".join(f"wd:{q}" for q in genre_ids)


ancestry_query = genre_query  # the former name


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one request."""

    max_retries: int = 8
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    retry_after_max_s: float = 300.0
    timeout_s: float = 60.0

    def backoff(self, retry: int) -> float:
        """Full-jitter exponential back-off before retry number ``retry`` (1, 2, ...)."""
        cap = min(self.backoff_max_s, self.backoff_base_s * 2 ** min(retry - 1, 60))
        return random.uniform(0.0, cap)


def request_bound(n_batches: int, policy: RetryPolicy) -> int:
    """The most requests a run of ``n_batches`` batches can send: 2 queries per batch, each tried ``1 + max_retries`` times."""
    return 2 * n_batches * (1 + policy.max_retries)


class TransientError(Exception):
    """A failure worth retrying; ``wait_s`` is the server's Retry-After when it gave one."""

    def __init__(self, message: str, wait_s: float | None = None, kind: str = "") -> None:
        super().__init__(message)
        self.wait_s = wait_s
        self.kind = kind or message


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
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
    failures: Counter = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        asked = self.done - self.cached
        rate = asked / elapsed
        left = self.total - self.done
        eta = "0 s" if left == 0 else f"{left / rate:.0f} s" if rate > 0 else "?"
        percent = 100.0 * self.done / self.total if self.total else 100.0
        why = ", ".join(f"{kind} x{n}" for kind, n in self.failures.most_common(4))
        return (
            f"labelled {self.done}/{self.total} artists ({percent:.0f}%, {self.cached} from cache), "
            f"{rate:.1f} artists/s, ~{eta} left, {self.requests} requests, {self.retries} retries" + (f" ({why})" if why else "")
        )


class SparqlClient:
    """One endpoint, one User-Agent, the retry policy; returns parsed SPARQL JSON results.

    Safe to share between threads: a Retry-After from the server holds back every request
    of this client until it has passed.
    """

    def __init__(
        self, endpoint: str, user_agent: str, policy: RetryPolicy, stats: Stats | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.endpoint = endpoint
        self.user_agent = user_agent
        self.policy = policy
        self.stats = stats or Stats()
        self._sleep = sleep
        self._not_before = 0.0  # time.monotonic() before which no request goes out
        self._gate = threading.Lock()

    def select(self, query: str) -> list[dict[str, Any]]:
        """Run a SELECT with retries; return its bindings. Raise UserError when retries run out."""
        last: TransientError | None = None
        for attempt in range(self.policy.max_retries + 1):
            if attempt:
                wait_s = self._wait_before(attempt, last)
                with self.stats.lock:
                    self.stats.retries += 1
                log.warning("retry %d/%d in %.2f s after: %s", attempt, self.policy.max_retries, wait_s, last)
                if last is None or last.wait_s is None:
                    self._sleep(wait_s)
            self._hold_back()  # sleeps out a Retry-After, this thread's or another's
            try:
                return self._select_once(query)
            except TransientError as error:
                last = error
                with self.stats.lock:
                    self.stats.failures[error.kind] += 1
        raise UserError(
            f"The SPARQL endpoint {self.endpoint} kept failing ({self.policy.max_retries + 1} tries, last: {last}).",
            "rerun later (artists already labelled are cached and not asked again), or raise "
            "labels.retry.max_retries / labels.timeout_s in config.yaml.",
        )

    def _hold_back(self) -> None:
        """Wait while another thread's Retry-After is still running."""
        with self._gate:
            left = self._not_before - time.monotonic()
        if left > 0:
            self._sleep(left)

    def _wait_before(self, attempt: int, error: TransientError | None) -> float:
        """Seconds before the next try; a server-given wait is set on the shared gate instead of slept here."""
        if error is not None and error.wait_s is not None:
            wait_s = error.wait_s
            if wait_s > self.policy.retry_after_max_s:
                log.warning(
                    "the endpoint asks to wait %g s; waiting labels.retry.retry_after_max_s = %g s",
                    wait_s,
                    self.policy.retry_after_max_s,
                )
                wait_s = self.policy.retry_after_max_s
            with self._gate:
                self._not_before = max(self._not_before, time.monotonic() + wait_s)
            return wait_s
        return self.policy.backoff(attempt)

    def _select_once(self, query: str) -> list[dict[str, Any]]:
        from SPARQLWrapper import JSON, POST, SELECT, SPARQLWrapper
        from SPARQLWrapper.SPARQLExceptions import EndPointInternalError, SPARQLWrapperException

        sparql = SPARQLWrapper(self.endpoint, agent=self.user_agent)
        sparql.setMethod(POST)
        sparql.setReturnFormat(JSON)
        sparql.setQuery(query)
        sparql.queryType = SELECT  # never let SPARQLWrapper's keyword regex guess from the text
        sparql.timeout = self.policy.timeout_s  # setTimeout() would round to whole seconds
        with self.stats.lock:
            self.stats.requests += 1
        try:
            response = sparql.query().response
            try:
                body = response.read()
            finally:
                response.close()
        except urllib.error.HTTPError as error:
            retry_after = parse_retry_after(error.headers.get("Retry-After")) if error.headers else None
            if error.code == 429:
                # WDQS asks clients without a Retry-After to wait a minute: the longest back-off.
                wait_s = retry_after if retry_after is not None else self.policy.backoff_max_s
                raise TransientError("HTTP 429 Too Many Requests", wait_s, "HTTP 429") from None
            if error.code >= 500:
                raise TransientError(f"HTTP {error.code}", retry_after if error.code == 503 else None) from None
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
            if isinstance(reason, ConnectionRefusedError):
                raise TransientError(f"connection refused by {self.endpoint}", kind="connection refused") from None
            if isinstance(reason, TimeoutError):
                raise TransientError(f"no answer within {self.policy.timeout_s:g} s", kind="time-out") from None
            raise TransientError(f"{type(error).__name__}: {reason}", kind=type(error).__name__) from None
        try:
            bindings = json.loads(body)["results"]["bindings"]
        except (ValueError, KeyError, TypeError) as error:
            raise TransientError(f"unparseable response body ({type(error).__name__})", kind="unparseable body") from None
        if not isinstance(bindings, list):
            raise TransientError("unparseable response body (bindings is not a list)", kind="unparseable body")
        return bindings


_HOST = re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname())[:40] or "host"
# Temporary files of the atomic writes: ".<entry name>.<host>-<pid>-<token>.tmp"; older
# writers (workflow_scripts.fileio) used ".<entry name>.<random>.tmp".
_TMP = re.compile(r"^\..+\.tmp$")
_TMP_OWNER = re.compile(r"\.(?P<host>[A-Za-z0-9_]+)-(?P<pid>[0-9]+)-[0-9a-f]+\.tmp$")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


class ArtistCache:
    """One JSON file per artist under ``folder``; written atomically, never holds an error."""

    def __init__(self, folder: str | Path, endpoint: str, max_age_days: float | None = None) -> None:
        self.folder = Path(folder)
        self.endpoint = endpoint
        self.max_age = timedelta(days=max_age_days) if max_age_days else None
        self._made: set[Path] = set()

    def path(self, artist: str) -> Path:
        digest = hashlib.sha256(artist.encode("utf-8", "surrogatepass")).hexdigest()
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
        if not isinstance(entry, dict) or not isinstance(entry.get("items"), list) or not isinstance(entry.get("found"), bool):
            log.warning("ignoring malformed cache entry %s", path)
            return None
        if entry.get("artist") != artist or entry.get("endpoint") != self.endpoint or entry.get("query_version") != QUERY_VERSION:
            return None
        if self.max_age is not None:
            try:
                asked = datetime.fromisoformat(entry["queried_at"])
                if asked.tzinfo is None:
                    asked = asked.replace(tzinfo=UTC)
            except (KeyError, TypeError, ValueError):
                return None
            if datetime.now(UTC) - asked > self.max_age:
                return None
        return entry

    def put(self, entry: dict[str, Any]) -> None:
        """Write an entry atomically: a temporary file beside it, renamed over it.

        No fsync: the rename is atomic against a killed process, which is what a
        half-finished run meets. After a power cut an entry may be empty; ``get`` then
        treats it as missing and the artist is asked again. (An fsync per artist tripled
        the cold run's time.)
        """
        target = self.path(entry["artist"])
        if target.parent not in self._made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(target.parent)
        tmp = target.with_name(f".{target.name}.{_HOST}-{os.getpid()}-{secrets.token_hex(4)}.tmp")
        text = json.dumps(entry, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        try:
            with open(tmp, "x", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def forget(self, artist: str) -> bool:
        """Delete an artist's entry so the next run asks again; True when one existed."""
        path = self.path(artist)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def _subfolders(self) -> Iterator[os.DirEntry]:
        try:
            with os.scandir(self.folder / "artists") as top:
                yield from (d for d in top if d.is_dir(follow_symlinks=False))
        except FileNotFoundError:
            return

    def clean_stale(self, max_age_s: float = 3600.0) -> int:
        """Delete temporary files that killed writers left behind; return how many.

        A temporary file is stale when its writer (named in the file name) was a process
        of this host that is gone, or when it is older than ``max_age_s`` (writers on other
        hosts, older name forms). Such files are never read as entries either way.
        """
        removed = 0
        now = time.time()
        for sub in self._subfolders():
            with os.scandir(sub.path) as files:
                for item in files:
                    if not _TMP.match(item.name):
                        continue
                    owner = _TMP_OWNER.search(item.name)
                    try:
                        dead = owner is not None and owner["host"] == _HOST and not _pid_alive(int(owner["pid"]))
                        if dead or now - item.stat(follow_symlinks=False).st_mtime > max_age_s:
                            os.unlink(item.path)
                            removed += 1
                    except FileNotFoundError:
                        continue
        if removed:
            log.info("removed %d temporary file(s) left by an interrupted run in %s", removed, self.folder)
        return removed

    def entry_paths(self) -> list[Path]:
        """Paths of all entries (not temporary files) in the cache."""
        paths = []
        for sub in self._subfolders():
            with os.scandir(sub.path) as files:
                paths += [Path(f.path) for f in files if f.name.endswith(".json") and not f.name.startswith(".")]
        return paths


def _qid(uri: str) -> str:
    return uri.removeprefix(ENTITY_PREFIX)


def build_entries(
    names: Sequence[str], artist_rows: Iterable[dict[str, Any]], genre_rows: Iterable[dict[str, Any]], endpoint: str
) -> list[dict[str, Any]]:
    """Turn SPARQL bindings into one cache entry per asked name.

    ``genre_rows`` (from ``GENRE_QUERY``) name the music genres; other P136 values are dropped.
    """
    music: dict[str, str] = {}
    ancestors: dict[str, dict[str, str]] = {}
    for row in genre_rows:
        genre = _qid(row["genre"]["value"])
        if "genreLabel" in row or genre not in music:
            music[genre] = row.get("genreLabel", {}).get("value", "")
        if "ancestor" in row:
            ancestors.setdefault(genre, {})[_qid(row["ancestor"]["value"])] = row.get("ancestorLabel", {}).get("value", "")
    items: dict[str, dict[str, dict[str, str]]] = {name: {} for name in names}
    for row in artist_rows:
        name = row["name"]["value"]
        if name not in items:
            continue
        genres = items[name].setdefault(_qid(row["artist"]["value"]), {})
        if "genre" in row:
            genre = _qid(row["genre"]["value"])
            if genre in music:
                genres[genre] = music[genre]
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
    """A descriptive User-Agent as the Wikidata query service asks for.

    The contact is folded to printable ASCII (accents dropped, control characters and
    line breaks turned into spaces), so that no config value can break the header.
    """
    folded = unicodedata.normalize("NFKD", contact).encode("ascii", "ignore").decode("ascii")
    folded = " ".join("".join(c if c.isprintable() else " " for c in folded).split()) or "no contact given"
    return f"genre-factor/0.1 ({PROJECT_URL}; {folded}) SPARQLWrapper/2"


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
    """Label every distinct artist: cached ones from the cache, the rest in batched queries.

    Each batch's entries are cached as soon as it is answered, so an interrupted or failed
    run keeps its progress. Raises UserError when a request runs out of retries.
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
    entries: dict[str, dict[str, Any]] = {}
    todo: list[str] = []
    for name in names:
        entry = cache.get(name)
        if entry is None:
            todo.append(name)
        else:
            entries[name] = entry
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
        genre_ids = sorted(
            {_qid(r["genre"]["value"]) for r in rows if "genre" in r and _QID.fullmatch(_qid(r["genre"]["value"]))}, key=_qnum
        )
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
        if concurrency <= 1 or len(batches) <= 1:
            for batch in batches:
                run_batch(batch)
        else:
            with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="wikidata") as pool:
                futures = [pool.submit(run_batch, b) for b in batches]
                done, _ = wait(futures, return_when=FIRST_EXCEPTION)
                failed = [f for f in done if f.exception() is not None]
                if failed:
                    for future in futures:
                        future.cancel()  # batches not started yet are dropped; running ones finish
                    raise failed[0].exception()  # type: ignore[misc]
    except BaseException:
        log.info("stopped: %s", stats.line())
        raise
    log.info(stats.line())
    return [entries[n] for n in names], stats


TABLE_COLUMNS = ["artist", "found", "wikidata_id", "n_items", "genre_ids", "genre_labels", "genre_ancestors"]


def entries_rows(entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One dict per artist: chosen item, genre ids, labels and ancestor labels (JSON lists)."""
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
    return rows


def entries_table(entries: Sequence[dict[str, Any]]):  # -> pd.DataFrame
    """One row per artist: chosen item, genre ids, labels and ancestor labels (JSON lists)."""
    import pandas as pd

    return pd.DataFrame(entries_rows(entries), columns=TABLE_COLUMNS)


def read_artists(path: str | Path, column: str = "Artist") -> list[str]:
    """The non-empty values of ``column`` in a CSV or Parquet file (CSV is read without pandas)."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pandas as pd

        return pd.read_parquet(path, columns=[column])[column].dropna().astype(str).tolist()
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or column not in reader.fieldnames:
            raise UserError(f"{path} has no column {column!r}.", "name the artist column with --column.")
        return [row[column] for row in reader if row[column]]


def write_table(entries: Sequence[dict[str, Any]], path: str | Path) -> None:
    """Write the artist table as CSV (same layout as ``entries_table(...).to_csv(index=False)``), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{_HOST}-{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=TABLE_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(entries_rows(entries))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m workflow_scripts.wikidata {label,forget} ...`` (see ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m workflow_scripts.wikidata", description="Label artists with Wikidata genres; manage the cache."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    forget = sub.add_parser("forget", help="delete cache entries so the next run asks these artists again")
    forget.add_argument("--cache-dir", default="resources/wikidata")
    forget.add_argument("artists", nargs="+", help="artist names, exactly as in the data")
    label = sub.add_parser("label", help="label the artists of a CSV or Parquet file and write the artist table")
    label.add_argument("input", help="CSV or .parquet file with an artist column")
    label.add_argument("--output", required=True, help="the artist table (CSV)")
    label.add_argument("--column", default="Artist")
    label.add_argument("--endpoint", required=True)
    label.add_argument("--cache-dir", default="resources/wikidata")
    label.add_argument("--contact", required=True, help="who to contact about this client (goes into the User-Agent)")
    label.add_argument("--batch-size", type=int, default=50)
    label.add_argument("--concurrency", type=int, default=1)
    label.add_argument("--timeout-s", type=float, default=60.0)
    label.add_argument("--max-retries", type=int, default=8)
    label.add_argument("--backoff-base-s", type=float, default=1.0)
    label.add_argument("--backoff-max-s", type=float, default=60.0)
    label.add_argument("--retry-after-max-s", type=float, default=300.0)
    label.add_argument("--max-age-days", type=float, default=None)
    label.add_argument("--refresh", action="append", default=[], metavar="ARTIST", help="ask this artist again (repeatable)")
    label.add_argument("--quiet", action="store_true", help="log warnings only")
    args = parser.parse_args(argv)
    if args.command == "forget":
        cache = ArtistCache(args.cache_dir, endpoint="")
        for artist in args.artists:
            print(("forgot " if cache.forget(artist) else "not cached: ") + artist)
        return 0
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    policy = RetryPolicy(args.max_retries, args.backoff_base_s, args.backoff_max_s, args.retry_after_max_s, args.timeout_s)
    try:
        entries, _ = label_artists(
            read_artists(args.input, args.column),
            args.endpoint,
            args.cache_dir,
            args.contact,
            batch_size=args.batch_size,
            policy=policy,
            concurrency=args.concurrency,
            max_age_days=args.max_age_days,
            refresh=args.refresh,
        )
    except UserError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    write_table(entries, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
