"""A small, deterministic dataset in the Kaggle "Spotify and YouTube" schema, and its Wikidata.

For tests that run the workflow from a bare clone (no ``../shared``). Public API::

    from tests.support.synthetic import write_fixture

    fixture = write_fixture(folder)   # -> SyntheticFixture
    fixture.csv                       # folder/Spotify_Youtube.csv (the Kaggle CSV's 28 columns)
    fixture.nt                        # folder/wikidata-artists.nt.gz (serve it with OxigraphServer)
    fixture.super_genres              # artist -> the super-genre config.yaml maps it to (None: none)

In the test suite the session fixtures ``synthetic`` (a ``SyntheticFixture``) and
``synthetic_oxigraph`` (a real Oxigraph server on ``fixture.nt``) of ``tests/conftest.py``
give both; ``small_config(endpoint, cache_dir, dataset=fixture.csv)`` runs the workflow on it.

What it holds (same bytes on every call: fixed seeds, gzip without a time stamp):

* 365 songs of 43 artists (plus a row without an artist): six artists for each of config.yaml's ``genres.keep``
  (classical, metal, rock, hip hop, electronic, pop), with audio features drawn around a
  per-genre profile (so that a model can beat chance) and YouTube counts per artist;
* decoys and edge cases: an artist not on Wikidata, one without P136, one that is neither a
  human nor a group, one with only a non-music P136 (film genre), one with an unmapped music
  genre (polka), two of genres outside ``keep`` (jazz, country), a non-music item sharing a
  band's label, a name found only by its alias (``skos:altLabel``), a name two people share,
  names with quotes, accents, ``&`` and CJK letters;
* missing values as in the real CSV: songs without YouTube data (Url_youtube, Title, Channel,
  Views, Likes, Comments, Description, Licensed, official_video empty), songs without Stream
  or Description, and one row without an artist (dropped by validation).

The N-Triples use Wikidata's vocabulary and the shape of ``../shared/wikidata/wikidata-artists.nt.gz``:
every item has ``rdfs:label``, ``skos:prefLabel`` and ``schema:name`` (``@en``), minted items a
``schema:description``; artists ``wdt:P31`` Q5 (human) or Q215380 (musical group) and ``wdt:P136``;
genres ``wdt:P31`` Q188451 (music genre), or the fixture class Q990200001 for non-music values,
and ``wdt:P279`` parents. Artist and minted genre ids are made up (Q9900..., Q9901...).
"""

from __future__ import annotations

import gzip
import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20231
WD = "http://www.wikidata.org/entity/"
WDT = "http://www.wikidata.org/prop/direct/"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
PREF_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
ALT_LABEL = "http://www.w3.org/2004/02/skos/core#altLabel"
NAME = "http://schema.org/name"
DESCRIPTION = "http://schema.org/description"
HUMAN, GROUP, MUSIC_GENRE = "Q5", "Q215380", "Q188451"
NON_MUSIC, NEITHER, DECOY = "Q990200001", "Q990200002", "Q990200003"
COLUMNS = [
    "",
    "Artist",
    "Url_spotify",
    "Track",
    "Album",
    "Album_type",
    "Uri",
    "Danceability",
    "Energy",
    "Key",
    "Loudness",
    "Speechiness",
    "Acousticness",
    "Instrumentalness",
    "Liveness",
    "Valence",
    "Tempo",
    "Duration_ms",
    "Url_youtube",
    "Title",
    "Channel",
    "Views",
    "Likes",
    "Comments",
    "Description",
    "Licensed",
    "official_video",
    "Stream",
]

