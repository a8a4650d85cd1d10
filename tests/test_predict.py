"""predict: the bundle on the raw CSV rows of the test set gives evaluate's probabilities for
every model; bad inputs give one short error and no output; the rule runs the same code.
Reuses the one workflow run of tests/test_bundle.py."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import DATASET_CSV, needs_shared, run_workflow
from tests.test_bundle import predict_cli
from workflow_scripts import predict
from workflow_scripts.bundle import store as bundle
from workflow_scripts.features import pipeline as features
from workflow_scripts.models import registry as models

pytestmark = [needs_shared, pytest.mark.integration]


def raw_rows(path: Path, rows: set[int] | None = None, limit: int | None = None) -> Path:
    """Header and the given row ids' records of the dataset CSV, field for field as they are."""
    with open(DATASET_CSV, newline="", encoding="utf-8") as source, open(path, "w", newline="", encoding="utf-8") as target:
        reader, writer = csv.reader(source), csv.writer(target)
        writer.writerow(next(reader))
        kept = 0
        for record in reader:
            if (rows is None or int(record[0]) in rows) and (limit is None or kept < limit):
                writer.writerow(record)
                kept += 1
    return path


@pytest.fixture(scope="module")
def test_set(trained: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    workdir = trained["workdir"]
    evaluated = pd.read_parquet(workdir / "results/evaluation/test_probabilities.parquet")
    rows = set(evaluated["row"].astype(int))
    csv_path = raw_rows(tmp_path_factory.mktemp("predict") / "test_songs.csv", rows)
    metrics = json.loads((workdir / "results/evaluation/metrics.json").read_text())
    return {"csv": csv_path, "evaluated": evaluated, "metrics": metrics, "n": len(rows)}


def test_bundle_reproduces_the_evaluations_test_probabilities_for_every_model(trained: dict, test_set: dict) -> None:
    manifest = bundle.read_manifest(trained["model"])
    songs = predict.read_songs(test_set["csv"], manifest["required_columns"])
    loaded = bundle.load(trained["model"], manifest["models"])
    table = predict.predictions(loaded, songs, "ensemble", all_models=True)
    probas = loaded.probabilities(songs, manifest["models"])
    classes = manifest["classes"]
    assert len(songs) == test_set["n"] and set(probas) == set(models.NAMES)
    for name, proba in probas.items():
        expected = test_set["evaluated"][test_set["evaluated"]["model"] == name].set_index("row").loc[songs["row"]]
        np.testing.assert_allclose(proba, expected[classes].to_numpy(), rtol=0, atol=1e-6, err_msg=name)
        truth = expected["genre"].to_numpy()
        accuracy = float(np.mean(np.asarray(classes)[proba.argmax(axis=1)] == truth))
        assert accuracy == pytest.approx(test_set["metrics"]["models"][name]["accuracy"], abs=1e-12), name
        assert (table[f"genre_{name.replace(' ', '_')}"].to_numpy() == np.asarray(classes)[proba.argmax(axis=1)]).all()


def test_command_writes_row_artist_track_genre_and_probabilities(trained: dict, test_set: dict, tmp_path: Path) -> None:
    output = tmp_path / "predictions.csv"
    result = predict_cli(trained["model"], test_set["csv"], output)
    assert result.returncode == 0, result.stderr[-3000:]
    table = pd.read_csv(output)
    classes = test_set["metrics"]["classes"]
    assert list(table.columns) == ["row", "Artist", "Track", "genre", *(f"p_{c}" for c in classes)]
    expected = test_set["evaluated"].query("model == 'ensemble'").set_index("row").loc[table["row"]]
    np.testing.assert_allclose(table[[f"p_{c}" for c in classes]].to_numpy(), expected[classes].to_numpy(), atol=1e-6)
    accuracy = float(np.mean(table["genre"].to_numpy() == expected["genre"].to_numpy()))
    assert accuracy == pytest.approx(test_set["metrics"]["models"]["ensemble"]["accuracy"])
    test_set["command_output"] = table


def test_a_csv_of_only_the_required_columns(trained: dict, test_set: dict, tmp_path: Path) -> None:
    required = bundle.read_manifest(trained["model"])["required_columns"]
    full = pd.read_csv(test_set["csv"], keep_default_na=False, dtype=str)
    slim = tmp_path / "slim.csv"
    full[required].to_csv(slim, index=False)  # no index column either: rows are numbered 0..n-1
    output = tmp_path / "out.csv"
    result = predict_cli(trained["model"], slim, output, "--model-name", "hgb")
    assert result.returncode == 0, result.stderr[-3000:]
    table = pd.read_csv(output)
    assert table["row"].tolist() == list(range(len(full)))
    expected = test_set["evaluated"].query("model == 'hgb'").set_index("row").loc[full[full.columns[0]].astype(int)]
    classes = test_set["metrics"]["classes"]
    np.testing.assert_allclose(table[[f"p_{c}" for c in classes]].to_numpy(), expected[classes].to_numpy(), atol=1e-6)


def bad_input(tmp_path: Path, change) -> Path:
    frame = pd.read_csv(raw_rows(tmp_path / "base.csv", limit=6), keep_default_na=False, dtype=str)
    change(frame)
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    return path


def _set(column: str, row: int, value: str):
    def change(frame: pd.DataFrame) -> None:
        frame.loc[row, column] = value

    return change


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda f: [f.pop(c) for c in ("Energy", "Album_type")], "lacks required column(s): Energy, Album_type"),
        (_set("Loudness", 2, "loud"), "column Loudness has 1 non-numeric value(s) (e.g. 'loud'; rows 2)"),
        (_set("Danceability", 4, "1.7"), "column Danceability has 1 value(s) outside [0.0, 1.0] (rows 4)"),
        (_set("Licensed", 1, "maybe"), "column Licensed has 1 value(s) that are not True/False (rows 1)"),
    ],
    ids=["missing-columns", "non-numeric", "out-of-range", "not-boolean"],
)
def test_bad_input_is_one_short_error_and_no_output(trained: dict, tmp_path: Path, change, expected: str) -> None:
    output = tmp_path / "out.csv"
    result = predict_cli(trained["model"], bad_input(tmp_path, change), output)
    assert result.returncode == 1
    assert expected in result.stderr and "Fix:" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) <= 3
    assert not output.exists() and not list(tmp_path.glob(".out.csv*"))


