"""The per-artist cache: one JSON file per artist, written atomically through ``fileio``.

"Not on Wikidata" is cached (``found: false``); errors never are: an artist whose batch
failed has no entry and is asked on the next run. Entries older than ``max_age_days`` are
asked again, and ``forget`` deletes an entry; ``queried_span`` says when the entries were asked. A cached entry is only used for the same
endpoint URL and ``QUERY_VERSION``. Temporary files that killed writers left behind are
removed by ``clean_stale``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from workflow_scripts.core import fileio
from workflow_scripts.labels.query import QUERY_VERSION

log = logging.getLogger(__name__)


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
        """Write an entry atomically (``fileio.write_json_atomic``).

        No fsync: the rename is atomic against a killed process, which is what a
        half-finished run meets. After a power cut an entry may be empty; ``get`` then
        treats it as missing and the artist is asked again. (An fsync per artist tripled
        the cold run's time.)
        """
        target = self.path(entry["artist"])
        if target.parent not in self._made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(target.parent)
        fileio.write_json_atomic(target, entry, fsync=False, make_parent=False)

    def queried_span(self, artists: Iterable[str]) -> dict[str, Any]:
        """When the entries of ``artists`` were asked: the first and last ``queried_at`` (None
        without any entry) and how many of the artists have one (for the model card)."""
        entries = (self.get(artist) for artist in sorted(set(artists)))
        stamps = sorted(str(e["queried_at"]) for e in entries if e and e.get("queried_at"))
        return {"first": stamps[0] if stamps else None, "last": stamps[-1] if stamps else None, "artists": len(stamps)}

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
        """Delete temporary files that killed writers left behind (``fileio.remove_stale_temporaries``); return how many."""
        removed = sum(fileio.remove_stale_temporaries(sub.path, max_age_s) for sub in self._subfolders())
        if removed:
            log.info("removed %d temporary file(s) left by an interrupted run in %s", removed, self.folder)
        return removed
