"""The grid: the study's 8,192 combinations are 6,144 networks; ids are stable."""

from __future__ import annotations

from tests.conftest import default_config
from workflow_scripts.search import grid


def test_default_grid_has_6144_unique_networks() -> None:
    study = default_config()["grid"]
    assert grid.count_combinations(study) == 8192
    combos = grid.expand(study)
    assert len(combos) == 6144
    assert all("units_4" not in p for p in combos.values() if p["num_hidden_layers"] == 2)


def test_ids_do_not_depend_on_the_rest_of_the_grid() -> None:
    small = grid.expand({"num_hidden_layers": [2], "units_1": [64], "units_2": [128], "units_3": [256], "units_4": [512]})
    wider = grid.expand({"num_hidden_layers": [2], "units_1": [64, 128], "units_2": [128], "units_3": [256], "units_4": [512, 1024]})
    assert set(small) <= set(wider)
    assert len(wider) == 2  # units_4 is unused with two hidden layers after the first


def test_ids_differ_for_different_networks() -> None:
    a = grid.combo_id({"num_hidden_layers": 3, "units_1": 64, "units_2": 128, "units_3": 256, "units_4": 512})
    b = grid.combo_id({"num_hidden_layers": 3, "units_1": 64, "units_2": 128, "units_3": 256, "units_4": 1024})
    assert a != b and len(a) == 12


def test_families_group_the_combinations_that_differ_only_in_callbacks() -> None:
    combos = grid.expand(default_config()["grid"])
    families = grid.families(combos)
    assert len(families) == 384 and {len(members) for members in families.values()} == {16}
    assert sorted(c for members in families.values() for c in members) == sorted(combos)
    assert not set(families) & set(combos)  # family ids never collide with combination ids
    for members in families.values():
        shared = [{k: v for k, v in combos[c].items() if k not in grid.CALLBACK_HYPERPARAMETERS} for c in members]
        assert all(s == shared[0] for s in shared)
        assert len({tuple(combos[c][k] for k in grid.CALLBACK_HYPERPARAMETERS) for c in members}) == 16
    # Ids are stable: a family keeps its id when the callback values change.
    fewer = grid.families(grid.expand({**default_config()["grid"], "early_stopping_patience": [15]}))
    assert set(fewer) == set(families)


def test_architecture_jobs_hold_a_family_at_every_batch_size() -> None:
    combos = grid.expand(default_config()["grid"])
    families = grid.families(combos)
    architectures = grid.families(combos, "architecture")
    assert len(architectures) == 96 and {len(members) for members in architectures.values()} == {64}
    assert not set(architectures) & set(families)  # switching modes never reuses a file
    for members in families.values():  # every family lies inside one architecture job
        assert sum(set(members) <= set(job) for job in architectures.values()) == 1
