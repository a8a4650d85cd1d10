"""The real workflow end to end, and its reruns.

The reruns, the report and the output permissions run on the generated data
(``tests/support/synthetic.py``) served by a real Oxigraph, so they run from a bare clone;
``test_end_to_end_on_real_data`` runs the workflow once more on ../shared (the real-data tier).
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.conftest import (
    REPO,
    SMALL_GRID,
    needs_shared,
    planned_jobs,
    run_workflow,
    small_config,
    without_timing,
    workflow_args,
    write_config,
)
from tests.support import rerun_walk
from tests.support.fault_proxy import FaultProxy
from workflow_scripts.core import footprint as footprint_lib
from workflow_scripts.core.fileio import sha256_file
from workflow_scripts.search import hpo

pytestmark = [pytest.mark.integration]
DRY_RUNS = [sys.executable, "-m", "tests.support.dry_runs"]  # many dry runs, Snakemake imported once
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
    scratch = tmp_path_factory.mktemp("tmpdir")  # the run's temporary folder, for test_jobs_leave_no_temporary_files
    run_workflow(workdir, configfile, umask=UMASK, env={"TMPDIR": str(scratch)})
    files = [p for folder in ("results", "cache") for p in (workdir / folder).rglob("*") if p.is_file()]
    modes = {p.relative_to(workdir).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in files}  # before any rerun
    left = sorted(p.name for p in scratch.rglob("*"))
    return {"workdir": workdir, "config": config, "configfile": configfile, "requests": proxy.total, "modes": modes, "tmp_left": left}


def test_end_to_end_metrics_and_report(finished: dict) -> None:
    workdir = finished["workdir"]
    assert_metrics(workdir, finished["config"])
    run_workflow(workdir, finished["configfile"], "--report", str(workdir / "report.html"))
    assert_report(workdir / "report.html")


@needs_shared
def test_end_to_end_on_real_data(small_run: dict) -> None:
    assert_metrics(small_run["workdir"], small_run["config"])
    assert_report(small_run["report"])


def test_jobs_leave_no_temporary_files(finished: dict) -> None:
    """The training jobs end with a fast exit (core/step.exit_now) that still runs the atexit
    handlers: TensorFlow's autograph removes the source file it wrote for each traced epoch."""
    assert finished["tmp_left"] == []


def test_outputs_get_the_permissions_of_the_umask(finished: dict) -> None:
    modes = finished["modes"]
    assert len(modes) > 50 and any(name.endswith(".keras") for name in modes) and any("/artists/" in name for name in modes)
    assert {name: oct(m) for name, m in modes.items() if m != 0o666 & ~UMASK} == {}


def assert_metrics(workdir: Path, config: dict) -> None:
    """The finished run's metrics beat chance and its tables agree."""
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


def assert_report(report: Path) -> None:
    """The report holds the run's figures."""
    html = report.read_text(errors="replace")
    assert "confusion_matrices.png" in html and "score_vs_gap.png" in html


def test_second_run_does_nothing(finished: dict) -> None:
    result = run_workflow(finished["workdir"], finished["configfile"], "--dry-run")
    assert "Nothing to be done" in result.stdout + result.stderr


def test_the_dataset_is_compared_by_its_bytes_not_its_time(finished: dict) -> None:
    """A CSV with a newer time and the same bytes (a share mounted again) reruns nothing; other
    bytes rerun validation and all that follows, in one run (nothing waits for a second)."""
    csv = Path(finished["config"]["dataset"]["path"])
    original, times = csv.read_bytes(), csv.stat()
    # Snakemake compares the checksums of inputs under 1 MB itself; the real CSV is 30 MB.
    dry_run = ("--dry-run", "--max-checksum-file-size", "1")
    try:
        os.utime(csv, ns=(times.st_atime_ns, times.st_mtime_ns + 3_600 * 10**9))
        same = run_workflow(finished["workdir"], finished["configfile"], *dry_run)
        assert planned_jobs(same) == {}, same.stdout[-2000:]
        csv.write_bytes(original + b"\n")  # an empty last line: other bytes, the same songs
        other = planned_jobs(run_workflow(finished["workdir"], finished["configfile"], *dry_run))
        assert other["validate_dataset"] == 1 and other["select_songs"] == 1 and other["evaluate"] == 1, other
    finally:
        csv.write_bytes(original)
        os.utime(csv, ns=(times.st_atime_ns, times.st_mtime_ns))


