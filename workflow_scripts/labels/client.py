"""The retry policy and the SPARQL HTTP client (User-Agent, Retry-After, back-off, counters).

Retry policy (per request): HTTP 429 (and 503) wait ``Retry-After`` (seconds or HTTP date,
capped at ``retry_after_max_s``; a 429 without it waits ``backoff_max_s``) and, with
``concurrency`` > 1, hold back every worker for that long; other 5xx, time-outs, refused or
dropped connections and unparseable bodies wait an exponential back-off with full jitter,
``uniform(0, min(backoff_max_s, backoff_base_s * 2**(retry - 1)))``. A request is tried at
most ``1 + max_retries`` times, so a run sends at most ``2 * batches * (1 + max_retries)``
requests (``request_bound``); when a request runs out of tries the run stops with a
UserError. Other 4xx answers are not retried. The policy's defaults are the schema's
(``labels.retry``, ``labels.timeout_s``).
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import math
import random
import threading
import time
import unicodedata
import urllib.error
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from workflow_scripts.core.errors import UserError
from workflow_scripts.labels import defaults

log = logging.getLogger(__name__)

PROJECT_URL = "https://github.com/genre-factor/genre-factor"
_RETRY = defaults.labels()["retry"]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one request."""

    max_retries: int = _RETRY["max_retries"]
    backoff_base_s: float = _RETRY["backoff_base_s"]
    backoff_max_s: float = _RETRY["backoff_max_s"]
    retry_after_max_s: float = _RETRY["retry_after_max_s"]
    timeout_s: float = defaults.labels()["timeout_s"]

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


def user_agent(contact: str) -> str:
    """A descriptive User-Agent as the Wikidata query service asks for.

    The contact is folded to printable ASCII (accents dropped, control characters and
    line breaks turned into spaces), so that no config value can break the header.
    """
    folded = unicodedata.normalize("NFKD", contact).encode("ascii", "ignore").decode("ascii")
    folded = " ".join("".join(c if c.isprintable() else " " for c in folded).split()) or "no contact given"
    return f"genre-factor/0.1 ({PROJECT_URL}; {folded}) SPARQLWrapper/2"
