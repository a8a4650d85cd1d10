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

``--scale`` (issue #22) instead measures catalogue-sized inputs: for each bundle, size and
model, ``python -m workflow_scripts.predict`` as one fresh process on the dataset's rows
repeated to ``--sizes`` songs (new row ids), its wall and CPU time, songs per second and peak
memory (the child's ``ru_maxrss``), and checks that every song is in the output. Results go
to ``benchmarks/results/predict_scale.json`` (after every run to ``predict_scale.partial.json``)::

    .venv/bin/python benchmarks/bench_predict.py --scale --bundle default=/tmp/b/default/model \
        --bundle artist=/tmp/b/artist/model --sizes 20718,200000,1000000 [--big-models ensemble,network,hgb]
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
from typing import Any

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


MODELS = ("network", "knn", "svm", "hgb", "ensemble", "artist lookup")


def repeated_songs(source: Path, target: Path, n: int) -> Path:
    """The dataset's rows repeated (cycled) to ``n`` songs, the row ids renumbered 0..n-1; kept if there."""
    if target.exists():
        return target
    partial = target.with_name(target.name + ".partial")
    with open(source, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        records = list(reader)
    with open(partial, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i in range(n):
            writer.writerow([i, *records[i % len(records)][1:]])
    partial.rename(target)
    return target


def run_measured(command: list[str]) -> dict[str, float]:
    """Wall, CPU (user + sys) seconds and peak resident memory (MB) of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    )
    assert child.stderr is not None
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if child.returncode != 0:
        raise SystemExit(f"predict failed:\n{stderr.decode(errors='replace')[-3000:]}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024}


def count_rows(path: Path) -> tuple[int, int]:
    """The output's songs, and how many of them have a predicted genre."""
    songs = predicted = 0
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        column = next(reader).index("genre")
        for record in reader:
            songs += 1
            predicted += bool(record[column])
    return songs, predicted


def scale(args: argparse.Namespace) -> None:
    """Songs per second and peak memory per bundle, size and model, one cold process each."""
    bundles = dict(item.split("=", 1) for item in args.bundle)
    sizes = [int(n) for n in args.sizes.split(",")]
    inputs = {n: args.input if n == 20718 else repeated_songs(args.input, args.inputs_dir / f"songs_{n}.csv", n) for n in sizes}
    partial = args.output.with_name(args.output.stem + ".partial.json")
    result: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "chunk_size": args.chunk_size,
        "bundles": {},
        "runs": [],
    }
    for label, folder in bundles.items():
        manifest = json.loads((Path(folder) / "manifest.json").read_text())
        result["bundles"][label] = {"path": folder, "features": manifest["features"], "n_features": len(manifest["feature_names"])}
    small = args.models.split(",") if args.models else list(MODELS)
    big = args.big_models.split(",") if args.big_models else small
    plan = [(label, n, name) for n in sizes for label in bundles for name in (big if n >= 1_000_000 else small)]
    plan = [step for step in plan if step[0] not in args.skip_big or step[1] < 1_000_000]
    with tempfile.TemporaryDirectory(dir=args.inputs_dir) as scratch:
        output = Path(scratch) / "predictions.csv"
        for label, n, name in plan:
            command = [sys.executable, "-m", "workflow_scripts.predict", "--model", bundles[label], "--model-name", name]
            command += ["--input", str(inputs[n]), "--output", str(output), "--chunk-size", str(args.chunk_size)]
            runs = []
            for _ in range(args.repeats if n < 100_000 else 1):
                output.unlink(missing_ok=True)
                runs.append(run_measured(command))
            songs, predicted = count_rows(output)
            row = {"bundle": label, "songs": n, "model": name, **medians(runs), "runs": runs, "output_songs": songs, "predicted": predicted}
            row["songs_per_s"] = n / row["wall_s"]
            row["load_average_1min"] = os.getloadavg()[0]
            result["runs"].append(row)
            partial.write_text(json.dumps({**result, "command": " ".join(sys.argv)}, indent=2) + "\n")
            print(
                f"{label} {n:>9,} {name:<13} {row['wall_s']:8.1f} s wall {row['cpu_s']:8.1f} s CPU "
                f"{row['songs_per_s']:8.0f} songs/s {row['peak_mb']:7.0f} MB  {predicted:,}/{songs:,} predicted",
                flush=True,
            )
    result["command"] = " ".join(sys.argv)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    partial.unlink(missing_ok=True)


def profile(args: argparse.Namespace) -> None:
    """CPU seconds (this process) of each stage on the input, the bundle loaded once: reading,
    each preprocessing step, engineered and flag features, each text model, each model."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from workflow_scripts import predict
    from workflow_scripts.bundle import store as bundle
    from workflow_scripts.features import pipeline as features
    from workflow_scripts.features import song_features
    from workflow_scripts.models import registry as models

    out: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "input": str(args.input), "bundles": {}}
    for item in args.bundle:
        label, folder = item.split("=", 1)
        manifest = bundle.read_manifest(folder)
        loaded = bundle.load(folder, manifest["models"])
        stages: dict[str, list[float]] = {}

        def timed(name: str, function: Any, stages: dict[str, list[float]] = stages) -> Any:
            start = time.process_time()
            value = function()
            stages.setdefault(name, []).append(time.process_time() - start)
            return value

        for _ in range(args.repeats):
            songs = timed("read + validate", lambda m=manifest: predict.read_songs(args.input, m["required_columns"]))
            settings = loaded.features.features
            if settings["engineered"]:
                timed("engineered features", lambda: song_features.engineered(songs))  # noqa: B023
            if settings["flags"]:
                timed("flag features", lambda: song_features.flags(songs))  # noqa: B023
            frame, _, _ = features.input_frame(songs, settings)
            X = frame
            for name, step in loaded.features.pipeline.steps:
                X = timed(f"preprocessing: {name}", lambda step=step, X=X: step.transform(X))
            texts = song_features.text_inputs(songs) if loaded.features.text_models else {}
            for block, text_model in loaded.features.text_models.items():
                timed(f"text model: {block}", lambda m=text_model, b=block: m.predict_proba(texts[b]))  # noqa: B023
            X = timed("features, all (as predict)", lambda: loaded.features.transform(songs))  # noqa: B023
            for name in models.NAMES:
                if name == "ensemble":
                    continue
                timed(f"model: {name}", lambda n=name: models.probabilities(loaded.fitted, X, songs["Artist"], loaded.ensemble, only=[n]))  # noqa: B023
        knn, svm = loaded.fitted["knn"], loaded.fitted["svm"]
        out["bundles"][label] = {
            "path": folder,
            "songs": len(songs),
            "cpu_s": {name: statistics.median(values) for name, values in stages.items()},
            "knn": {"training_rows": int(knn.n_samples_fit_), "method": knn._fit_method},
            "svm_support_vectors": [int(c.estimator.support_.shape[0]) for c in svm.calibrated_classifiers_],
            "hgb_trees": int(loaded.fitted["hgb"].n_iter_ * len(loaded.classes)),
            "n_features": int(X.shape[1]),
        }
        print(label, json.dumps(out["bundles"][label], indent=1), flush=True)
    args.output.write_text(json.dumps({**out, "command": " ".join(sys.argv)}, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=REPO / "results" / "model")
    parser.add_argument("--input", type=Path, default=SHARED / "data" / "Spotify_Youtube.csv")
    parser.add_argument("--model-name", default="ensemble")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path, default=None, help="results/predict.json (predict_scale.json with --scale)")
    parser.add_argument("--scale", action="store_true", help="catalogue sizes: songs/s and peak memory per bundle, size, model")
    parser.add_argument("--bundle", action="append", default=[], help="LABEL=FOLDER, repeatable (--scale)")
    parser.add_argument("--sizes", default="20718,200000,1000000", help="songs per input (--scale)")
    parser.add_argument("--models", default="", help="the models run (default: all; --scale)")
    parser.add_argument("--big-models", default="", help="the models run at 1,000,000 songs and more (default: all)")
    parser.add_argument("--skip-big", default="", help="bundles not run at 1,000,000 songs and more (comma-separated labels)")
    parser.add_argument("--chunk-size", type=int, default=50_000)
    parser.add_argument("--inputs-dir", type=Path, default=Path(tempfile.gettempdir()) / "genre-factor-predict-scale")
    parser.add_argument("--profile", action="store_true", help="CPU seconds per stage and model, the bundle loaded once (--bundle)")
    args = parser.parse_args()
    if args.profile:
        args.output = args.output or REPO / "benchmarks" / "results" / "predict_profile.json"
        profile(args)
        return
    if args.scale:
        args.output = args.output or REPO / "benchmarks" / "results" / "predict_scale.json"
        args.inputs_dir.mkdir(parents=True, exist_ok=True)
        args.skip_big = [label for label in args.skip_big.split(",") if label]
        scale(args)
        return
    args.output = args.output or REPO / "benchmarks" / "results" / "predict.json"
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
