"""The artist table: one row per artist with its chosen item, genre ids, labels and ancestors."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workflow_scripts.core.fileio import atomic_path
from workflow_scripts.labels.entries import chosen_item

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
    """The artist table as a DataFrame (``TABLE_COLUMNS``)."""
    import pandas as pd

    return pd.DataFrame(entries_rows(entries), columns=TABLE_COLUMNS)


def write_table(entries: Sequence[dict[str, Any]], path: str | Path) -> None:
    """Write the artist table as CSV (same text as ``entries_table(...).to_csv(index=False)``), atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=TABLE_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(entries_rows(entries))
