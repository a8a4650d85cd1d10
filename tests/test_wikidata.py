"""Wikidata labelling against a real Oxigraph server: matching, cache, hostile names."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.conftest import needs_shared
from tests.support.fault_proxy import FaultProxy
from tests.support.oxigraph_server import OxigraphServer
from workflow_scripts.labels.entries import chosen_item
from workflow_scripts.labels.labelling import label_artists
from workflow_scripts.labels.query import genre_query, sparql_literal

CONTACT = "tests <ci@example.org>"


def genres_of(entries: list[dict], name: str) -> list[str]:
    item = chosen_item(next(e for e in entries if e["artist"] == name))
    return sorted(g["label"] for g in item["genres"]) if item else []


@needs_shared
def test_labels_aliases_and_decoys(oxigraph, tmp_path: Path) -> None:
    names = ["Gorillaz", "JAY-Z", "Jay-Z", "Queen", "Nobody Such Artist"]
    entries, stats = label_artists(names, oxigraph.url, tmp_path, CONTACT)
    assert genres_of(entries, "Gorillaz") == ["alternative hip hop", "alternative rock", "trip hop"]
    assert genres_of(entries, "JAY-Z") and genres_of(entries, "Jay-Z") == genres_of(entries, "JAY-Z")  # alias
    queen = next(e for e in entries if e["artist"] == "Queen")
    assert len(queen["items"]) == 1  # the non-music decoy with the same label is filtered out
    missing = next(e for e in entries if e["artist"] == "Nobody Such Artist")
    assert missing["found"] is False and missing["items"] == []
    assert stats.requests == 2  # one artist batch and one ancestry query


@needs_shared
def test_cached_artists_are_never_asked_again(oxigraph, tmp_path: Path) -> None:
    with FaultProxy(oxigraph.url) as proxy:
        first, _ = label_artists(["Gorillaz", "Metallica"], proxy.url, tmp_path, CONTACT)
        asked = proxy.total
        assert asked > 0 and "genre-factor" in (proxy.user_agents[0] or "") and CONTACT in proxy.user_agents[0]
        again, stats = label_artists(["Metallica", "Gorillaz"], proxy.url, tmp_path, CONTACT)
        assert proxy.total == asked and stats.requests == 0 and stats.cached == 2
        assert [e["items"] for e in again] == [e["items"] for e in first]
        label_artists(["Gorillaz", "Metallica", "Shakira"], proxy.url, tmp_path, CONTACT)
        assert proxy.queries[-2].count('"@en') == 1  # only the new artist is asked
        label_artists(["Gorillaz"], proxy.url, tmp_path, CONTACT, refresh=["Gorillaz"])
        assert '"Gorillaz"@en' in proxy.queries[-2]


def test_literal_escaping_round_trip() -> None:
    assert sparql_literal('a "b" \\ c\nd') == '"a \\"b\\" \\\\ c\\nd"@en'
    assert sparql_literal("x\\u0022") == '"x\\\\\\u00750022"@en'
    with pytest.raises(ValueError):
        genre_query(["Q1 } DELETE"])


HOSTILE = [
    'Héctor "El Father"',
    'Quote" } ; ?artist wdt:P136 ?genre . VALUES ?name { "Metal Band',
    "Back\\slash",
    "Esc\\u0022aped",
    "New\nLine",
    "Carriage\rReturn\tTab",
    "Brace { } Band",
    "Hash # not a comment",
    "<http://www.wikidata.org/entity/Q1>",
    "Angle <b> & Co",
    "周杰倫",
    "아이유",
    "Sigur Rós 🎵🔥",
    "Metal Band",
    "'single' quotes",
    "Trailing backslash\\",
    'Triple """ quotes',
    "Zero\u200bwidth and right\u202eto-left",
    "Emoji ZWJ 👩\u200d🎤",
    "%22 percent-encoded %7D",
    "${var} $(cmd) `tick`",
]


def nt_literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"@en'


def hostile_fixture(path: Path) -> Path:
    """One artist per hostile name, each with its own genre (genre label = "genre of " + index)."""
    wd, wdt = "http://www.wikidata.org/entity/", "http://www.wikidata.org/prop/direct/"
    label = "http://www.w3.org/2000/01/rdf-schema#label"
    lines = [f'<{wd}Q188451> <{label}> "music genre"@en .']
    for i, name in enumerate(HOSTILE):
        artist, genre = f"<{wd}Q{1000 + i}>", f"<{wd}Q{5000 + i}>"
        lines += [
            f"{artist} <{label}> {nt_literal(name)} .",
            f"{artist} <{wdt}P31> <{wd}Q5> .",
            f"{artist} <{wdt}P136> {genre} .",
            f"{genre} <{wdt}P31> <{wd}Q188451> .",
            f'{genre} <{label}> "genre {i}"@en .',
        ]
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8")))
    return path


def test_hostile_names_only_ever_match_themselves(tmp_path: Path) -> None:
    fixture = hostile_fixture(tmp_path / "hostile.nt.gz")
    with OxigraphServer(fixture, tmp_path / "server") as server:
        entries, stats = label_artists(HOSTILE, server.url, tmp_path / "cache", CONTACT, batch_size=4)
        for entry in entries:
            assert genres_of(entries, entry["artist"]) == [f"genre {HOSTILE.index(entry['artist'])}"], entry["artist"]
        # names that are not in the store match nothing, however they are written
        probes = ['Metal Band" } #', "Back\\\\slash", 'Esc"aped', "New Line", "周杰伦"]
        missing, _ = label_artists(probes, server.url, tmp_path / "cache", CONTACT)
        assert all(not e["found"] for e in missing)
    for path in (tmp_path / "cache").rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))
    assert stats.retries == 0


def test_queried_span_covers_the_given_artists_entries(tmp_path: Path) -> None:
    from workflow_scripts.labels.cache import ArtistCache
    from workflow_scripts.labels.query import QUERY_VERSION

    endpoint = "http://127.0.0.1:1/sparql"
    cache = ArtistCache(tmp_path, endpoint)
    assert cache.queried_span(["Queen"]) == {"first": None, "last": None, "artists": 0}
    for artist, stamp in (
        ("Queen", "2026-03-02T10:00:00+00:00"),
        ("ABBA", "2026-01-05T09:00:00+00:00"),
        ("Björk", "2026-05-01T08:00:00+00:00"),
    ):
        entry = {"artist": artist, "endpoint": endpoint, "query_version": QUERY_VERSION, "queried_at": stamp, "found": True, "items": []}
        cache.put(entry)
    # Björk's entry is not asked for; Nobody has none; Queen twice counts once.
    span = cache.queried_span(["Queen", "ABBA", "Nobody", "Queen"])
    assert span == {"first": "2026-01-05T09:00:00+00:00", "last": "2026-03-02T10:00:00+00:00", "artists": 2}
    assert ArtistCache(tmp_path, "http://elsewhere/sparql").queried_span(["Queen"])["artists"] == 0  # another endpoint's cache
