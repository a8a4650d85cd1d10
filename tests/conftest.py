"""Shared fixtures: the read-only ../shared data, a real Oxigraph server, workflow runs."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GENRE_FACTOR_SHARED", REPO.parent / "shared"))
DATASET_CSV = SHARED / "data" / "Spotify_Youtube.csv"
WIKIDATA_NT = SHARED / "wikidata" / "wikidata-artists.nt.gz"
SNAKEMAKE = [sys.executable, "-m", "snakemake"]

needs_shared = pytest.mark.skipif(
    not DATASET_CSV.exists() or not WIKIDATA_NT.exists(),
    reason=f"needs the shared data at {SHARED} (data/Spotify_Youtube.csv, wikidata/wikidata-artists.nt.gz); "
    "place ../shared beside the repository or set GENRE_FACTOR_SHARED",
)


def deep_update(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Recursively merge ``changes`` into a copy of ``base``."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = deep_update(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def default_config() -> dict[str, Any]:
    return yaml.safe_load((REPO / "config.yaml").read_text())


SMALL_GRID = {
    "num_hidden_layers": [2],
    "units_1": [32],
    "units_2": [32],
    "units_3": [32, 64],
    "units_4": [64],
    "dropout_rate": [0.3],
    "activation": ["LeakyReLU", "relu"],
    "batch_size": [256],
    "early_stopping_patience": [3],
    "reduce_lr_factor": [0.5],
    "reduce_lr_patience": [2],
    "reduce_lr_min_lr": [1.0e-5],
}


def without_timing(value: Any) -> Any:
    """Drop wall-clock fields (any key with "seconds", and "timing"): they differ run to run."""
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if "seconds" not in k and k != "timing"}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def small_config(endpoint: str, cache_dir: Path, **changes: Any) -> dict[str, Any]:
    """The default config on the shared CSV and a local endpoint, with a 4-network grid."""
    base = {
        "dataset": {"source": "path", "path": str(DATASET_CSV)},
        "labels": {
            "endpoint": endpoint,
            "cache_dir": str(cache_dir),
            "contact": "genre-factor tests <ci@example.org>",
            "retry": {"backoff_base_s": 0.05, "backoff_max_s": 0.5},
        },
        "genres": {"sampling": {"method": "cap", "cap": 150, "seed": 42}},
        "training": {"max_epochs": 6},
        "grid": SMALL_GRID,
    }
    return deep_update(deep_update(default_config(), base), changes)


def write_config(path: Path, config: Mapping[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(dict(config), sort_keys=False))
    return path


def run_workflow(
    workdir: Path,
    configfile: Path,
    *args: str,
    check: bool = True,
    timeout: int = 900,
    env: Mapping[str, str] | None = None,
    umask: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real workflow (this repository's Snakefile) in ``workdir`` (under ``umask`` when given)."""
    command = [
        *SNAKEMAKE,
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(configfile),
        "--cores",
        "2",
        *args,
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})},
        preexec_fn=None if umask is None else (lambda: os.umask(umask)),
    )
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    return result


def planned_jobs(result: subprocess.CompletedProcess[str]) -> dict[str, int]:
    """Job counts per rule from a dry run's "Job stats" table."""
    counts: dict[str, int] = {}
    lines = (result.stdout + result.stderr).splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("Job stats"))
    except StopIteration:
        return counts
    for line in lines[start + 3 :]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        if parts[0] != "total":
            counts[parts[0]] = int(parts[1])
    return counts


@pytest.fixture(scope="session")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real Oxigraph server on 127.0.0.1 serving the Wikidata fixture."""
    if not WIKIDATA_NT.exists():
        pytest.skip(f"needs the Wikidata fixture {WIKIDATA_NT} (../shared beside the repository)")
    from tests.support.oxigraph_server import OxigraphServer

    with OxigraphServer(WIKIDATA_NT, tmp_path_factory.mktemp("oxigraph")) as server:
        yield server


from tests.test_kaggle_standin import kaggle_env  # noqa: E402, F401  (fixture: kagglehub's environment for the stand-in)