def test_missing_input_file(trained: dict, tmp_path: Path) -> None:
    result = predict_cli(trained["model"], tmp_path / "nope.csv", tmp_path / "out.csv")
    assert result.returncode == 1 and "does not exist" in result.stderr and not (tmp_path / "out.csv").exists()


def test_extra_columns_unknown_categories_and_missing_values(trained: dict, tmp_path: Path) -> None:
    def change(frame: pd.DataFrame) -> None:
        frame["my_notes"] = "anything"
        frame.loc[0, "Album_type"] = "mixtape"  # a category training never saw
        frame.loc[1, "Views"] = ""  # missing: imputed as in training
        frame.loc[2, "Description"] = ""

    path = bad_input(tmp_path, change)
    output = tmp_path / "out.csv"
    result = predict_cli(trained["model"], path, output, "--all-models")
    assert result.returncode == 0, result.stderr[-3000:]
    table = pd.read_csv(output)
    probabilities = table.filter(like="p_").to_numpy()
    assert len(table) == 6 and np.isfinite(probabilities).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert {f"genre_{m.name.replace(' ', '_')}" for m in models.REGISTRY} <= set(table.columns)
    # The unknown category is encoded as training encodes one (the unknown code), not an error.
    manifest = bundle.read_manifest(trained["model"])
    loaded = bundle.load(trained["model"], ["knn"])
    frame, _, categorical = features.input_frame(predict.read_songs(path, manifest["required_columns"]), manifest["features"])
    encoder = loaded.features.pipeline.named_steps["columns"].named_transformers_["categorical"]
    assert encoder.transform(frame[categorical].head(1))[0, categorical.index("Album_type")] == -1


