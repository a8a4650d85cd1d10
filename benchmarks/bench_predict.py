"""Benchmark: ``predict`` on all 20,718 songs of the dataset, and on one song.

Three figures, medians of ``--repeats`` runs (the machine is shared: CPU time, user + sys,
is reported beside wall time):

* all songs, whole process, cold: ``python -m workflow_scripts.predict --model BUNDLE
  --input Spotify_Youtube.csv --output OUT.csv`` as a fresh process each time (interpreter
  start, imports, bundle checks and loading, reading and validating the CSV, features,
  every model the ensemble needs, writing the CSV). Goal: under 10 s.
* songs per second once loaded: in one process, the bundle loaded once, then reading,
  validating, transforming and predicting all songs, timed per stage.
* one song through the command, whole process (what a user waits for).

Writes ``benchmarks/results/predict.json``. Usage::

    .venv/bin/python benchmarks/bench_predict.py --model results/model [--repeats 5] [--model-name ensemble]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = Path(os.environ.get("GENRE_FACTOR_SHARED", REPO.parent / "shared"))
GOAL_S = 10.0


def run_process(command: list[str]) -> dict[str, float]:
    """Wall and CPU (user + sys) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"predict failed:\n{result.stderr[-3000:]}")
    return {"wall_s": wall, "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)}


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def one_song(source: Path, target: Path) -> Path:
    with open(source, newline="", encoding="utf-8") as handle_in, open(target, "w", newline="", encoding="utf-8") as handle_out:
        reader, writer = csv.reader(handle_in), csv.writer(handle_out)
        writer.writerow(next(reader))
        writer.writerow(next(reader))
    return target


def loaded_throughput(model: Path, songs_csv: Path, model_name: str, repeats: int) -> dict[str, float]:
    """Per-stage seconds with the bundle loaded once (median of ``repeats``), and songs/s."""
    from workflow_scripts import predict
    from workflow_scripts.bundle import store as bundle
    from workflow_scripts.models import registry as models

    manifest = bundle.read_manifest(model)
    start = time.perf_counter()
    loaded = bundle.load(model, [model_name])
    load_s = time.perf_counter() - start
    stages: dict[str, list[float]] = {"read_validate_s": [], "features_s": [], "models_s": [], "total_s": []}
    n = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        songs = predict.read_songs(songs_csv, manifest["required_columns"])
        t1 = time.perf_counter()
        X = loaded.features.transform(songs)
        t2 = time.perf_counter()
        models.probabilities(loaded.fitted, X, songs["Artist"], loaded.ensemble, only=[model_name])
        t3 = time.perf_counter()
        n = len(songs)
        for key, value in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t3 - t0), strict=True):
            stages[key].append(value)
    out = {key: statistics.median(values) for key, values in stages.items()}
    return {
        "songs": n,
        "bundle_load_s": load_s,
        **out,
        "songs_per_s": n / out["total_s"],
        "songs_per_s_after_reading": n / (out["features_s"] + out["models_s"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=REPO / "results" / "model")
    parser.add_argument("--input", type=Path, default=SHARED / "data" / "Spotify_Youtube.csv")
    parser.add_argument("--model-name", default="ensemble")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "results" / "predict.json")
    args = parser.parse_args()
    manifest = json.loads((args.model / "manifest.json").read_text())
    command = [sys.executable, "-m", "workflow_scripts.predict", "--model", str(args.model), "--model-name", args.model_name]
    with tempfile.TemporaryDirectory() as scratch:
        scratch_path = Path(scratch)
        single = one_song(args.input, scratch_path / "one.csv")
        all_runs, one_runs = [], []
        for k in range(args.repeats):  # interleaved: both see the same load on the machine
            all_runs.append(run_process([*command, "--input", str(args.input), "--output", str(scratch_path / "all.csv")]))
            one_runs.append(run_process([*command, "--input", str(single), "--output", str(scratch_path / "one_out.csv")]))
            print(f"run {k + 1}: all songs {all_runs[-1]['wall_s']:.2f} s, one song {one_runs[-1]['wall_s']:.2f} s", flush=True)
        n_songs = sum(1 for _ in open(scratch_path / "all.csv", encoding="utf-8")) - 1
    throughput = loaded_throughput(args.model, args.input, args.model_name, args.repeats)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "load_average_1min_at_end": os.getloadavg()[0], "python": platform.python_version()},
        "command": " ".join([*command, "--input", str(args.input), "--output", "OUT.csv"]),
        "bundle": {
            "path": str(args.model),
            "features": manifest["features"],
            "n_features": len(manifest["feature_names"]),
            "ensemble": manifest["ensemble"],
            "files_mb": round(sum((args.model / name).stat().st_size for name in manifest["files"]) / 1e6, 1),
        },
        "repeats": args.repeats,
        "all_songs": {"songs": n_songs, **medians(all_runs), "runs": all_runs, "goal_s": GOAL_S},
        "one_song": {**medians(one_runs), "runs": one_runs},
        "loaded": throughput,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    a, o = result["all_songs"], result["one_song"]
    print(
        f"all {n_songs} songs, whole process: {a['wall_s']:.2f} s wall, {a['cpu_s']:.2f} s CPU (goal {GOAL_S:.0f} s); "
        f"one song: {o['wall_s']:.2f} s wall, {o['cpu_s']:.2f} s CPU; loaded: {throughput['songs_per_s']:.0f} songs/s "
        f"(bundle load {throughput['bundle_load_s']:.2f} s) -> {args.output}"
    )


if __name__ == "__main__":
    main()
