"""The generated test data: deterministic, in the Kaggle schema, labelled as intended by the real labelling."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.conftest import default_config
from tests.support.synthetic import write_fixture
from workflow_scripts.data import dataset
from workflow_scripts.genres.selection import artist_super_genres
from workflow_scripts.labels.labelling import label_artists
from workflow_scripts.labels.tables import entries_table


def test_same_bytes_every_time(synthetic, tmp_path: Path) -> None:
    again = write_fixture(tmp_path)
    assert again.csv.read_bytes() == synthetic.csv.read_bytes()
    assert again.nt.read_bytes() == synthetic.nt.read_bytes()


def test_kaggle_schema_with_missing_values(synthetic) -> None:
    raw = pd.read_csv(synthetic.csv)
    frame = dataset.validate(dataset.read_csv(synthetic.csv))
    assert 300 <= len(frame) <= 600 and len(frame) == len(raw) - 1  # the row without an artist is dropped
    assert frame.shape[1] == 28 and 40 <= frame["Artist"].nunique() <= 60
    assert frame["Views"].isna().sum() > 0 and frame["Stream"].isna().sum() > 0 and frame["Licensed"].isna().sum() > 0


def test_labelling_gives_the_intended_super_genres(synthetic, synthetic_oxigraph, tmp_path: Path) -> None:
    names = sorted(synthetic.super_genres)
    entries, stats = label_artists(names, synthetic_oxigraph.url, tmp_path, "tests <ci@example.org>", batch_size=8)
    assert stats.requests > 0 and stats.retries == 0
    table, unmapped = artist_super_genres(entries_table(entries), default_config()["genres"]["super_genres"])
    got = {artist: genre if isinstance(genre, str) else None for artist, genre in zip(table["artist"], table["super_genre"], strict=True)}
    assert got == synthetic.super_genres
    found = dict(zip(table["artist"], table["found"], strict=True))
    assert not found["Nobody Knows Us"] and not found["Rainfall Sounds"] and found["The Unlabelled"]
    assert found["DJ Kozmo"]  # by its alias
    assert list(unmapped["genre"]) == ["polka"]
    keep = set(default_config()["genres"]["keep"])
    assert keep <= set(got.values())
