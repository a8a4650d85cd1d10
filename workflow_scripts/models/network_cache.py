"""The chosen network's final training (rule train_network), kept under a key of everything it
depends on, so that a rerun that chooses the same network trains nothing.

The search's packing (``search.jobs``, ``search.halving.jobs``) changes the files the choice is
read from, so Snakemake reruns train_network after it even when the choice comes out the same.
The step then looks the choice up in ``{results_dir}/models/network_cache/{key}.keras`` (and
``{key}.json``, its history) and copies the stored network instead of training it. The key is the
run cache's (:func:`workflow_scripts.search.run_cache.run_key`: the canonical hyperparameters,
``params.training``, the arrays file's SHA-256, the library versions, its format) with the budget
``{"final": "whole training set"}``, which no search run has. ``rm -r`` the folder to retrain.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workflow_scripts.core.fileio import atomic_path, write_json_atomic
from workflow_scripts.search import run_cache

# Under results_dir.
FOLDER = "models/network_cache"
FINAL_BUDGET = {"final": "whole training set"}


def network_key(params: Mapping[str, Any], training: Mapping[str, Any], arrays: str | Path) -> str:
    """The key of the final training of ``params`` on the arrays file ``arrays``."""
    return run_cache.run_key(params, training, FINAL_BUDGET, run_cache.arrays_digest(arrays))


class NetworkCache:
    """Final networks of ``folder``: ``{key}.keras`` and its history ``{key}.json``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def copy_to(self, key: str, model: str | Path, history: str | Path) -> dict[str, Any] | None:
        """Copy the stored network of ``key`` to ``model`` and return its history, or None when
        none is stored (or its history is unreadable or records another key)."""
        try:
            stored = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(stored, dict) or stored.pop("key", None) != key or not (self.folder / f"{key}.keras").is_file():
            return None
        with atomic_path(model) as tmp:
            shutil.copyfile(self.folder / f"{key}.keras", tmp)
        write_json_atomic(history, stored)
        return stored

    def put(self, key: str, model: str | Path, history: Mapping[str, Any]) -> None:
        """Store a copy of the saved network ``model`` and its ``history`` under ``key``."""
        with atomic_path(self.folder / f"{key}.keras") as tmp:
            shutil.copyfile(model, tmp)
        write_json_atomic(self.folder / f"{key}.json", {**history, "key": key})
