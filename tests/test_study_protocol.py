"""Issue 8: the study's labels and protocol, the artist-lookup ceiling, the artist-disjoint mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import REPO, SHARED, deep_update, default_config, needs_shared, run_workflow, write_config
from workflow_scripts.evaluation import metrics as evaluation
from workflow_scripts.evaluation import outer as outer_evaluation
from workflow_scripts.models.estimators import ArtistLookup

STUDY_LABELS = SHARED / "reference" / "seed_selection.csv"


def layered(*files: str, **changes) -> dict:
    config = default_config()
    for name in files:
        config = deep_update(config, yaml.safe_load((REPO / name).read_text()))
    return deep_update(config, changes)


@needs_shared
@pytest.mark.skipif(not STUDY_LABELS.exists(), reason=f"needs {STUDY_LABELS}")
def test_study_config_selects_the_studys_6446_songs(tmp_path: Path) -> None:
    config = layered(
        "configs/study.yaml",
        results_dir="results",
        dataset={"path": str(SHARED / "data/Spotify_Youtube.csv")},
        labels={"csv": str(STUDY_LABELS)},
    )
    run_workflow(tmp_path, write_config(tmp_path / "study.yaml", config), "--until", "split_data")
    songs = pd.read_parquet(tmp_path / "results/data/selected.parquet")
    assert len(songs) == 6446
    counts = songs["genre"].value_counts().to_dict()
    assert counts == {"hip hop": 2361, "rock": 1418, "pop": 1391, "electronic": 677, "metal": 430, "classic": 169}
    split = pd.read_parquet(tmp_path / "results/data/split.parquet")
    assert (split["set"] == "test").sum() == 1290  # stratified 20 %


@needs_shared
@pytest.mark.skipif(not STUDY_LABELS.exists(), reason=f"needs {STUDY_LABELS}")
def test_artist_mode_keeps_every_artist_in_one_place(tmp_path: Path) -> None:
    config = layered(
        "configs/study.yaml",
        "configs/artist_disjoint.yaml",
        results_dir="results",
        dataset={"path": str(SHARED / "data/Spotify_Youtube.csv")},
        labels={"csv": str(STUDY_LABELS)},
    )
    targets = [f"results/outer/{k}/split.parquet" for k in range(5)]
    run_workflow(tmp_path, write_config(tmp_path / "artist.yaml", config), "results/data/split.parquet", *targets)
    songs = pd.read_parquet(tmp_path / "results/data/selected.parquet")[["row", "Artist"]]
    tested = []
    for path in ["results/data/split.parquet", *targets]:
        merged = songs.merge(pd.read_parquet(tmp_path / path), on="row")
        train = merged[merged["set"] == "train"]
        test_artists = set(merged.loc[merged["set"] == "test", "Artist"])
        assert test_artists.isdisjoint(train["Artist"])
        assert (train.groupby("Artist")["fold"].nunique() == 1).all()
        if path != "results/data/split.parquet":
            tested += sorted(test_artists)
    assert sorted(tested) == sorted(set(songs["Artist"]))  # each artist tested in exactly one outer fold
    assert pd.read_parquet(tmp_path / "results/data/split.parquet").equals(pd.read_parquet(tmp_path / targets[0]))


def test_artist_mode_rejects_an_artist_feature(tmp_path: Path) -> None:
    config = deep_update(default_config(), {"dataset": {"source": "path", "path": "x.csv"}, "split": {"group_by": "artist"}})
    result = run_workflow(tmp_path, write_config(tmp_path / "c.yaml", config), "--dry-run", check=False)
    assert result.returncode != 0 and "remove Artist from features.categorical" in result.stdout + result.stderr


def test_artist_lookup_on_a_known_answer() -> None:
    # Training: artist a is 3x rock + 1x pop, b is 2x pop, c is 1x metal. Classes: 0 metal, 1 pop, 2 rock.
    artists = pd.Series(["a", "a", "a", "a", "b", "b", "c"])
    y = np.array([2, 2, 2, 1, 1, 1, 0])
    lookup = ArtistLookup().fit(artists, y, 3)
    test_artists = pd.Series(["a", "b", "c", "unknown", "a"])
    assert lookup.predict(test_artists).tolist() == [2, 1, 0, 1, 2]  # unknown -> overall majority (pop and rock tie 3:3 -> first)
    proba = lookup.predict_proba(test_artists)
    np.testing.assert_allclose(proba[0], [0, 0.25, 0.75])
    np.testing.assert_allclose(proba[3], [1 / 7, 3 / 7, 3 / 7])
    truth = np.array([2, 1, 0, 2, 1])
    assert evaluation.metrics(truth, proba, ["metal", "pop", "rock"])["accuracy"] == pytest.approx(3 / 5)


def test_outer_summary_mean_and_spread() -> None:
    def run(acc: float, seed: int | None) -> dict:
        return {"seed": seed, "accuracy": acc, "auc_pr_macro": acc / 2, "auc_pr_micro": acc / 3}

    folds = [
        {"models": {"network": [run(0.6, 1), run(0.7, 2)], "knn": [run(0.5, None)]}},
        {"models": {"network": [run(0.8, 1), run(0.9, 2)], "knn": [run(0.7, None)]}},
    ]
    table = outer_evaluation.summarize(folds).set_index("model")
    assert table.loc["network", "accuracy_mean"] == pytest.approx(0.75)
    assert table.loc["network", "accuracy_std"] == pytest.approx(np.std([0.6, 0.7, 0.8, 0.9], ddof=1))
    assert table.loc["network", "accuracy_fold_std"] == pytest.approx(np.std([0.65, 0.85], ddof=1))
    assert table.loc["knn", "n_runs"] == 2 and list(table.index) == ["network", "knn"]
    assert "| network | 0.750 ± 0.129" in outer_evaluation.markdown(table.reset_index())