def test_pool_by_artist_averages_each_artists_songs(trained: dict, test_set: dict, tmp_path: Path) -> None:
    plain, pooled = tmp_path / "plain.csv", tmp_path / "pooled.csv"
    assert predict_cli(trained["model"], test_set["csv"], plain).returncode == 0
    assert predict_cli(trained["model"], test_set["csv"], pooled, "--pool-by-artist").returncode == 0
    plain_table, pooled_table = pd.read_csv(plain), pd.read_csv(pooled)
    columns = [c for c in plain_table.columns if c.startswith("p_")]
    means = plain_table.groupby("Artist")[columns].transform("mean")
    np.testing.assert_allclose(pooled_table[columns].to_numpy(), means.to_numpy(), atol=1e-9)
    several = plain_table["Artist"].duplicated(keep=False)
    assert several.any() and (pooled_table.groupby("Artist")["genre"].nunique() == 1).all()


def test_pool_by_artist_as_evidence_uses_the_bundles_training_shares(trained: dict, test_set: dict, tmp_path: Path) -> None:
    from workflow_scripts.evaluation import pooling

    manifest = bundle.read_manifest(trained["model"])
    arrays = features.load_arrays(trained["workdir"] / "results/features/arrays.npz")
    training_y = features.training_set(arrays).y
    shares = np.asarray(manifest["class_shares"])
    np.testing.assert_allclose(shares, np.bincount(training_y, minlength=len(manifest["classes"])) / len(training_y))
    plain, evidence = tmp_path / "plain.csv", tmp_path / "evidence.csv"
    assert predict_cli(trained["model"], test_set["csv"], plain, "--model-name", "hgb").returncode == 0
    result = predict_cli(trained["model"], test_set["csv"], evidence, "--model-name", "hgb", "--pool-by-artist", "evidence")
    assert result.returncode == 0 and "pooled by artist (evidence)" in result.stderr, result.stderr[-3000:]
    plain_table, evidence_table = pd.read_csv(plain), pd.read_csv(evidence)
    columns = [c for c in plain_table.columns if c.startswith("p_")]
    expected = pooling.pool(plain_table[columns].to_numpy(), plain_table["Artist"], "evidence", shares)
    np.testing.assert_allclose(evidence_table[columns].to_numpy(), expected, rtol=0, atol=1e-9)
    means = plain_table.groupby("Artist")[columns].transform("mean").to_numpy()
    assert not np.allclose(evidence_table[columns].to_numpy(), means, atol=1e-3)  # not the mean rule
    # A bundle built before the shares were recorded: a clear error, and no output.
    old = tmp_path / "old_model"
    shutil.copytree(trained["model"], old)
    recorded = json.loads((old / "manifest.json").read_text())
    del recorded["class_shares"]
    (old / "manifest.json").write_text(json.dumps(recorded))
    result = predict_cli(old, test_set["csv"], tmp_path / "none.csv", "--pool-by-artist", "evidence")
    assert result.returncode == 1 and "records no genre shares" in result.stderr and "--pool-by-artist mean" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "none.csv").exists()
    assert predict_cli(old, test_set["csv"], tmp_path / "mean.csv", "--pool-by-artist").returncode == 0
    result = predict_cli(trained["model"], test_set["csv"], tmp_path / "x.csv", "--pool-by-artist", "median")
    assert result.returncode == 2 and "invalid choice: 'median'" in result.stderr


