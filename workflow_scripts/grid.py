"""The hyperparameter grid: expansion, merging of equivalent networks, stable ids, families."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any

HYPERPARAMETERS = (
    "num_hidden_layers",
    "units_1",
    "units_2",
    "units_3",
    "units_4",
    "dropout_rate",
    "activation",
    "batch_size",
    "early_stopping_patience",
    "reduce_lr_factor",
    "reduce_lr_min_lr",
    "reduce_lr_patience",
)
# Settings that act only between epochs (Keras callbacks): combinations that differ only in
# these train identically until their callbacks first disagree.
CALLBACK_HYPERPARAMETERS = ("early_stopping_patience", "reduce_lr_factor", "reduce_lr_min_lr", "reduce_lr_patience")
# What the combinations of one job may differ in (config `search.jobs`): a "family" shares
# its common epochs; an "architecture" (its families at every batch size) shares its traced
# graph and its process.
VARYING_IN_A_JOB = {
    "family": CALLBACK_HYPERPARAMETERS,
    "architecture": (*CALLBACK_HYPERPARAMETERS, "batch_size"),
}


def canonical(params: Mapping[str, Any]) -> dict[str, Any]:
    """The combination with unused width settings removed.

    The network has a first layer (``units_1``) and ``num_hidden_layers`` more
    (``units_2`` ...), so ``units_k`` for ``k > num_hidden_layers + 1`` changes nothing.
    """
    used = int(params["num_hidden_layers"]) + 1
    return {k: v for k, v in params.items() if not (k.startswith("units_") and int(k.split("_")[1]) > used)}


def combo_id(params: Mapping[str, Any]) -> str:
    """A short hash of the canonical combination: the same network always has the same id."""
    text = json.dumps(canonical(params), sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def family_id(params: Mapping[str, Any], jobs: str = "family") -> str:
    """A short hash of the combination without the settings that vary in a job of kind
    ``jobs`` (VARYING_IN_A_JOB): the id of the job that trains it."""
    shared = {k: v for k, v in canonical(params).items() if k not in VARYING_IN_A_JOB[jobs]}
    return combo_id({**shared, "jobs": jobs})  # never equal to a combination's id


def families(combos: Mapping[str, Mapping[str, Any]], jobs: str = "family") -> dict[str, list[str]]:
    """The combinations (ids, in order) that one job of kind ``jobs`` trains, keyed by the
    job's id, in a stable order."""
    grouped: dict[str, list[str]] = {}
    for combo, params in combos.items():
        grouped.setdefault(family_id(params, jobs), []).append(combo)
    return grouped


def expand(grid: Mapping[str, Sequence[Any]]) -> dict[str, dict[str, Any]]:
    """All unique networks of a grid, keyed by id, in a stable order."""
    names = list(grid)
    combos: dict[str, dict[str, Any]] = {}
    for values in itertools.product(*(grid[n] for n in names)):
        params = canonical(dict(zip(names, values, strict=True)))
        combos.setdefault(combo_id(params), params)
    return combos


def count_combinations(grid: Mapping[str, Sequence[Any]]) -> int:
    """The size of the full grid before merging."""
    total = 1
    for values in grid.values():
        total *= len(values)
    return total