def test_a_wrong_pin_stops_the_run_before_any_job(finished: dict, tmp_path: Path) -> None:
    wrong = "0" * 64
    config = {**finished["config"], "dataset": {**finished["config"]["dataset"], "sha256": wrong}}
    result = run_workflow(finished["workdir"], write_config(tmp_path / "pin.yaml", config), "--dry-run", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and wrong in output and sha256_file(finished["config"]["dataset"]["path"]) in output
    assert "set dataset.sha256" in output and "Traceback" not in output and "Job stats" not in output


# Keys the walk sets to a value its schema alone does not make valid or telling: the value
# (a function of the walk's folder where it names a file) and companion changes the config
# checks require. Every other leaf gets another value made from its schema.
WALK_VALUES: dict[str, Any] = {
    "dataset.path": lambda config, folder, synthetic: str(shutil.copy(synthetic.csv, folder / "songs-copy.csv")),
    "dataset.sha256": lambda config, folder, synthetic: sha256_file(synthetic.csv),  # the right pin: reruns nothing
    "dataset.kaggle_handle": "someone/some-dataset",
    "dataset.url": "https://example.org/songs.csv",
    "labels.endpoint": "http://127.0.0.1:9/sparql",
    "baselines.svm.gamma": "auto",
    "predict.input": lambda config, folder, synthetic: str(synthetic.csv),
    # one more pattern for the last super-genre (dropping a super-genre would orphan genres.keep)
    "genres.super_genres": lambda config, folder, synthetic: [
        *config["genres"]["super_genres"][:-1],
        {**config["genres"]["super_genres"][-1], "patterns": [*config["genres"]["super_genres"][-1]["patterns"], "walk-pattern"]},
    ],
}
WALK_COMPANIONS: dict[str, Callable[[dict, Path, Any], dict[str, Any]]] = {
    # labels from a CSV need the CSV
    "labels.source": lambda config, folder, synthetic: {"labels.csv": str(_labels_csv(folder, synthetic))},
    # an artist-disjoint split refuses the artist id as a feature
    "split.group_by": lambda config, folder, synthetic: {
        "features.categorical": [c for c in config["features"]["categorical"] if c != "Artist"]
    },
}
# Keys whose walked value changes no result in the test's finished run, by design.
WALK_NO_EFFECT = {"grid.units_4": "the test grid has 2 hidden layers: units_4 builds no network"}


def _labels_csv(folder: Path, synthetic: Any) -> Path:
    songs = pd.read_csv(synthetic.csv, usecols=[0])
    path = folder / "labels.csv"
    pd.DataFrame({"row": songs.iloc[:, 0], "genre": "rock"}).to_csv(path, index=False)
    return path


def _walk_value(footprint: Any, node: dict[str, Any], config: dict, folder: Path, synthetic: Any) -> Any:
    """The key's new value: its WALK_VALUES entry, or another valid value from its schema ``node``."""
    special = WALK_VALUES.get(footprint.name)
    if callable(special):
        return special(config, folder, synthetic)
    if special is not None:
        return special
    return rerun_walk.other_value(node, footprint_lib.value_at(config, footprint.path))


def test_every_config_key_reruns_what_it_declares(finished: dict, synthetic, tmp_path: Path) -> None:
    """For each leaf key of the schema, another valid value plans exactly what the key's
    declared footprint says (schemas/config.schema.yaml: x-reruns, x-when): a run-time setting
    nothing, a key inactive in this run nothing, a result key some of its rules and nothing
    outside them and what follows them. Run-time and inactive keys are changed all at once
    (planning is monotone: if all together plan nothing, each alone does), result keys one by
    one; dry runs of the finished run, two at a time."""
    workdir, base = finished["workdir"], finished["config"]
    leaves = footprint_lib.leaves()
    assert len(leaves) > 60
    nodes = dict(footprint_lib.schema_leaves())

    def configfile(name: str, changes: dict[str, Any]) -> Path:
        config = copy.deepcopy(base)
        for key, value in changes.items():
            rerun_walk.set_at(config, key.split("."), value)
        return write_config(tmp_path / f"{name}.yaml", config)

    def changes_of(footprint: Any) -> dict[str, Any]:
        changes = {footprint.name: _walk_value(footprint, nodes[footprint.path], base, tmp_path, synthetic)}
        companion = WALK_COMPANIONS.get(footprint.name)
        return changes | (companion(base, tmp_path, synthetic) if companion else {})

    def plan_all(files: dict[str, Path]) -> dict[str, set[str]]:
        return dict(zip(files, map(set, _dry_runs(workdir, list(files.values()))), strict=True))

    # The rule graph: every rule the run may hold and what follows each (the base run, and the
    # modes that add rules: outer folds and predictions; successive halving in families).
    graphs = {
        "base": configfile("graph-base", {}),
        "outer": configfile("graph-outer", {"evaluation.outer_folds": True, "predict.input": str(synthetic.csv)}),
        "halving": configfile("graph-halving", {"search.strategy": "halving", "search.jobs": "family"}),
    }
    edges: set[tuple[str, str]] = set()
    for path in graphs.values():
        edges |= rerun_walk.rule_edges(run_workflow(workdir, path, "--rulegraph").stdout)
    in_run = {rule for edge in rerun_walk.rule_edges(run_workflow(workdir, graphs["base"], "--rulegraph").stdout) for rule in edge}

    quiet = [f for f in leaves if f.runtime or not footprint_lib.active(f, base) or f.name in WALK_NO_EFFECT]
    loud = [f for f in leaves if f not in quiet]
    together: dict[str, Any] = {}
    for footprint in quiet:
        together |= changes_of(footprint)
    files = {"quiet": configfile("quiet", together)} | {f.name: configfile(f.name, changes_of(f)) for f in loud}
    planned = plan_all(files)
    problems = []
    if planned["quiet"]:  # find the culprits one by one
        alone = plan_all({f.name: configfile(f"alone-{f.name}", changes_of(f)) for f in quiet})
        problems += [f"{name} (run-time, inactive or no effect here) planned {sorted(rules)}" for name, rules in alone.items() if rules]
    for footprint in loud:
        problems += rerun_walk.violations(footprint, base, planned[footprint.name], in_run, edges)
    assert not problems, "\n".join(problems)
    # the walk saw what it should: most keys plan something, run-time settings nothing
    assert len(loud) > 40 and sum(bool(planned[f.name]) for f in loud) == len(loud)


def _dry_runs(workdir: Path, configfiles: list[Path], parallel: int = 2) -> list[dict[str, int]]:
    """The jobs each dry run plans (``planned_jobs``), ``parallel`` at a time, all forked from one
    Snakemake process (``tests.support.dry_runs``: the import is most of a dry run's time)."""
    out = workdir.parent / f"{workdir.name}-dry-runs"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    common = [*workflow_args(workdir), "--cores", "2", "--dry-run", "--nolock"]
    commands = [arg for path in configfiles for arg in ("--", "--configfile", str(path))]
    # Bound: run_workflow's time-out for one dry run, 900 s, for the whole batch (~1 s a dry run).
    subprocess.run([*DRY_RUNS, str(out), str(parallel), "--", *common, *commands], check=True, timeout=900, cwd=REPO)
    results = []
    for i, path in enumerate(configfiles):
        rc, log = int((out / f"{i}.rc").read_text()), (out / f"{i}.log").read_text(errors="replace")
        assert rc == 0, f"the dry run with {path} failed ({rc}):\n{log[-6000:]}"
        results.append(planned_jobs(subprocess.CompletedProcess([], rc, log, "")))
    return results


def test_random_search_runs_are_reused_by_a_grid_run(finished: dict, tmp_path: Path) -> None:
    """search.strategy: random (n = 2) trains its draw in the grid's own files, so the grid run
    after it plans only the other 2 of its 4 networks (in a copy of the finished run, its
    networks and run cache removed)."""
    workdir = tmp_path / "random"
    shutil.copytree(finished["workdir"], workdir, symlinks=True)
    for folder in ("results/hpo/runs", "results/hpo/run_cache"):
        shutil.rmtree(workdir / folder, ignore_errors=True)
    target = "results/hpo/selection.json"
    search = {**finished["config"]["search"], "strategy": "random", "random": {"n": 2, "seed": 1}}
    random_config = write_config(tmp_path / "random.yaml", {**finished["config"], "search": search})
    assert planned_jobs(run_workflow(workdir, random_config, "--dry-run", target)).get("hpo_combination") == 2
    run_workflow(workdir, random_config, target)
    runs = workdir / "results/hpo/runs"
    drawn = {p.name: p.stat().st_mtime_ns for p in runs.glob("*.json")}
    assert len(drawn) == 2
    assert json.loads((workdir / target).read_text())["combo"] + ".json" in drawn
    grid = planned_jobs(run_workflow(workdir, write_config(tmp_path / "grid.yaml", finished["config"]), "--dry-run", target))
    assert grid.get("hpo_combination") == 2, grid  # the 4-network grid trains only the 2 not drawn
    assert {p.name: p.stat().st_mtime_ns for p in runs.glob("*.json")} == drawn


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


def executed_rules(result: subprocess.CompletedProcess[str]) -> set[str]:
    """The rules of the jobs a (non-dry) run executed, from Snakemake's log."""
    return set(re.findall(r"^(?:local)?(?:rule|checkpoint) (\w+):$", result.stdout + result.stderr, re.MULTILINE))


# The jobs after the search that rerun when its files change, whatever the choice: Snakemake
# plans them before aggregate_hpo runs (a checkpoint would stop only its direct dependents, and
# breaks group jobs on SLURM); train_network copies the network it trained before.
AFTER_THE_CHOICE = {"train_network", "evaluate", "bundle_model", "report_summary", "all"}


def test_switching_to_family_jobs_trains_nothing(finished: dict, tmp_path: Path) -> None:
    """search.jobs combination -> family: the family jobs run, but read every member's run from
    the run cache the combination jobs filled; the table and the choice come out byte-identical,
    and train_network copies the final network from the network cache."""
    workdir, results = finished["workdir"], finished["workdir"] / "results"
    alone = hpo.read_runs(sorted((results / "hpo/runs").glob("*.json")))
    identical = {p: p.read_bytes() for p in (results / "hpo/cv_results.csv", results / "hpo/selection.json")}
    network = {p: p.read_bytes() for p in (results / "models/network.keras", results / "models/network_history.json")}
    config = {**finished["config"], "search": {**finished["config"]["search"], "jobs": "family"}}
    start = time.perf_counter()
    result = run_workflow(workdir, write_config(tmp_path / "family.yaml", config))
    print(f"search.jobs combination -> family: {time.perf_counter() - start:.1f} s")
    ran = executed_rules(result)
    assert {"hpo_family", "aggregate_hpo"} <= ran and not ran - {"hpo_family", "aggregate_hpo"} - AFTER_THE_CHOICE, ran
    families = sorted((results / "hpo/families").glob("*.json"))
    assert len(families) == 4
    for path in families:
        timing = json.loads(path.read_text())["timing"]
        assert timing["combinations_reused"] == timing["combinations_in_job"] and timing["combinations_trained"] == 0, path
    assert hpo.read_runs(families) == alone  # the very runs, timings included
    assert {p: p.read_bytes() for p in identical} == identical
    assert {p: p.read_bytes() for p in network} == network
    assert "copied from" in (workdir / "results/logs/train_network.log").read_text()


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
        # The new patience value trains; the other member's run is the run cache's.
        assert family["timing"]["combinations_reused"] == family["timing"]["combinations_trained"] == 1, path
        runs.update(family["runs"])
    cv = pd.read_csv(workdir / "results/hpo/cv_results.csv")
    assert sorted(cv["combo"]) == sorted(runs) and len(runs) == 8

    alone = hpo.read_runs(sorted((workdir / "results/hpo/runs").glob("*.json")))
    shared = [combo for combo in runs if combo in alone]
    assert len(shared) == 4  # the patience-3 networks, trained alone by the first run
    for combo in shared:
        assert runs[combo] == alone[combo], combo  # reused as it is
    # Trained again in family jobs from an empty run cache, both members together: each run is
    # its own combination job's (patience 3), and the one its family trained it alone in (patience 1).
    shutil.move(workdir / "results/hpo/run_cache", tmp_path / "run_cache")
    run_workflow(workdir, configfile, "--forcerun", "hpo_family", *(str(p.relative_to(workdir)) for p in families))
    together = {}
    for path in families:
        family = json.loads(path.read_text())
        assert family["timing"]["combinations_trained"] == 2 and family["timing"]["combinations_reused"] == 0, path
        together.update(family["runs"])
    assert sorted(together) == sorted(runs)
    for combo, run in together.items():
        assert without_timing(run) == without_timing(alone.get(combo, runs[combo])), combo
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