def test_rule_writes_the_same_predictions(trained: dict, test_set: dict, tmp_path: Path) -> None:
    workdir = trained["workdir"]
    songs = workdir / "my_songs.csv"
    songs.write_bytes(test_set["csv"].read_bytes())
    run_workflow(workdir, trained["configfile"], "--config", "predict={input: my_songs.csv}")
    table = pd.read_csv(workdir / "results/predictions/my_songs.csv")
    output = tmp_path / "cli.csv"
    assert predict_cli(trained["model"], songs, output).returncode == 0
    pd.testing.assert_frame_equal(table, pd.read_csv(output))


def test_pooling_by_artist_and_its_own_rows_in_the_outer_summary() -> None:
    from workflow_scripts.evaluation import metrics as evaluation
    from workflow_scripts.evaluation import outer as outer_evaluation

    proba = np.array([[0.9, 0.1], [0.3, 0.7], [0.5, 0.5], [0.2, 0.8]])
    pooled = evaluation.pool_by_artist(proba, ["a", "b", "a", None])
    np.testing.assert_allclose(pooled, [[0.7, 0.3], [0.3, 0.7], [0.7, 0.3], [0.2, 0.8]])  # no artist: alone

    def run(acc: float, seed: int | None) -> dict:
        return {"seed": seed, "accuracy": acc, "auc_pr_macro": acc / 2, "auc_pr_micro": acc / 3}

    folds = [
        {"models": {"hgb": [run(0.7, 1)]}, "pooled": {"hgb": [run(0.8, 1)]}},
        {"models": {"hgb": [run(0.6, 1)]}, "pooled": {"hgb": [run(0.9, 1)]}},
    ]
    table = outer_evaluation.summarize(folds)
    assert table["level"].tolist() == ["song", "pooled"]
    assert table["accuracy_mean"].tolist() == pytest.approx([0.65, 0.85])
    text = outer_evaluation.markdown(table)
    song, pooled_part = text.split("Unseen artist, pooled over its test songs")
    assert "| hgb | 0.650 ± 0.071" in song and "| hgb | 0.850 ± 0.071" in pooled_part


def test_output_equal_to_the_input_is_refused_and_the_input_kept(trained: dict, test_set: dict, tmp_path: Path) -> None:
    songs = tmp_path / "songs.csv"
    songs.write_bytes(test_set["csv"].read_bytes())
    before = bundle.sha256_file(songs)
    (tmp_path / "link.csv").symlink_to(songs)
    (tmp_path / "sub").mkdir()
    for output in (songs, tmp_path / "link.csv", tmp_path / "sub" / ".." / "songs.csv"):
        result = predict_cli(trained["model"], songs, output)
        assert result.returncode == 1 and "is the input file" in result.stderr and "Traceback" not in result.stderr, result.stderr
        assert bundle.sha256_file(songs) == before and (tmp_path / "link.csv").is_symlink()
    mine = tmp_path / "notes.csv"
    mine.write_text("my own notes\n", encoding="utf-8")
    result = predict_cli(trained["model"], songs, mine, "--model-name", "knn")
    assert result.returncode == 1 and "not a predictions file of this tool" in result.stderr and "--overwrite" in result.stderr
    assert mine.read_text(encoding="utf-8") == "my own notes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "notes.csv", "songs.csv", "sub"]  # no temporary files
    # --overwrite replaces it; an earlier predictions file is replaced without it.
    result = predict_cli(trained["model"], songs, mine, "--model-name", "knn", "--overwrite")
    assert result.returncode == 0 and len(pd.read_csv(mine)) == test_set["n"], result.stderr[-3000:]
    assert str(mine.resolve()) in result.stderr.splitlines()[-1] and f"wrote {test_set['n']} songs" in result.stderr
    result = predict_cli(trained["model"], songs, mine, "--model-name", "hgb")
    assert result.returncode == 0 and len(pd.read_csv(mine)) == test_set["n"], result.stderr[-3000:]
    assert bundle.sha256_file(songs) == before


