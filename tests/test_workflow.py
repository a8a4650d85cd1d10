"""The real workflow end to end, and its reruns.

The reruns, the report and the output permissions run on the generated data
(``tests/support/synthetic.py``) served by a real Oxigraph, so they run from a bare clone;
``test_end_to_end_on_real_data`` runs the workflow once more on ../shared (the real-data tier).
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import SMALL_GRID, needs_shared, planned_jobs, run_workflow, small_config, without_timing, write_config
from tests.support.fault_proxy import FaultProxy
from workflow_scripts.search import hpo

pytestmark = [pytest.mark.integration]
UMASK = 0o027  # the first run's: every output must be readable by the group, as plain open() makes it


@pytest.fixture(scope="module")
def proxy(synthetic_oxigraph):
    """A clean pass-through proxy in front of Oxigraph: it counts the requests that reach the server."""
    with FaultProxy(synthetic_oxigraph.url) as counting:
        yield counting


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, proxy, synthetic) -> dict:
    workdir = tmp_path_factory.mktemp("workflow")
    config = small_config(proxy.url, workdir / "cache", dataset=synthetic.csv)
    configfile = write_config(workdir / "config.yaml", config)
    run_workflow(workdir, configfile, umask=UMASK)
    files = [p for folder in ("results", "cache") for p in (workdir / folder).rglob("*") if p.is_file()]
    modes = {p.relative_to(workdir).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in files}  # before any rerun
    return {"workdir": workdir, "config": config, "configfile": configfile, "requests": proxy.total, "modes": modes}


def test_end_to_end_metrics_and_report(finished: dict) -> None:
    assert_metrics_and_report(finished["workdir"], finished["config"], finished["configfile"])


@needs_shared
def test_end_to_end_on_real_data(oxigraph, tmp_path_factory: pytest.TempPathFactory) -> None:
    workdir = tmp_path_factory.mktemp("workflow-real")
    config = small_config(oxigraph.url, workdir / "cache")
    configfile = write_config(workdir / "config.yaml", config)
    run_workflow(workdir, configfile)
    assert_metrics_and_report(workdir, config, configfile)


def test_outputs_get_the_permissions_of_the_umask(finished: dict) -> None:
    modes = finished["modes"]
    assert len(modes) > 50 and any(name.endswith(".keras") for name in modes) and any("/artists/" in name for name in modes)
    assert {name: oct(m) for name, m in modes.items() if m != 0o666 & ~UMASK} == {}


def assert_metrics_and_report(workdir: Path, config: dict, configfile: Path) -> None:
    """The finished run's metrics beat chance, its tables agree, and its report holds the figures."""
    metrics = json.loads((workdir / "results/evaluation/metrics.json").read_text())
    assert {"network", "knn", "svm", "artist lookup"} <= set(metrics["models"])
    assert metrics["classes"] == sorted(config["genres"]["keep"])
    for name in ("network", "knn", "svm"):
        result = metrics["models"][name]
        assert 1 / len(metrics["classes"]) < result["accuracy"] <= 1  # better than chance
        assert 0 < result["auc_pr_macro"] <= 1 and 0 < result["auc_pr_micro"] <= 1
        assert sum(map(sum, result["confusion"])) == metrics["n_test"]
    cv = pd.read_csv(workdir / "results/hpo/cv_results.csv")
    assert len(cv) == 4 and cv["mean_val_accuracy"].between(0, 1).all()
    selection = json.loads((workdir / "results/hpo/selection.json").read_text())
    assert selection["combo"] in set(cv["combo"]) and selection["reason"]
    counts = pd.read_csv(workdir / "results/genres/genre_counts.csv")
    assert set(counts["genre"]) == set(config["genres"]["keep"]) and counts["songs"].max() <= 150
    run_workflow(workdir, configfile, "--report", str(workdir / "report.html"))
    html = (workdir / "report.html").read_text(errors="replace")
    assert "confusion_matrices.png" in html and "score_vs_gap.png" in html


def test_second_run_does_nothing(finished: dict) -> None:
    result = run_workflow(finished["workdir"], finished["configfile"], "--dry-run")
    assert "Nothing to be done" in result.stdout + result.stderr


