"""Feature preparation with text (issue #14): one prepare_features job of configs/artist_disjoint.yaml.

Goal: at most 60 s a job (it took ~275 s) with the same arrays, or say exactly what changes
and what it costs in accuracy. Three methods, each a fresh process running what the rule
runs (`features.prepare` on the artist-disjoint split of the study's 6,446 songs, features of
configs/artist_disjoint.yaml), one BLAS thread as under Snakemake, interleaved:

- old: stacked_text as it was (cross_val_predict of text_model: every fit tokenises again),
  L-BFGS;
- exact: the current stacked_text (each document tokenised once, every TF-IDF fit rebuilt
  from the counts), L-BFGS: must give the old arrays bit for bit;
- new: the current code as the workflow runs it (Newton-CG): the arrays' largest difference
  to old, and the accuracy of the text models and of gradient boosting on old vs new arrays.

    .venv/bin/python benchmarks/bench_features.py              # 1 run each (~15 min on 2 free cores)
    .venv/bin/python benchmarks/bench_features.py --repeats 3
Writes benchmarks/results/features.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import common
import numpy as np
import yaml

sys.path.insert(0, str(common.REPO))
SCRATCH = common.SCRATCH / "artist_disjoint"
SPLIT = SCRATCH / "data" / "split.parquet"
SONGS = SCRATCH / "data" / "selected.parquet"
CONFIGS = [common.REPO / "configs" / "study.yaml", common.REPO / "configs" / "artist_disjoint.yaml"]
METHODS = ("old", "exact", "new")
ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "GOTO_NUM_THREADS")}


def old_stacked_text(songs, y, train_idx, other_idx, blocks, seed):  # type: ignore[no-untyped-def]
    """workflow_scripts/features/song_features.py's stacked_text before issue #14 (commit 38bad10):
    the test suite's reference (tests/support/reference_text.py)."""
    from tests.support.reference_text import reference_stacked_text

    return reference_stacked_text(songs, y, train_idx, other_idx, blocks, seed)


def feature_config() -> dict[str, Any]:
    """config.yaml's features with the two configs' overrides, as the workflow merges them."""
    features = dict(yaml.safe_load((common.REPO / "config.yaml").read_text())["features"])
    for path in CONFIGS:
        features.update(yaml.safe_load(path.read_text()).get("features", {}))
    return features


def ensure_inputs() -> None:
    if SPLIT.exists() and SONGS.exists():
        return
    override = common.write_yaml(SCRATCH / "override.yaml", {"results_dir": str(SCRATCH)})
    print(f"building {SPLIT} with the workflow's data rules ...", flush=True)
    command = [
        common.PYTHON,
        "-m",
        "snakemake",
        str(SPLIT),
        "--cores",
        "2",
        "--quiet",
        "all",
        "--configfile",
        *map(str, CONFIGS),
        str(override),
    ]
    subprocess.run(command, cwd=common.REPO, check=True)


def worker(method: str, out: Path) -> None:
    """One prepare_features job's computation with ``method``; prints its timing as JSON."""
    import pandas as pd

    from workflow_scripts.features import pipeline as features
    from workflow_scripts.features import song_features

    if method in ("old", "exact"):
        song_features.TEXT_SOLVER = "lbfgs"
    if method == "old":
        song_features.stacked_text = old_stacked_text
    songs, split = pd.read_parquet(SONGS), pd.read_parquet(SPLIT)
    wall, cpu = time.perf_counter(), time.process_time()
    arrays = features.prepare(songs, split, feature_config(), 0.2, 42)
    seconds = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}
    features.save_arrays(out, arrays)
    print(json.dumps(seconds))


