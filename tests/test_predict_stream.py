"""predict's parts that need no bundle: which outputs it may replace, inert text cells, the
per-artist sums of the streamed pooling against the whole-file pooling, chunked reading."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workflow_scripts import predict
from workflow_scripts.core.artist_sums import ArtistSums
from workflow_scripts.core.errors import UserError
from workflow_scripts.evaluation import metrics as evaluation

HEADER = "row,Artist,Track,genre,p_metal,p_hip hop,genre_knn,genre_artist_lookup\n"


def test_an_earlier_predictions_file_is_recognised_by_its_header(tmp_path: Path) -> None:
    cases = {
        "ours.csv": HEADER + "0,a,b,metal,0.5,0.5,metal,metal\n",
        "ours_plain.csv": "row,Artist,Track,genre,p_rock\n",
        "songs.csv": ",Artist,Url_spotify,Track\n0,a,b,c\n",
        "reordered.csv": "row,Track,Artist,genre,p_rock\n",
        "no_probabilities.csv": "row,Artist,Track,genre\n",
        "extra_column.csv": "row,Artist,Track,genre,p_rock,notes\n",
        "empty.csv": "",
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "latin1.csv").write_bytes("row,Artist,Track,genre,p_rock\n0,Beyonc\xe9".encode("latin-1"))
    found = {name: predict.is_predictions_file(tmp_path / name) for name in [*cases, "latin1.csv"]}
    assert found == {
        "ours.csv": True,
        "ours_plain.csv": True,
        "songs.csv": False,
        "reordered.csv": False,
        "no_probabilities.csv": False,
        "extra_column.csv": False,
        "empty.csv": False,
        "latin1.csv": True,  # the header decides; the row after it is not read
    }
    assert not predict.is_predictions_file(tmp_path) and not predict.is_predictions_file(tmp_path / "missing.csv")


def test_the_input_is_never_the_output_however_it_is_named(tmp_path: Path) -> None:
    songs = tmp_path / "data" / "songs.csv"
    songs.parent.mkdir()
    songs.write_text(",Artist\n0,a\n", encoding="utf-8")
    (tmp_path / "link.csv").symlink_to(songs)
    os.link(songs, tmp_path / "hard.csv")
    (tmp_path / "sub").mkdir()
    for name in [songs, tmp_path / "sub" / ".." / "data" / "songs.csv", tmp_path / "link.csv", tmp_path / "hard.csv"]:
        with pytest.raises(UserError, match="is the input file"):
            predict.check_output(songs, name)
        assert predict.check_output(songs, name, overwrite=True) == Path(os.path.abspath(name))
    predictions = tmp_path / "predictions.csv"
    assert predict.check_output(songs, predictions) == predictions  # new: fine
    predictions.write_text(HEADER, encoding="utf-8")
    assert predict.check_output(songs, predictions) == predictions  # earlier predictions: replaced
    notes = tmp_path / "notes.csv"
    notes.write_text("my,own\n", encoding="utf-8")
    with pytest.raises(UserError, match="not a predictions file of this tool") as error:
        predict.check_output(songs, notes)
    assert "--overwrite" in error.value.fix
    assert predict.check_output(songs, notes, overwrite=True) == notes
    with pytest.raises(UserError, match="is a folder"):
        predict.check_output(songs, tmp_path / "sub", overwrite=True)
    (tmp_path / "dangling.csv").symlink_to(tmp_path / "nowhere.csv")
    with pytest.raises(UserError, match="not a predictions file"):
        predict.check_output(songs, tmp_path / "dangling.csv")
    with pytest.raises(UserError, match="not a regular file"):
        predict.check_output(songs, "/dev/null", overwrite=True)


def test_formula_cells_are_inert_and_others_as_they_are() -> None:
    cells = ['=HYPERLINK("http://x","click")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "a=b", " =1", "", None, "Beyoncé"]
    out = predict.inert(pd.Series(cells, dtype="string"))
    assert out.tolist() == [
        '\'=HYPERLINK("http://x","click")',
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "a=b",
        " =1",
        "",
        pd.NA,
        "Beyoncé",
    ]


def test_table_keeps_probabilities_and_row_ids_and_marks_text_only() -> None:
    songs = pd.DataFrame({"row": [-1, 2], "Artist": ["=cmd", "-x"], "Track": ["+t", "ok"]})
    proba = np.array([[0.25, 0.75], [0.6, 0.4]])
    out = predict.table(songs, {"knn": proba}, ["-metal", "pop"], "knn", all_models=True)
    assert out["row"].tolist() == [-1, 2] and out["p_-metal"].tolist() == [0.25, 0.6]
    assert out["Artist"].tolist() == ["'=cmd", "'-x"] and out["Track"].tolist() == ["'+t", "ok"]
    assert out["genre"].tolist() == ["pop", "'-metal"] and out["genre_knn"].tolist() == ["pop", "'-metal"]
    raw = predict.table(songs, {"knn": proba}, ["-metal", "pop"], "knn", raw_text=True)
    assert raw["Artist"].tolist() == ["=cmd", "-x"] and raw["genre"].tolist() == ["pop", "-metal"]


def test_artist_sums_over_chunks_give_the_whole_file_pooling() -> None:
    rng = np.random.default_rng(0)
    n = 1_000
    artists = pd.Series(rng.choice(["a", "b", " ", "c", None, "d", "é"] + [f"x{i}" for i in range(300)], n), dtype="string")
    values = rng.dirichlet(np.ones(4), n)
    expected = evaluation.pool_by_artist(values, artists)
    for size in (1, 7, 333, n):
        sums = ArtistSums(4)
        for start in range(0, n, size):
            sums.add(artists[start : start + size], values[start : start + size])
        pooled = np.vstack([sums.means(artists[s : s + size], values[s : s + size]) for s in range(0, n, size)])
        np.testing.assert_allclose(pooled, expected, rtol=0, atol=1e-12, err_msg=str(size))
        assert len(sums.index) == artists[artists.str.strip() != ""].nunique()


def test_ties_go_to_the_first_genre_whatever_the_last_bit() -> None:
    third = np.array([[1 / 3, 1 / 3 + 5e-17, 1 / 3 - 5e-17], [0.2, 0.2 + 1e-9, 0.6 - 1e-9]])
    out = predict.table(pd.DataFrame({"row": [0, 1]}), {"knn": third}, ["a", "b", "c"], "knn")
    assert out["genre"].tolist() == ["a", "c"]


def _songs_csv(path: Path, n: int, ids: list[int] | None = None, bad: int | None = None) -> Path:
    frame = pd.DataFrame(
        {
            "": ids if ids is not None else range(n),
            "Artist": [f"artist {i % 5}" for i in range(n)],
            "Track": [f"song {i}" for i in range(n)],
            "Energy": [str((i % 10) / 10) for i in range(n)],
            "Album_type": ["album"] * n,
        }
    )
    if bad is not None:
        frame.loc[bad, "Energy"] = "loud"
    frame.to_csv(path, index=False)
    return path


def test_chunks_are_the_whole_file_in_pieces(tmp_path: Path) -> None:
    path = _songs_csv(tmp_path / "songs.csv", 23)
    whole = predict.read_songs(path, ["Artist", "Energy", "Album_type"])
    chunks = list(predict.iter_songs(path, ["Artist", "Energy", "Album_type"], chunk_size=5))
    assert [len(c) for c in chunks] == [5, 5, 5, 5, 3]
    pd.testing.assert_frame_equal(pd.concat(chunks), whole)
    assert whole["Energy"].dtype == "float64" and whole["row"].tolist() == list(range(23))


def test_a_problem_in_a_later_chunk_names_its_rows_and_duplicate_ids_across_chunks(tmp_path: Path) -> None:
    required = ["Artist", "Energy", "Album_type"]
    path = _songs_csv(tmp_path / "bad.csv", 23, bad=12)
    with pytest.raises(UserError, match=r"non-numeric value\(s\) \(e.g. 'loud'; rows 12\) \(counted in songs 11-15"):
        list(predict.iter_songs(path, required, chunk_size=5))
    path = _songs_csv(tmp_path / "dup.csv", 10, ids=[0, 1, 2, 3, 4, 5, 6, 7, 1, 9])
    with pytest.raises(UserError, match="not a unique integer"):
        list(predict.iter_songs(path, required, chunk_size=4))
    with pytest.raises(UserError, match="not a unique integer"):
        predict.read_songs(path, required)


def test_a_killed_runs_temporaries_are_removed_and_no_others(tmp_path: Path) -> None:
    from workflow_scripts.core import fileio

    target = tmp_path / "predictions.csv"
    dead = target.with_name(f".predictions.csv.{fileio.HOST}-999999999-0a1b2c3d.tmp")
    spill = target.with_name(f".predictions.csv.{fileio.HOST}-999999999-0a1b2c3d.tmp.spill.{fileio.HOST}-999999999-1a2b3c4d.tmp")
    alive = fileio.temporary_path(target)  # this process's: a run in progress
    other = target.with_name(f".notes.csv.{fileio.HOST}-999999999-0a1b2c3d.tmp")
    for path in (dead, spill, alive, other):
        path.write_text("x")
    assert predict.remove_stale_temporaries(target) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, other.name])
