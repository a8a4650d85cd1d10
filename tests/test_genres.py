"""Super-genre mapping: own label first, then ancestry; artist majority, ties by config order."""

from __future__ import annotations

from tests.conftest import default_config
from workflow_scripts.genres.mapping import GenreMapper

MAPPER = GenreMapper(default_config()["genres"]["super_genres"])


def test_own_label_wins_in_config_order() -> None:
    assert MAPPER.map_genre("heavy metal", ["rock music"]) == "metal"
    assert MAPPER.map_genre("pop rock", ["rock music", "pop music"]) == "rock"
    assert MAPPER.map_genre("East Coast hip hop") == "hip hop"


def test_ancestry_used_when_label_says_nothing() -> None:
    assert MAPPER.map_genre("trip hop", ["electronic music"]) == "electronic"
    assert MAPPER.map_genre("filmi music", []) is None


def test_artist_majority_then_config_order() -> None:
    assert MAPPER.artist_super_genre(["pop rock", "alternative rock", "dance-pop"], [[], [], ["pop music"]]) == "rock"
    # one vote each: rock (listed after hip hop and electronic) loses the tie
    tie = MAPPER.artist_super_genre(
        ["alternative rock", "alternative hip hop", "trip hop"], [["rock music"], ["hip hop music"], ["electronic music"]]
    )
    assert tie == "hip hop"
    assert MAPPER.artist_super_genre([], []) is None


def test_order_independent_of_genre_order() -> None:
    labels = ["trip hop", "alternative rock", "alternative hip hop"]
    ancestors = [["electronic music"], ["rock music"], ["hip hop music"]]
    assert MAPPER.artist_super_genre(labels, ancestors) == MAPPER.artist_super_genre(labels[::-1], ancestors[::-1])