# Genres: Q-id -> (English label, P31 class, P279 parents). Real ids where Wikidata has them
# (as in the shared fixture), minted Q9901... ids for the rest.
GENRES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "Q11399": ("rock music", MUSIC_GENRE, ()),
    "Q37073": ("pop music", MUSIC_GENRE, ()),
    "Q11401": ("hip hop music", MUSIC_GENRE, ()),
    "Q9778": ("electronic music", MUSIC_GENRE, ()),
    "Q9730": ("classical music", MUSIC_GENRE, ()),
    "Q38848": ("heavy metal", MUSIC_GENRE, ()),
    "Q8341": ("jazz", MUSIC_GENRE, ()),
    "Q83440": ("country music", MUSIC_GENRE, ()),
    "Q11366": ("alternative rock", MUSIC_GENRE, ("Q11399",)),
    "Q1344": ("opera", MUSIC_GENRE, ("Q9730",)),
    "Q990100001": ("baroque music", MUSIC_GENRE, ("Q9730",)),
    "Q990100002": ("thrash metal", MUSIC_GENRE, ("Q38848",)),
    "Q990100003": ("trap music", MUSIC_GENRE, ("Q11401",)),
    "Q990100004": ("techno", MUSIC_GENRE, ("Q9778",)),
    "Q990100005": ("dance-pop", MUSIC_GENRE, ("Q37073",)),
    "Q990100006": ("zeuhl", MUSIC_GENRE, ("Q11366",)),  # maps to rock through its ancestors only
    "Q990100007": ("synthwave", MUSIC_GENRE, ("Q9778",)),
    "Q990100008": ("polka", MUSIC_GENRE, ()),  # maps to no super-genre
    "Q990100009": ("documentary film", NON_MUSIC, ()),
}

# Per super-genre: the genres its artists carry, and the audio profile of their songs
# (Danceability, Energy, Loudness, Speechiness, Acousticness, Instrumentalness, Valence, Tempo, Duration_ms).
PROFILES: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "classical": (("Q9730", "Q1344", "Q990100001"), (0.25, 0.15, -21.0, 0.04, 0.92, 0.85, 0.2, 100.0, 330e3)),
    "metal": (("Q38848", "Q990100002"), (0.38, 0.95, -4.0, 0.09, 0.01, 0.25, 0.25, 145.0, 270e3)),
    "rock": (("Q11399", "Q11366", "Q990100006"), (0.5, 0.72, -6.5, 0.05, 0.15, 0.05, 0.55, 125.0, 240e3)),
    "hip hop": (("Q11401", "Q990100003"), (0.82, 0.62, -6.0, 0.32, 0.12, 0.0, 0.5, 92.0, 205e3)),
    "electronic": (("Q9778", "Q990100004", "Q990100007"), (0.68, 0.82, -5.0, 0.07, 0.04, 0.6, 0.38, 127.0, 235e3)),
    "pop": (("Q37073", "Q990100005"), (0.7, 0.62, -5.5, 0.06, 0.25, 0.01, 0.68, 116.0, 198e3)),
}
ARTISTS: dict[str, tuple[str, ...]] = {
    "classical": (
        "Orquesta Sinfónica de Valdemar",
        "Clara Whitcombe",
        "The Halvorsen Quartet",
        "Ilse Brandauer",
        "Kammerchor Lindau",
        "Teodor Vasić",
    ),
    "metal": ("Iron Thistle", "Grimvald", "Mörkrets Kyrka", "Blackened Aorta", "Sepulchral Tide", "Anvil & Ash"),
    "rock": ("The Paper Lanterns", "Sundown Motel", "Kites Over Rome", "Velvet Gallows", "Boston Harbour", "The Low Tides"),
    "hip hop": ("Lil Cipher", "Big Tonio", "MC Varga", "Yung Saturn", 'Dre "Da Prophet" Wills', "K.O.B."),
    "electronic": ("Neon Aviary", "DJ Kozmo", "Subterra", "Lumen Drift", "Kaskade Nine", "Ørbit"),
    "pop": ("Ella Marquez", "Zoë & The Foxes", "Jonah Brightly", "Starlet Avenue", "Mina Park", "周小雨"),
}
# Artists that no kept super-genre gets: (name, what Wikidata holds, their songs' profile).
DECOYS: dict[str, tuple[str, str]] = {
    "Nobody Knows Us": ("absent", "rock"),
    "The Unlabelled": ("no genre", "pop"),
    "Rainfall Sounds": ("neither human nor group", "classical"),
    "Cinema Verité Collective": ("non-music genre", "electronic"),
    "Oompah Brothers": ("unmapped genre", "pop"),
    "Blue Note Ensemble": ("jazz", "classical"),
    "Prairie Wind": ("country", "rock"),
}
ALIASES = {"DJ Kozmo": "DJ Kosmo"}  # name in the data -> the item's English label (the data's name is an alias)


