"""Genre selection: attach a genre to every song (from Wikidata labels or a CSV), keep the chosen genres, sample."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from workflow_scripts.core.errors import UserError
from workflow_scripts.data.dataset import ROW_ID
from workflow_scripts.genres.mapping import GenreMapper

log = logging.getLogger(__name__)


def artist_super_genres(artist_genres: pd.DataFrame, super_genres: Sequence[Mapping[str, object]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per artist its super-genre; and the raw genre labels that mapped nowhere, with counts."""
    mapper = GenreMapper(super_genres)
    chosen = []
    unmapped: Counter[str] = Counter()
    for row in artist_genres.itertuples(index=False):
        labels = json.loads(row.genre_labels)
        ancestors = json.loads(row.genre_ancestors)
        chosen.append(mapper.artist_super_genre(labels, ancestors))
        for label, anc in zip(labels, ancestors, strict=True):
            if mapper.map_genre(label, anc) is None:
                unmapped[label or "(no English label)"] += 1
    table = artist_genres.assign(super_genre=chosen)
    unmapped_table = pd.DataFrame(sorted(unmapped.items(), key=lambda kv: (-kv[1], kv[0])), columns=["genre", "n_artists"])
    return table, unmapped_table


def songs_with_genre_from_artists(songs: pd.DataFrame, artists: pd.DataFrame) -> pd.DataFrame:
    """Each song gets its artist's super-genre (NaN where the artist has none)."""
    lookup = artists.set_index("artist")["super_genre"]
    return songs.assign(genre=songs["Artist"].map(lookup))


def songs_with_genre_from_csv(songs: pd.DataFrame, labels_csv: Path) -> pd.DataFrame:
    """Each song gets the genre a CSV (columns ``row``, ``genre``) gives its row id."""
    try:
        labels = pd.read_csv(labels_csv)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise UserError(
            f"Cannot read the label CSV {labels_csv}: {str(error).splitlines()[0]}", "check labels.csv in the config."
        ) from None
    missing = [c for c in (ROW_ID, "genre") if c not in labels.columns]
    if missing:
        raise UserError(
            f"The label CSV {labels_csv} lacks column(s) {', '.join(missing)}.",
            "give it the columns 'row' (the dataset's row id) and 'genre'.",
        )
    if labels[ROW_ID].duplicated().any():
        raise UserError(f"The label CSV {labels_csv} lists some row ids twice.", "keep one genre per row id.")
    lookup = labels.set_index(ROW_ID)["genre"]
    return songs.assign(genre=songs[ROW_ID].map(lookup))


def keep_genres(songs: pd.DataFrame, keep: Sequence[str], available: Sequence[str]) -> pd.DataFrame:
    """Keep songs of the listed genres; an unknown genre is an error naming the known ones."""
    unknown = [g for g in keep if g not in set(available)]
    if unknown:
        raise UserError(
            f"genres.keep lists {', '.join(map(repr, unknown))}, which no song has.",
            f"choose from: {', '.join(sorted(map(str, available)))}.",
        )
    return songs[songs["genre"].isin(list(keep))].reset_index(drop=True)


def sample(songs: pd.DataFrame, method: str, cap: int | None, seed: int) -> pd.DataFrame:
    """``none``; ``downsample`` every genre to the smallest; ``cap`` each genre at ``cap`` songs."""
    if method == "none":
        return songs
    sizes = songs["genre"].value_counts()
    limit = int(sizes.min()) if method == "downsample" else int(cap or sizes.max())
    parts = [group.sample(n=min(len(group), limit), random_state=seed) for _, group in songs.groupby("genre", sort=True)]
    return pd.concat(parts).sort_values(ROW_ID).reset_index(drop=True)


def genre_counts(songs: pd.DataFrame) -> pd.DataFrame:
    """Songs and artists per genre."""
    grouped = songs.groupby("genre")
    return (
        pd.DataFrame({"songs": grouped.size(), "artists": grouped["Artist"].nunique()})
        .sort_values("songs", ascending=False)
        .rename_axis("genre")
        .reset_index()
    )