def test_a_formula_looking_artist_is_inert_in_the_output(trained: dict, tmp_path: Path) -> None:
    formula = '=HYPERLINK("http://example.org/x","click")'

    def change(frame: pd.DataFrame) -> None:
        frame.loc[0, "Artist"] = formula
        frame.loc[1, "Track"] = "-1"
        frame.loc[2, "Artist"] = "@import"

    path = bad_input(tmp_path, change)
    output, raw = tmp_path / "out.csv", tmp_path / "raw.csv"
    assert predict_cli(trained["model"], path, output, "--model-name", "knn").returncode == 0
    assert predict_cli(trained["model"], path, raw, "--model-name", "knn", "--raw-text").returncode == 0
    table = pd.read_csv(output, dtype=str, keep_default_na=False)
    assert table.loc[0, "Artist"] == "'" + formula and table.loc[1, "Track"] == "'-1" and table.loc[2, "Artist"] == "'@import"
    assert not table["Artist"].str.match(r"[=+\-@\t\r]").any() and not table["Track"].str.match(r"[=+\-@\t\r]").any()
    with open(output, newline="", encoding="utf-8") as handle:
        assert not any(cell.startswith(("=", "+", "-", "@")) for record in csv.reader(handle) for cell in record[1:3])
    untouched = pd.read_csv(raw, dtype=str, keep_default_na=False)
    assert untouched.loc[0, "Artist"] == formula and untouched.loc[1, "Track"] == "-1"
    probabilities = [c for c in table.columns if c.startswith("p_")]
    pd.testing.assert_frame_equal(table[probabilities], untouched[probabilities])  # numbers as they are


@pytest.mark.parametrize("pooled", [None, "mean", "evidence"], ids=["songs", "pooled", "evidence"])
def test_chunked_output_equals_the_whole_file_output(trained: dict, test_set: dict, tmp_path: Path, pooled: str | None) -> None:
    extra = ["--all-models", *(["--pool-by-artist", pooled] if pooled else [])]
    whole, chunked = tmp_path / "whole.csv", tmp_path / "chunked.csv"
    assert predict_cli(trained["model"], test_set["csv"], whole, "--chunk-size", "1000000", *extra).returncode == 0
    result = predict_cli(trained["model"], test_set["csv"], chunked, "--chunk-size", "37", *extra)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chunked.csv", "whole.csv"]  # the spill is gone
    a, b = pd.read_csv(whole), pd.read_csv(chunked)
    assert len(b) == test_set["n"] > 37 * 3 and list(a.columns) == list(b.columns)
    probabilities = [c for c in a.columns if c.startswith("p_")]
    np.testing.assert_allclose(b[probabilities].to_numpy(), a[probabilities].to_numpy(), rtol=0, atol=1e-9)
    pd.testing.assert_frame_equal(a.drop(columns=probabilities), b.drop(columns=probabilities))
    # ... and the in-memory computation (pooling.pool over the whole file).
    manifest = bundle.read_manifest(trained["model"])
    songs = predict.read_songs(test_set["csv"], manifest["required_columns"])
    memory = predict.predictions(bundle.load(trained["model"], manifest["models"]), songs, "ensemble", True, pooled)
    np.testing.assert_allclose(b[probabilities].to_numpy(), memory[probabilities].to_numpy(), rtol=0, atol=1e-9)
    assert (b["genre"].to_numpy() == memory["genre"].to_numpy()).all()


def test_a_bad_value_in_a_later_chunk_leaves_nothing(trained: dict, tmp_path: Path) -> None:
    path = bad_input(tmp_path, _set("Loudness", 5, "loud"))
    output = tmp_path / "out" / "predictions.csv"
    for extra in ([], ["--pool-by-artist"]):
        result = predict_cli(trained["model"], path, output, "--chunk-size", "2", *extra)
        assert result.returncode == 1 and "rows 5) (counted in songs 5-6" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and not list((tmp_path / "out").iterdir())