def run(method: str, out: Path) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [common.PYTHON, __file__, "--worker", method, "--worker-out", str(out)],
        env={**os.environ, **ONE_THREAD},
        capture_output=True,
        text=True,
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    inner = json.loads(done.stdout.strip().splitlines()[-1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"process_wall_s": time.perf_counter() - start, "process_cpu_s": cpu, **inner}


def text_columns(arrays: dict[str, np.ndarray]) -> np.ndarray:
    return np.array([str(n).startswith("text_") for n in arrays["feature_names"]])


def accuracy(arrays: dict[str, np.ndarray], seed: int = 42) -> dict[str, Any]:
    """Each text model's test accuracy (argmax of its block), and gradient boosting's (the
    config's hgb settings, fit on the training rows) on the test set and on each CV fold."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from workflow_scripts.features import pipeline as features

    names = [str(n) for n in arrays["feature_names"]]
    classes = [str(c) for c in arrays["classes"]]
    out: dict[str, Any] = {}
    for block in sorted({n.split("_")[1] for n in names if n.startswith("text_")}):
        columns = [names.index(f"text_{block}_{c}") for c in classes]
        out[f"text_{block}_test"] = float((arrays["X_test"][:, columns].argmax(axis=1) == arrays["y_test"]).mean())

    def hgb(suffix: str, other: str) -> float:
        X, y, _, _ = features.training_set(arrays, suffix)
        model = HistGradientBoostingClassifier(learning_rate=0.05, max_iter=500, random_state=seed).fit(X, y)
        return float((model.predict(arrays[f"X_{other}{suffix}"]) == arrays[f"y_{other}{suffix}"]).mean())

    out["hgb_test"] = hgb("", "test")
    out["hgb_cv"] = [hgb(f"_{k}", "val") for k in range(int(arrays["n_folds"]))]
    out["hgb_cv_mean"] = float(np.mean(out["hgb_cv"]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--out", default="features.json")
    parser.add_argument("--worker", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.worker_out)
        return

    from workflow_scripts.features import pipeline as features

    ensure_inputs()
    methods = args.methods.split(",")
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
    with tempfile.TemporaryDirectory(prefix="genre-factor-features-") as scratch:
        arrays: dict[str, dict[str, np.ndarray]] = {}
        for repeat in range(args.repeats):
            for method in methods:
                path = Path(scratch) / f"{method}-{repeat}.npz"
                result = run(method, path)
                runs[method].append(result)
                print(
                    f"{method:5s} run {repeat}: {result['wall_s']:.1f} s wall, {result['cpu_s']:.1f} s CPU (process {result['process_wall_s']:.1f} s)",
                    flush=True,
                )
                current = features.load_arrays(path)
                if method in arrays and any(not np.array_equal(current[k], arrays[method][k]) for k in current):
                    raise SystemExit(f"{method}: two runs gave different arrays")
                arrays[method] = current

    comparison: dict[str, Any] = {}
    if "old" in arrays:
        old = arrays["old"]
        for method in [m for m in methods if m != "old"]:
            other = arrays[method]
            same_keys = sorted(old) == sorted(other)
            identical = same_keys and all(old[k].dtype == other[k].dtype and np.array_equal(old[k], other[k]) for k in old)
            text = text_columns(old)
            diffs = [float(np.abs(old[k][:, text] - other[k][:, text]).max()) for k in old if k.startswith("X_")]
            rest = [float(np.abs(old[k][:, ~text] - other[k][:, ~text]).max()) for k in old if k.startswith("X_")]
            comparison[method] = {
                "identical_to_old": identical,
                "max_abs_diff_text_columns": max(diffs),
                "max_abs_diff_other_columns": max(rest),
            }
        for method in methods:
            if method in ("old", "new"):
                comparison.setdefault(method, {})["accuracy"] = accuracy(arrays[method])

    summary = {
        m: {
            "wall_s_median": common.median(r["wall_s"] for r in runs[m]),
            "cpu_s_median": common.median(r["cpu_s"] for r in runs[m]),
            "process_wall_s_median": common.median(r["process_wall_s"] for r in runs[m]),
            "runs": runs[m],
            **comparison.get(m, {}),
        }
        for m in methods
    }
    print()
    rows = [
        [m, s["wall_s_median"], s["cpu_s_median"], str(s.get("identical_to_old", "-")), s.get("max_abs_diff_text_columns", "-")]
        for m, s in summary.items()
    ]
    print(common.table(rows, ["method", "job wall s (median)", "job CPU s (median)", "arrays identical to old", "max |diff| text columns"]))
    for m in ("old", "new"):
        if "accuracy" in summary.get(m, {}):
            print(f"{m}: {json.dumps(summary[m]['accuracy'])}")
    if "old" in summary:
        for m in [m for m in methods if m != "old"]:
            print(f"{m}: {summary['old']['cpu_s_median'] / summary[m]['cpu_s_median']:.1f}x less CPU than old")
    path = common.save(args.out, {"command": " ".join(sys.argv), "repeats": args.repeats, "features": feature_config(), "methods": summary})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