@dataclass(frozen=True)
class SyntheticFixture:
    """Paths of the generated files and the expected labelling."""

    csv: Path
    nt: Path
    super_genres: dict[str, str | None]


def _literal(text: str, lang: str = "en") -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"@{lang}'


class _Triples:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, subject: str, predicate: str, obj: str) -> None:
        self.lines.append(f"<{subject}> <{predicate}> {obj} .")

    def item(self, qid: str, label: str, minted: bool) -> None:
        for predicate in (RDFS_LABEL, PREF_LABEL, NAME):
            self.add(WD + qid, predicate, _literal(label))
        if minted:
            self.add(WD + qid, DESCRIPTION, _literal("fake item minted for an offline test fixture; not real Wikidata"))

    def link(self, qid: str, prop: str, target: str) -> None:
        self.add(WD + qid, WDT + prop, f"<{WD}{target}>")


def _wikidata(rng: np.random.Generator) -> tuple[str, dict[str, str | None]]:
    """The N-Triples text and, per artist name of the data, the expected super-genre."""
    t = _Triples()
    for qid, label in ((HUMAN, "human"), (GROUP, "musical group"), (MUSIC_GENRE, "music genre")):
        t.item(qid, label, minted=False)
    for qid, label in ((NON_MUSIC, "non-music genre value"), (NEITHER, "performer credit"), (DECOY, "decoy: non-music item")):
        t.item(qid, label + " (fixture class)", minted=True)
    for pid, label in (("P31", "instance of"), ("P136", "genre"), ("P279", "subclass of")):
        t.item(pid, label, minted=False)
    for qid, (label, kind, parents) in GENRES.items():
        t.item(qid, label, minted=qid.startswith("Q99"))
        t.link(qid, "P31", kind)
        for parent in parents:
            t.link(qid, "P279", parent)
    expected: dict[str, str | None] = {}
    numbers = iter(range(990000001, 990000999))
    for super_genre, names in ARTISTS.items():
        pool = PROFILES[super_genre][0]
        for name in names:
            qid = f"Q{next(numbers)}"
            t.item(qid, ALIASES.get(name, name), minted=True)
            if name in ALIASES:
                t.add(WD + qid, ALT_LABEL, _literal(name))
            t.link(qid, "P31", GROUP if name.startswith("The ") or "&" in name else HUMAN)
            for genre in sorted(rng.choice(pool, size=int(rng.integers(1, len(pool) + 1)), replace=False)):
                t.link(qid, "P136", str(genre))
            expected[name] = super_genre
    # Mina Park: a second person of that name, with fewer genres (the labelling takes the first).
    other = f"Q{next(numbers)}"
    t.item(other, "Mina Park", minted=True)
    t.link(other, "P31", HUMAN)
    t.link(other, "P136", "Q83440")
    # A non-music item that shares a band's English label.
    t.item("Q990300001", "Boston Harbour", minted=True)
    t.link("Q990300001", "P31", DECOY)
    for name, (kind, _) in DECOYS.items():
        expected[name] = None
        if kind == "absent":
            continue
        qid = f"Q{next(numbers)}"
        t.item(qid, name, minted=True)
        t.link(qid, "P31", NEITHER if kind == "neither human nor group" else GROUP)
        genre = {"non-music genre": "Q990100009", "unmapped genre": "Q990100008", "jazz": "Q8341", "country": "Q83440"}.get(kind)
        if kind == "neither human nor group":
            genre = "Q9730"
        if genre:
            t.link(qid, "P136", genre)
    expected["Blue Note Ensemble"], expected["Prairie Wind"] = "jazz", "country"
    return "\n".join(t.lines) + "\n", expected


def _token(rng: np.random.Generator, length: int) -> str:
    alphabet = np.array(list(string.ascii_letters + string.digits))
    return "".join(rng.choice(alphabet, size=length))


