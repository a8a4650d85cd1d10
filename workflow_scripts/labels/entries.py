"""Cache entries from SPARQL bindings, and the item an ambiguous artist name stands for."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from workflow_scripts.labels.query import QUERY_VERSION, qid, qnum


def build_entries(
    names: Sequence[str], artist_rows: Iterable[dict[str, Any]], genre_rows: Iterable[dict[str, Any]], endpoint: str
) -> list[dict[str, Any]]:
    """Turn SPARQL bindings into one cache entry per asked name.

    ``genre_rows`` (from ``GENRE_QUERY``) name the music genres; other P136 values are dropped.
    """
    music: dict[str, str] = {}
    ancestors: dict[str, dict[str, str]] = {}
    for row in genre_rows:
        genre = qid(row["genre"]["value"])
        if "genreLabel" in row or genre not in music:
            music[genre] = row.get("genreLabel", {}).get("value", "")
        if "ancestor" in row:
            ancestors.setdefault(genre, {})[qid(row["ancestor"]["value"])] = row.get("ancestorLabel", {}).get("value", "")
    items: dict[str, dict[str, dict[str, str]]] = {name: {} for name in names}
    for row in artist_rows:
        name = row["name"]["value"]
        if name not in items:
            continue
        genres = items[name].setdefault(qid(row["artist"]["value"]), {})
        if "genre" in row:
            genre = qid(row["genre"]["value"])
            if genre in music:
                genres[genre] = music[genre]
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return [_entry(name, items[name], ancestors, endpoint, now) for name in names]


def _entry(name: str, items: dict[str, dict[str, str]], ancestors: dict[str, dict[str, str]], endpoint: str, now: str) -> dict[str, Any]:
    """One artist's entry: its items by Q-number, each with its music genres and their ancestors' labels."""
    entry_items = [
        {
            "id": item,
            "genres": [
                {
                    "id": g,
                    "label": label,
                    "ancestors": [ancestors[g][a] for a in sorted(ancestors.get(g, {}), key=qnum) if ancestors[g][a]],
                }
                for g, label in sorted(genres.items(), key=lambda kv: qnum(kv[0]))
            ],
        }
        for item, genres in sorted(items.items(), key=lambda kv: qnum(kv[0]))
    ]
    return {
        "artist": name,
        "endpoint": endpoint,
        "query_version": QUERY_VERSION,
        "queried_at": now,
        "found": bool(entry_items),
        "items": entry_items,
    }


def chosen_item(entry: dict[str, Any]) -> dict[str, Any] | None:
    """The item an ambiguous name stands for: most music genres, then the lowest Q-number."""
    items = entry.get("items") or []
    if not items:
        return None
    return sorted(items, key=lambda item: (-len(item["genres"]), qnum(item["id"])))[0]
