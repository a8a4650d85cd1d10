"""Group raw Wikidata genres into super-genres, and choose one super-genre per artist.

The rule, deterministic and over all of an artist's genres:
1. A genre maps to the first super-genre (in config order) with a pattern that matches the
   genre's own English label; failing that, to the first super-genre with a pattern that
   matches any of the genre's ``wdt:P279`` ancestor labels; failing that, to nothing.
2. An artist's super-genre is the one most of its mapped genres map to; a tie goes to the
   super-genre listed first in the config (so order the config from specific to broad).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SuperGenre:
    """A super-genre and the case-insensitive regular expressions that select its genres."""

    name: str
    patterns: tuple[re.Pattern[str], ...]


class GenreMapper:
    """Maps genre labels (with their ancestors) to super-genres, in config order."""

    def __init__(self, super_genres: Sequence[Mapping[str, object]]) -> None:
        self.super_genres = [
            SuperGenre(str(sg["name"]), tuple(re.compile(str(p), re.IGNORECASE) for p in sg["patterns"]))  # type: ignore[union-attr]
            for sg in super_genres
        ]
        self.order = {sg.name: i for i, sg in enumerate(self.super_genres)}

    def _match(self, label: str) -> str | None:
        for sg in self.super_genres:
            if any(p.search(label) for p in sg.patterns):
                return sg.name
        return None

    def map_genre(self, label: str, ancestors: Sequence[str] = ()) -> str | None:
        """The super-genre of one genre, by its own label first, then by its ancestry."""
        own = self._match(label) if label else None
        if own is not None:
            return own
        hits = [self._match(a) for a in ancestors]
        hits = [h for h in hits if h is not None]
        return min(hits, key=self.order.__getitem__) if hits else None

    def artist_super_genre(self, labels: Sequence[str], ancestors: Sequence[Sequence[str]]) -> str | None:
        """Majority super-genre over all the artist's genres; ties go to config order."""
        votes = Counter(sg for sg in (self.map_genre(label, anc) for label, anc in zip(labels, ancestors, strict=True)) if sg)
        if not votes:
            return None
        return min(votes, key=lambda sg: (-votes[sg], self.order[sg]))
