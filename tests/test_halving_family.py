"""Successive halving with ``search.jobs: family``: round 0 packed by architecture (the default
``search.halving.jobs``), the last round into the grid's family jobs, a family of which only
some members survived trained as those members alone, its runs equal to the grid's family
job's, and a halving run after a grid run reusing the grid's files.

Runs from a bare clone: the generated dataset and Wikidata fixture (tests/support/synthetic.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SMALL_GRID, planned_jobs, run_workflow, small_config, without_timing, write_config
from workflow_scripts.search import grid, halving, hpo

pytestmark = [pytest.mark.integration]

# 2 architectures x 2 batch sizes x 4 callback settings = 16 networks in 4 families of 4 (2
# architectures of 8); factor 3: 16 -> 6.
GRID = {
    **SMALL_GRID,
    "activation": ["relu"],
    "batch_size": [256, 512],
    "early_stopping_patience": [2, 3],
    "reduce_lr_factor": [0.2, 0.5],
}
SEARCH = {"jobs": "family", "strategy": "halving", "halving": {"factor": 3, "resource": "epochs", "min_budget": 0.3}}
TARGETS = ("results/hpo/selection.json",)
# Each run trains at most 4 jobs of 4-8 small networks on a few hundred songs (seconds on
# a free core); the bound leaves room for a busy machine.
TIMEOUT = 1800


@pytest.fixture(scope="module")
def halved(tmp_path_factory: pytest.TempPathFactory, synthetic, synthetic_oxigraph) -> dict:
    workdir = tmp_path_factory.mktemp("halving-family")
    config = small_config(synthetic_oxigraph.url, workdir / "cache", dataset=synthetic.csv, grid=GRID, search=SEARCH)
    configfile = write_config(workdir / "config.yaml", config)
    run_workflow(workdir, configfile, *TARGETS, timeout=TIMEOUT)
    return {"workdir": workdir, "config": config, "configfile": configfile}


def _families() -> dict[str, list[str]]:
    return grid.families(grid.expand(GRID), "family")


def test_round_0_is_packed_by_architecture_and_a_partly_surviving_family_trains_its_survivors(halved: dict) -> None:
    hpo_dir = halved["workdir"] / "results/hpo"
    families = _families()
    assert sorted(len(m) for m in families.values()) == [4, 4, 4, 4]
    round0 = sorted((hpo_dir / "halving/round0/families").glob("*.json"))
    architectures = grid.families(grid.expand(GRID), "architecture")
    assert sorted(p.name.split("-")[0] for p in round0) == sorted(architectures)  # one job per architecture, all at 2 epochs
    runs0 = hpo.read_runs(round0)
    assert sorted(runs0) == sorted(grid.expand(GRID))
    assert all(fold["epochs"] <= 2 for run in runs0.values() for fold in run["folds"])
    summary = json.loads((hpo_dir / "halving/round0.json").read_text())
    assert summary["survivors"] == halving.survivors(hpo.collect(round0), 3) and len(summary["survivors"]) == 6
    # The last round: per family, its survivors; a whole family writes the grid's own file.
    expected = grid.round_jobs(summary["survivors"], families)
    # At 2 epochs no callback has acted: a family's members tie; 4 + 2 of two families survive.
    assert any(len(members) < len(families[family]) for family, members in expected.items()), expected
    final_files = sorted((hpo_dir / "halving/round1/families").glob("*.json")) + sorted((hpo_dir / "families").glob("*.json"))
    assert len(final_files) == len(expected)
    for family, members in expected.items():
        whole = len(members) == len(families[family])
        path = (
            hpo_dir / ("families" if whole else "halving/round1/families") / (family if whole else f"{family}-{grid.members_id(members)}")
        )
        assert sorted(hpo.read_runs([path.with_suffix(".json")])) == sorted(members), family
    final = hpo.read_runs(final_files)
    assert all(run.get("budget") is None for run in final.values())
    selection = json.loads((hpo_dir / "selection.json").read_text())
    assert selection["strategy"] == "halving" and selection["combo"] in summary["survivors"]


def test_the_grid_retrains_a_partial_family_to_the_same_runs_and_halving_then_reuses_the_grid(halved: dict, tmp_path: Path) -> None:
    workdir, hpo_dir = halved["workdir"], halved["workdir"] / "results/hpo"
    final_files = sorted((hpo_dir / "halving/round1/families").glob("*.json")) + sorted((hpo_dir / "families").glob("*.json"))
    halving_final = hpo.read_runs(final_files)
    gridfile = write_config(tmp_path / "grid.yaml", {**halved["config"], "search": {"jobs": "family", "strategy": "grid"}})
    run_workflow(workdir, gridfile, *TARGETS, timeout=TIMEOUT)
    grid_runs = hpo.read_runs(sorted((hpo_dir / "families").glob("*.json")))
    assert len(grid_runs) == 16
    # A network's full-budget run is the same whether its family trained all members or only
    # the survivors: the members share their epochs until their callbacks differ.
    for combo, run in halving_final.items():
        assert without_timing(run) == without_timing(grid_runs[combo]), combo
    # Halving after the grid: its last round reads the grid's family files, nothing trains.
    (hpo_dir / "selection.json").unlink()
    jobs = planned_jobs(run_workflow(workdir, halved["configfile"], "--dry-run", *TARGETS))
    assert not {"hpo_round_family", "hpo_family"} & set(jobs) and jobs.get("aggregate_hpo") == 1