def _songs(rng: np.random.Generator) -> pd.DataFrame:
    """The songs: per artist 6 to 11, features around its genre's profile; some values missing."""
    artists = [(name, g) for g, names in ARTISTS.items() for name in names] + [(n, p) for n, (_, p) in DECOYS.items()]
    rows = []
    for name, profile in artists:
        dance, energy, loud, speech, acoustic, instrumental, valence, tempo, duration = PROFILES[profile][1]
        artist_id = _token(rng, 22)
        popularity = rng.normal(16.0, 1.5)  # log views of this artist's videos
        for i in range(int(rng.integers(6, 12))):
            track = f"{name.split()[0]} Song {i + 1}"
            views = float(np.round(np.exp(popularity + rng.normal(0, 0.8))))
            rows.append(
                {
                    "Artist": name,
                    "Url_spotify": f"https://open.spotify.com/artist/{artist_id}",
                    "Track": track,
                    "Album": f"{name} Album {1 + i // 4}",
                    "Album_type": str(rng.choice(["album", "single", "compilation"], p=[0.7, 0.25, 0.05])),
                    "Uri": f"spotify:track:{_token(rng, 22)}",
                    "Danceability": np.clip(rng.normal(dance, 0.07), 0, 1).round(3),
                    "Energy": np.clip(rng.normal(energy, 0.07), 0, 1).round(3),
                    "Key": float(rng.integers(0, 12)),
                    "Loudness": np.clip(rng.normal(loud, 1.5), -60, 0).round(3),
                    "Speechiness": np.clip(rng.normal(speech, 0.03), 0, 1).round(4),
                    "Acousticness": np.clip(rng.normal(acoustic, 0.07), 0, 1).round(5),
                    "Instrumentalness": np.clip(rng.normal(instrumental, 0.07), 0, 1).round(6),
                    "Liveness": np.clip(rng.gamma(2.0, 0.08), 0, 1).round(4),
                    "Valence": np.clip(rng.normal(valence, 0.08), 0, 1).round(3),
                    "Tempo": np.clip(rng.normal(tempo, 8.0), 40, 220).round(3),
                    "Duration_ms": float(np.round(max(60e3, rng.normal(duration, 25e3)))),
                    "Url_youtube": f"https://www.youtube.com/watch?v={_token(rng, 11)}",
                    "Title": f"{name} - {track} (Official Video)",
                    "Channel": name.replace(" ", "") + "VEVO" if rng.random() < 0.3 else name,
                    "Views": views,
                    "Likes": float(np.round(views * rng.uniform(0.004, 0.02))),
                    "Comments": float(np.round(views * rng.uniform(1e-4, 8e-4))),
                    "Description": f"Official video for {track} by {name}.\n\nFollow {name} online.",
                    "Licensed": bool(rng.random() < 0.7),
                    "official_video": bool(rng.random() < 0.8),
                    "Stream": float(np.round(views * rng.uniform(0.5, 3.0))),
                }
            )
    frame = pd.DataFrame(rows)
    no_youtube = rng.random(len(frame)) < 0.05
    youtube = ["Url_youtube", "Title", "Channel", "Views", "Likes", "Comments", "Description", "Licensed", "official_video"]
    frame[youtube] = frame[youtube].astype(object)
    frame.loc[no_youtube, youtube] = None
    frame.loc[rng.random(len(frame)) < 0.03, "Stream"] = np.nan
    frame.loc[rng.random(len(frame)) < 0.08, "Description"] = None
    blank = frame.iloc[[0]].assign(Artist=None, Track="Untitled (no artist)")
    frame = pd.concat([frame, blank], ignore_index=True)
    frame.insert(0, "", range(len(frame)))
    return frame[COLUMNS]


def write_fixture(folder: str | Path) -> SyntheticFixture:
    """Write the CSV and the N-Triples (gzip) to ``folder``; return their paths and the expected labels."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    text, expected = _wikidata(np.random.default_rng(SEED))
    nt = folder / "wikidata-artists.nt.gz"
    with open(nt, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as handle:
        handle.write(text.encode("utf-8"))
    csv = folder / "Spotify_Youtube.csv"
    _songs(np.random.default_rng(SEED + 1)).to_csv(csv, index=False)
    return SyntheticFixture(csv=csv, nt=nt, super_genres=expected)
