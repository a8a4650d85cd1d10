"""Successive halving (search.strategy: halving): the rounds' plan and survivors, and the real
workflow on a 9-combination grid (factor 3, two rounds: 2 epochs, then the full 6)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import (
    DATASET_CSV,
    SHARED,
    SMALL_GRID,
    needs_shared,
    planned_jobs,
    run_workflow,
    small_config,
    without_timing,
    write_config,
)
from workflow_scripts.search import grid, halving
from workflow_scripts.search import hpo as hpo_lib

# 9 networks (3 widths x 3 dropout rates): 9 -> 3 with factor 3.
GRID = {**SMALL_GRID, "units_3": [16, 32, 64], "dropout_rate": [0.2, 0.3, 0.4], "activation": ["relu"]}
# One job per network in every round (search.halving.jobs: combination; the default packs the
# rounds before the last by architecture: tests/test_halving_family.py).
HALVING = {"strategy": "halving", "halving": {"factor": 3, "resource": "epochs", "min_budget": 0.3, "jobs": "combination"}}


def test_plan_ends_at_the_full_budget_and_keeps_a_third_each_round() -> None:
    rounds = halving.plan(192, 3, 0.037, "epochs", 200, 3)
    assert [(r.budget, r.n_candidates) for r in rounds] == [(7, 192), (22, 64), (67, 22), (200, 8)]
    assert rounds[-1].final and rounds[-1].budget_spec() is None and rounds[0].budget_spec() == {"resource": "epochs", "value": 7}
    assert [r.budget for r in halving.plan(9, 3, 0.3, "epochs", 6, 3)] == [2, 6]
    assert [r.budget for r in halving.plan(192, 3, 0.1, "folds", 200, 3)] == [1, 3]  # folds: at most one per round
    assert [r.n_candidates for r in halving.plan(9, 3, 0.01, "rows", 200, 3)] == [9, 3, 1]  # no more rounds than candidates need


def test_survivors_are_the_best_third_with_the_choice_tie_order() -> None:
    cv = pd.DataFrame(
        {
            "combo": ["e", "d", "c", "b", "a"],
            "mean_val_accuracy": [0.5, 0.7, 0.7, 0.7, 0.6],
            "std_val_accuracy": [0.0, 0.01, 0.02, 0.01, 0.0],
        }
    )
    assert halving.survivors(cv, 3) == ["b", "d"]  # ceil(5 / 3); equal mean: lower std, then id


def test_budgets_reduce_what_is_trained() -> None:
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), [30, 60, 90])
    arrays = {"n_folds": np.asarray(3)}
    for k in range(3):
        arrays |= {f"X_fit_{k}": rng.normal(size=(180, 2)), f"y_fit_{k}": y}
    same, epochs = halving.apply_budget(arrays, 50, None, 42)
    assert epochs == 50 and all(same[k] is arrays[k] for k in arrays)
    assert halving.apply_budget(arrays, 50, {"resource": "epochs", "value": 7}, 42)[1] == 7
    assert int(halving.apply_budget(arrays, 50, {"resource": "folds", "value": 1}, 42)[0]["n_folds"]) == 1
    rows, _ = halving.apply_budget(arrays, 50, {"resource": "rows", "value": 1 / 3}, 42)
    assert np.bincount(rows["y_fit_0"]).tolist() == [10, 20, 30]  # stratified
    assert not np.array_equal(rows["X_fit_0"], rows["X_fit_1"][: len(rows["X_fit_0"])])  # seeded per fold


def test_members_id_names_a_set() -> None:
    assert grid.members_id(["b", "a"]) == grid.members_id(["a", "b"]) != grid.members_id(["a"])


def _config(workdir: Path, **changes) -> dict:
    return small_config(
        "http://127.0.0.1:9/unused",
        workdir / "cache",
        labels={"source": "csv", "csv": str(SHARED / "reference" / "seed_selection.csv")},
        genres={"keep": ["classic", "metal", "rock", "hip hop", "electronic", "pop"]},
        grid=GRID,
        **changes,
    )


TARGETS = ("results/hpo/selection.json", "results/hpo/halving_rounds.png")
# The workflow runs here train 12, 3 and 2 small networks (a few seconds each on a free core);
# the bound leaves room for a busy machine.
TIMEOUT = 2400


@pytest.fixture(scope="module")
def halved(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if not DATASET_CSV.exists() or not (SHARED / "reference" / "seed_selection.csv").exists():
        pytest.skip(f"needs the shared data at {SHARED}")
    workdir = tmp_path_factory.mktemp("halving")
    config = _config(workdir, search=HALVING)
    configfile = write_config(workdir / "config.yaml", config)
    run_workflow(workdir, configfile, *TARGETS, timeout=TIMEOUT)
    return {"workdir": workdir, "config": config, "configfile": configfile}


def _mean_std(run: dict) -> tuple[float, float]:
    scores = [fold["val_accuracy"] for fold in run["folds"]]
    return float(np.mean(scores)), float(np.std(scores))


@needs_shared
@pytest.mark.integration
def test_each_round_keeps_the_best_third(halved: dict) -> None:
    hpo = halved["workdir"] / "results/hpo"
    combos = grid.expand(GRID)
    round0 = hpo_lib.read_runs(sorted((hpo / "halving/round0/runs").glob("*.json")))
    assert sorted(round0) == sorted(combos)
    assert all(fold["epochs"] <= 2 for run in round0.values() for fold in run["folds"])
    assert all(run["budget"] == {"resource": "epochs", "value": 2.0} for run in round0.values())
    # The survivors, recomputed from the round's own runs: best mean, then lower std, then id.
    order = sorted(round0, key=lambda c: (-_mean_std(round0[c])[0], _mean_std(round0[c])[1], c))
    summary = json.loads((hpo / "halving/round0.json").read_text())
    assert summary["survivors"] == order[:3]
    # The last round trains exactly the survivors, at the full budget, where the grid writes.
    assert sorted(p.stem for p in (hpo / "runs").glob("*.json")) == sorted(order[:3])
    cv = pd.read_csv(hpo / "cv_results.csv")
    assert sorted(zip(cv["iter"], cv["n_resources"], strict=True)) == [(0, 2.0)] * 9 + [(1, 6.0)] * 3
    assert sorted(cv.loc[cv["iter"] == 1, "combo"]) == sorted(order[:3])
    selection = json.loads((hpo / "selection.json").read_text())
    assert selection["strategy"] == "halving" and selection["round"] == 1 and selection["combo"] in order[:3]
    final = cv[cv["iter"] == 1]
    eligible = final[final["gap"] <= selection["max_gap"]]
    if len(eligible):
        assert math.isclose(selection["mean_val_accuracy"], eligible["mean_val_accuracy"].max())
    assert (hpo / "halving_rounds.png").stat().st_size > 10_000


@needs_shared
@pytest.mark.integration
def test_last_round_is_the_grids_own_run_and_the_grid_reuses_it(halved: dict, tmp_path: Path) -> None:
    workdir = halved["workdir"]
    runs = workdir / "results/hpo/runs"
    survivors = sorted(p.stem for p in runs.glob("*.json"))
    gridfile = write_config(tmp_path / "grid.yaml", {**halved["config"], "search": {"strategy": "grid"}})
    # A full grid afterwards trains only the combinations halving did not take to the end.
    jobs = planned_jobs(run_workflow(workdir, gridfile, "--dry-run", "results/hpo/selection.json"))
    assert jobs["hpo_combination"] == 9 - len(survivors) and "hpo_round_combination" not in jobs
    # The grid's own jobs for the survivors write the same runs, timings aside.
    kept = tmp_path / "halving-runs"
    shutil.copytree(runs, kept)
    for combo in survivors:
        (runs / f"{combo}.json").unlink()
    run_workflow(workdir, gridfile, *(f"results/hpo/runs/{combo}.json" for combo in survivors), timeout=TIMEOUT)
    for combo in survivors:
        halved_run = json.loads((kept / f"{combo}.json").read_text())
        grid_run = json.loads((runs / f"{combo}.json").read_text())
        assert without_timing(halved_run) == without_timing(grid_run), combo


@needs_shared
@pytest.mark.integration
def test_rerun_after_an_interrupted_round_trains_only_what_is_missing(halved: dict) -> None:
    workdir, hpo = halved["workdir"], halved["workdir"] / "results/hpo"
    round0 = sorted((hpo / "halving/round0/runs").glob("*.json"))
    final = sorted((hpo / "runs").glob("*.json"))
    # As after a stop in round 0: one of its jobs and its summary missing, nothing after it.
    lost, lost_final = round0[0], final[0]
    for path in (lost, lost_final, hpo / "halving/round0.json", hpo / "cv_results.csv", hpo / "selection.json"):
        path.unlink()
    before = {p: p.stat().st_mtime_ns for p in [*round0, *final] if p.exists()}
    jobs = planned_jobs(run_workflow(workdir, halved["configfile"], "--dry-run", *TARGETS))
    assert jobs["hpo_round_combination"] == 1 and jobs["halving_round"] == 1
    run_workflow(workdir, halved["configfile"], *TARGETS, timeout=TIMEOUT)
    assert lost.exists() and lost_final.exists()
    assert all(p.stat().st_mtime_ns == mtime for p, mtime in before.items())  # nothing else retrained
    assert "Nothing to be done" in (lambda r: r.stdout + r.stderr)(run_workflow(workdir, halved["configfile"], "--dry-run", *TARGETS))