def test_rerun_sends_no_query_for_cached_artists(finished: dict, proxy) -> None:
    workdir = finished["workdir"]
    before = (workdir / "results/labels/artist_genres.csv").read_text()
    asked = proxy.total
    assert finished["requests"] > 0
    run_workflow(workdir, finished["configfile"], "--forcerun", "label_artists", "--until", "label_artists")
    assert proxy.total == asked
    assert (workdir / "results/labels/artist_genres.csv").read_text() == before


def test_changing_genres_keep_reruns_select_songs_and_what_follows(finished: dict, tmp_path: Path) -> None:
    config = {**finished["config"], "genres": {**finished["config"]["genres"], "keep": ["metal", "rock", "hip hop", "pop"]}}
    jobs = planned_jobs(run_workflow(finished["workdir"], write_config(tmp_path / "keep.yaml", config), "--dry-run"))
    assert "validate_dataset" not in jobs and "label_artists" not in jobs
    assert jobs["select_songs"] == 1 and jobs["hpo_combination"] == 4 and jobs["evaluate"] == 1


# What a change of the grid reruns after the grid-search jobs themselves.
AFTER_GRID = {"write_grid": 1, "aggregate_hpo": 1, "train_network": 1, "evaluate": 1, "bundle_model": 1, "report_summary": 1, "all": 1}


def test_new_grid_value_trains_only_new_combinations(finished: dict, tmp_path: Path) -> None:
    workdir = finished["workdir"]
    runs = workdir / "results/hpo/runs"
    before = {p.name: p.stat().st_mtime_ns for p in runs.glob("*.json")}
    grid = {**SMALL_GRID, "units_3": [*SMALL_GRID["units_3"], 16]}
    configfile = write_config(tmp_path / "wider.yaml", {**finished["config"], "grid": grid})
    jobs = planned_jobs(run_workflow(workdir, configfile, "--dry-run"))
    assert jobs == {"hpo_combination": 2, **AFTER_GRID}
    run_workflow(workdir, configfile)
    after = {p.name: p.stat().st_mtime_ns for p in runs.glob("*.json")}
    assert len(after) == 6 and all(after[name] == mtime for name, mtime in before.items())
    assert len(pd.read_csv(workdir / "results/hpo/cv_results.csv")) == 6


def test_family_jobs_give_each_combination_its_own_result(finished: dict, tmp_path: Path) -> None:
    """search.jobs: family trains the networks that differ only in callbacks in one job; each
    combination's folds are those of its own hpo_combination job (timings aside)."""
    workdir = finished["workdir"]
    grid = {**SMALL_GRID, "early_stopping_patience": [3, 1]}
    config = {**finished["config"], "grid": grid, "search": {"jobs": "family"}}
    configfile = write_config(tmp_path / "family.yaml", config)
    jobs = planned_jobs(run_workflow(workdir, configfile, "--dry-run"))
    assert jobs == {"hpo_family": 4, **AFTER_GRID}
    run_workflow(workdir, configfile)
    families = sorted((workdir / "results/hpo/families").glob("*.json"))
    assert len(families) == 4
    runs = {}
    for path in families:
        family = json.loads(path.read_text())
        assert len(family["runs"]) == 2 and family["timing"]["combinations_in_job"] == 2
        runs.update(family["runs"])
    cv = pd.read_csv(workdir / "results/hpo/cv_results.csv")
    assert sorted(cv["combo"]) == sorted(runs) and len(runs) == 8

    alone = hpo.read_runs(sorted((workdir / "results/hpo/runs").glob("*.json")))
    shared = [combo for combo in runs if combo in alone]
    assert len(shared) == 4  # the patience-3 networks, trained alone by the first run
    for combo in shared:
        assert without_timing(runs[combo]) == without_timing(alone[combo]), combo
    # A new value of a setting that is not a callback adds families; the others stay.
    wider = write_config(tmp_path / "wider.yaml", {**config, "grid": {**grid, "dropout_rate": [0.3, 0.4]}})
    assert planned_jobs(run_workflow(workdir, wider, "--dry-run"))["hpo_family"] == 4
    # search.jobs: architecture puts the batch sizes of an architecture in one job too.
    batches = {**config, "grid": {**grid, "batch_size": [256, 512]}}
    for jobs, expected in (("family", 8), ("architecture", 4)):
        planned = planned_jobs(
            run_workflow(workdir, write_config(tmp_path / f"{jobs}.yaml", {**batches, "search": {"jobs": jobs}}), "--dry-run", "--forceall")
        )
        assert planned["hpo_family"] == expected, jobs
