"""Shared by the benchmarks: the study's arrays, representative combinations, statistics."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
SHARED = REPO.parent / "shared"
SCRATCH = Path("/tmp/genre-factor-bench")
DEFAULT_ARRAYS = SCRATCH / "results" / "features" / "arrays.npz"
PYTHON = sys.executable

# The study's cleaned selection: its six genres give exactly its 6,446 songs.
STUDY_DATA = {
    "dataset": {"source": "path", "path": str(SHARED / "data" / "Spotify_Youtube.csv")},
    "labels": {"source": "csv", "csv": str(SHARED / "reference" / "seed_selection.csv")},
    "genres": {"keep": ["classic", "metal", "rock", "hip hop", "electronic", "pop"]},
}

_COMMON = {
    "dropout_rate": 0.3,
    "activation": "LeakyReLU",
    "early_stopping_patience": 15,
    "reduce_lr_factor": 0.5,
    "reduce_lr_patience": 5,
    "reduce_lr_min_lr": 1.0e-5,
}
SMALLEST = {"num_hidden_layers": 2, "units_1": 64, "units_2": 128, "units_3": 256}
LARGEST = {"num_hidden_layers": 3, "units_1": 128, "units_2": 256, "units_3": 512, "units_4": 1024}
# The smallest and the largest network of the default grid, at its smallest and largest batch.
REPRESENTATIVE = {
    "small-b128": {**SMALLEST, **_COMMON, "batch_size": 128},
    "small-b1024": {**SMALLEST, **_COMMON, "batch_size": 1024},
    "large-b128": {**LARGEST, **_COMMON, "batch_size": 128},
    "large-b1024": {**LARGEST, **_COMMON, "batch_size": 1024},
}
# Extra, with --more: the study-like middle network and the other activation/dropout/patience.
MORE = {
    "mid-b256-relu": {
        "num_hidden_layers": 2,
        "units_1": 128,
        "units_2": 256,
        "units_3": 512,
        **_COMMON,
        "activation": "relu",
        "batch_size": 256,
    },
    "mid-b512-d05-p20": {
        "num_hidden_layers": 2,
        "units_1": 128,
        "units_2": 256,
        "units_3": 512,
        **_COMMON,
        "dropout_rate": 0.5,
        "early_stopping_patience": 20,
        "reduce_lr_factor": 0.1,
        "reduce_lr_patience": 7,
        "reduce_lr_min_lr": 1.0e-7,
        "batch_size": 512,
    },
}


def write_yaml(path: Path, data: Mapping[str, Any]) -> Path:
    import yaml

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(dict(data), sort_keys=False))
    return path


def ensure_arrays(arrays: str | Path | None) -> Path:
    """The study's per-fold arrays: ``arrays`` if given, else built once under SCRATCH by the
    workflow's own data rules (the shared CSV and the study's labels, no network)."""
    if arrays:
        path = Path(arrays)
        if not path.exists():
            raise SystemExit(f"--arrays {path} does not exist")
        return path
    if DEFAULT_ARRAYS.exists():
        return DEFAULT_ARRAYS
    config = write_yaml(SCRATCH / "data.yaml", {"results_dir": str(SCRATCH / "results"), **STUDY_DATA})
    print(f"building {DEFAULT_ARRAYS} with the workflow's data rules ...", flush=True)
    subprocess.run(
        [PYTHON, "-m", "snakemake", "--cores", "2", "--quiet", "--configfile", str(config), "--", str(DEFAULT_ARRAYS)],
        cwd=REPO,
        check=True,
    )
    return DEFAULT_ARRAYS


def median(values: Iterable[float]) -> float:
    values = list(values)
    return float(statistics.median(values)) if values else float("nan")


def machine() -> dict[str, Any]:
    import os
    import platform

    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(), "load_average": load}


def save(name: str, payload: Mapping[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps({"measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": machine(), **payload}, indent=2) + "\n")
    return path


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    cells = [[str(c) for c in header], *[[f"{c:.3g}" if isinstance(c, float) else str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
