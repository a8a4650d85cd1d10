"""The run cache: each network's run stored under a key of everything it depends on.

A network's run is the same whichever job trained it, so a training job (rules hpo_combination,
hpo_family, hpo_round_combination, hpo_round_family) looks up each member's key in
``{results_dir}/hpo/run_cache/{key}.json`` before training, reuses the hits as they are and
trains only the misses. Snakemake does not manage the folder (it deletes a job's own outputs
before rerunning the job; a packed job's output is per pack), so runs outlive a change of
packing (``search.jobs``, ``search.halving.jobs``), a wider grid, and an interrupted job.

The key (:func:`run_key`) covers the canonical hyperparameters, the training settings of
``params.training``, the budget (None: the full budget), the SHA-256 of the input arrays file,
the versions of the numerical libraries and :data:`FORMAT`: a stale run is never reused. The
stored run records its key; the job's output holds the run as it always did.
Bump :data:`FORMAT` when the training code changes what a run is; ``rm -r`` the folder to
retrain everything. Nothing here imports TensorFlow: a job whose members all hit trains nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workflow_scripts.core.fileio import sha256_file, write_json_atomic
from workflow_scripts.core.versions import installed_versions
from workflow_scripts.search.grid import canonical

log = logging.getLogger(__name__)

# The version of what a run is; part of every key, so bumping it retires every cached run.
FORMAT = 1
# Under results_dir.
FOLDER = "hpo/run_cache"
# The distributions whose numerics a run depends on (the ones installed are in the key).
LIBRARIES = ("tensorflow", "tensorflow-cpu", "keras", "numpy")


def cache_folder(results_dir: str | Path) -> Path:
    """The cache's folder under ``results_dir`` (``snakemake.config["results_dir"]``)."""
    return Path(results_dir) / FOLDER


def arrays_digest(path: str | Path) -> str:
    """The SHA-256 of the input arrays file's bytes (``features/arrays.npz``)."""
    return sha256_file(path)


def library_versions() -> dict[str, str]:
    """The installed versions of :data:`LIBRARIES` (read from their metadata, not imported)."""
    return installed_versions(LIBRARIES)


def key_ingredients(
    params: Mapping[str, Any],
    training: Mapping[str, Any],
    budget: Mapping[str, Any] | None,
    digest: str,
    libraries: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """What a run depends on: the record :func:`run_key` hashes (``libraries``: by default
    :func:`library_versions`)."""
    return {
        "format": FORMAT,
        "hyperparameters": canonical(params),
        "training": dict(training),
        "budget": dict(budget) if budget else None,  # {} and None: the full budget
        "arrays_sha256": digest,
        "libraries": dict(library_versions() if libraries is None else libraries),
    }


def run_key(
    params: Mapping[str, Any],
    training: Mapping[str, Any],
    budget: Mapping[str, Any] | None,
    digest: str,
    libraries: Mapping[str, str] | None = None,
) -> str:
    """The run's key: the SHA-256 of :func:`key_ingredients` as canonical JSON."""
    text = json.dumps(key_ingredients(params, training, budget, digest, libraries), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class RunCache:
    """The runs of ``folder``, one file per key. A stored run records its key (``"key"``),
    checked on every lookup; the runs handed out are as a job writes them (without it: a run
    is the same whatever the arrays file's bytes, e.g. in another working directory)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def path(self, key: str) -> Path:
        """Where the run of ``key`` is stored."""
        return self.folder / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored run of ``key`` (without its key), or None: absent, unreadable, or
        recording another key."""
        path = self.path(key)
        try:
            with open(path, encoding="utf-8") as handle:
                run = json.load(handle)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            log.warning("run cache: %s unreadable (%s); training it again", path, error)
            return None
        if not isinstance(run, dict) or run.pop("key", None) != key or "folds" not in run:
            log.warning("run cache: %s is not the run of its key; training it again", path)
            return None
        return run

    def put(self, key: str, run: Mapping[str, Any]) -> None:
        """Store ``run`` under ``key``, recording the key, atomically (mode from the umask)."""
        write_json_atomic(self.path(key), {**run, "key": key})
