"""The hyperparameter grid: expansion, merging of equivalent networks, stable ids, families."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any


class Role(Enum):
    """What a hyperparameter changes in training, which decides what can be shared."""

    ARCHITECTURE = "architecture"  # the network's graph: layers, widths, activation, dropout
    BATCH = "batch"  # an input of the traced epoch: one graph serves every batch size
    CALLBACK = "callback"  # acts only between epochs (Keras callbacks)


# The grid's hyperparameters, in the config's order, and their roles: the one definition that
# grid.py (job packing), model.py (the traced graph, shared epochs) and hpo.py rely on.
ROLES: dict[str, Role] = {
    "num_hidden_layers": Role.ARCHITECTURE,
    "units_1": Role.ARCHITECTURE,
    "units_2": Role.ARCHITECTURE,
    "units_3": Role.ARCHITECTURE,
    "units_4": Role.ARCHITECTURE,
    "dropout_rate": Role.ARCHITECTURE,
    "activation": Role.ARCHITECTURE,
    "batch_size": Role.BATCH,
    "early_stopping_patience": Role.CALLBACK,
    "reduce_lr_factor": Role.CALLBACK,
    "reduce_lr_min_lr": Role.CALLBACK,
    "reduce_lr_patience": Role.CALLBACK,
}
HYPERPARAMETERS = tuple(ROLES)


def with_role(*roles: Role) -> tuple[str, ...]:
    """The hyperparameters of the given roles, in the config's order."""
    return tuple(name for name, role in ROLES.items() if role in roles)


# Settings that act only between epochs (Keras callbacks): combinations that differ only in
# these train identically until their callbacks first disagree.
CALLBACK_HYPERPARAMETERS = with_role(Role.CALLBACK)
# What the combinations of one job may differ in (config `search.jobs`): a "family" shares
# its common epochs; an "architecture" (its families at every batch size) shares its traced
# graph and its process.
VARYING_IN_A_JOB = {
    "family": CALLBACK_HYPERPARAMETERS,
    "architecture": with_role(Role.CALLBACK, Role.BATCH),
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


def round_jobs(candidates: Sequence[str], families: Mapping[str, Sequence[str]] | None) -> dict[str, list[str]]:
    """The candidates grouped by the grid job that trains them (``families``; None: one job
    per combination), in the grid's order: the one place that decides a job's members."""
    if families is None:
        return {c: [c] for c in candidates}
    wanted = set(candidates)
    jobs: dict[str, list[str]] = {}
    for job, members in families.items():
        inside = [c for c in members if c in wanted]
        if inside:
            jobs[job] = inside
    return jobs


def members_id(members: Sequence[str]) -> str:
    """A short hash of a set of combination ids: names the job that trains only some members
    of a family (a later round's survivors, a random draw), so other members are another file."""
    return hashlib.sha1(json.dumps(sorted(members)).encode()).hexdigest()[:12]


def pack_members(pack: Sequence[str], candidates: Sequence[str], expected_id: str) -> list[str]:
    """The members of ``pack`` among ``candidates`` (as :func:`round_jobs` groups them), checked
    against the id in the job's file name."""
    members = round_jobs(candidates, {"pack": pack}).get("pack", [])
    if members_id(members) != expected_id:
        raise ValueError(f"the candidates of pack {list(pack)} hash to {members_id(members)}, not {expected_id}")
    return members
