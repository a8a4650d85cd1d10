"""Seconds per fit: the workflow's trainer against plain Keras and the study's scikeras search.

Goal (issue #5): at least 3x faster per fit than scikeras KerasClassifier in scikit-learn
GridSearchCV(cv=3), with mean cross-validated accuracy within 1 point of it, on the same
combinations and folds.

Worker processes (fit_worker.py), one per method, each with TensorFlow already imported,
take turns: for every repeat and combination each method trains the 3 folds, one method at a
time, in an order that rotates. A fit is one fold: build, train with early stopping, score
the validation fold; seconds per fit = a method's wall time for the 3 folds / 3. Every method
gets the same thread budget (--threads, default 1: the grid runs one job per core).
Repeat r seeds every method with 42 + 1000 r (fold k: + k where the method seeds per fold).

    .venv/bin/python benchmarks/bench_fit.py            # 4 combinations x 4 methods, 1 repeat (~12 min)
    .venv/bin/python benchmarks/bench_fit.py --repeats 3 # what benchmarks/README.md reports (~36 min)
    .venv/bin/python benchmarks/bench_fit.py --quick    # 2 combinations, max 30 epochs
    .venv/bin/python benchmarks/bench_fit.py --methods ours,scikeras

The scikeras method needs its own venv (it pins scikit-learn 1.5.2):
    python3 -m venv .venv-bench && .venv-bench/bin/pip install scikeras==0.13.0 \
        tensorflow-cpu==2.21.0 scikit-learn==1.5.2 pandas numpy
Writes benchmarks/results/fit.json.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import common

METHODS = ("ours", "ours-group", "keras", "scikeras")  # the default
BASELINES = ("keras", "scikeras")
LABELS = {
    "ours": "ours (workflow)",
    "ours-group": "ours, 16 per process",
    "keras": "plain Keras fit",
    "scikeras": "scikeras GridSearchCV",
}


class Worker:
    def __init__(self, method: str, python: str, arrays: Path, threads: int, log: Path):
        self.method = method
        self.log = open(log, "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [python, str(Path(__file__).with_name("fit_worker.py")), method, str(arrays), str(threads)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            cwd=common.REPO,
        )
        self.hello = self._read()

    def _read(self) -> dict[str, Any]:
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"worker {self.method} died; see {self.log.name}")
        return json.loads(line)

    def run(self, params: dict[str, Any], training: dict[str, Any], seed: int) -> dict[str, Any]:
        self.process.stdin.write(json.dumps({"params": params, "training": training, "seed": seed}) + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self.log.close()


def _speedups(per: dict[str, Any], combos: dict[str, Any], key: str) -> dict[str, Any]:
    """One speed-up (``per[combination][key]``) over the combinations: each, geometric mean, min."""
    ratios = [per[name][key] for name in combos]
    return {
        "per_combination": dict(zip(combos, ratios, strict=True)),
        "geometric_mean": math.exp(statistics.fmean(math.log(r) for r in ratios)),
        "min": min(ratios),
    }


def summarize(runs: list[dict[str, Any]], combos: dict[str, Any], methods: list[str]) -> dict[str, Any]:
    per: dict[str, Any] = {}
    for name in combos:
        per[name] = {}
        for method in methods:
            mine = [r for r in runs if r["combo"] == name and r["method"] == method]
            folds = [f for r in mine for f in r["folds"]]
            per_fit = [r["wall_seconds"] / len(r["folds"]) / r.get("combinations", 1) for r in mine]
            epochs = [f["epochs"] for f in folds]
            per[name][method] = {
                "seconds_per_fit_median": common.median(per_fit),
                "seconds_per_fit": per_fit,
                "mean_cv_accuracy": statistics.fmean(f["val_accuracy"] for f in folds),
                "epochs_median": common.median(epochs),
                "ms_per_epoch": 1000 * sum(per_fit) * len(folds) / len(mine) / max(1, sum(epochs)) if mine else math.nan,
                "n_fits": len(folds),
            }
            if mine and "epochs_computed" in mine[0]:
                per[name][method]["epochs_computed_share"] = sum(r["epochs_computed"] for r in mine) / sum(
                    r["epochs_of_the_combinations"] for r in mine
                )
        for other in methods:
            if other in BASELINES and "ours" in methods:
                per[name][f"speedup_vs_{other}"] = per[name][other]["seconds_per_fit_median"] / per[name]["ours"]["seconds_per_fit_median"]
            if other in BASELINES and "ours-group" in methods:
                per[name][f"group_speedup_vs_{other}"] = (
                    per[name][other]["seconds_per_fit_median"] / per[name]["ours-group"]["seconds_per_fit_median"]
                )
    overall: dict[str, Any] = {}
    for method in methods:
        folds = [f for r in runs if r["method"] == method for f in r["folds"]]
        overall[method] = {"mean_cv_accuracy": statistics.fmean(f["val_accuracy"] for f in folds), "n_fits": len(folds)}
    for other in methods:
        if other in BASELINES and "ours-group" in methods:
            overall[f"group_speedup_vs_{other}"] = _speedups(per, combos, f"group_speedup_vs_{other}")
        if other in BASELINES and "ours" in methods:
            overall[f"speedup_vs_{other}"] = {
                **_speedups(per, combos, f"speedup_vs_{other}"),
                "total_time_ratio": sum(per[n][other]["seconds_per_fit_median"] for n in combos)
                / sum(per[n]["ours"]["seconds_per_fit_median"] for n in combos),
            }
            overall[f"accuracy_difference_vs_{other}_points"] = 100 * (
                overall["ours"]["mean_cv_accuracy"] - overall[other]["mean_cv_accuracy"]
            )
    return {"per_combination": per, "overall": overall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arrays", help="arrays.npz from rule prepare_features (default: built once under /tmp)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow threads per method (0: TensorFlow's default)")
    parser.add_argument("--max-epochs", type=int, default=200)
    parser.add_argument("--more", action="store_true", help="also two mid-sized combinations")
    parser.add_argument("--quick", action="store_true", help="2 combinations (small-b1024, large-b1024), at most 30 epochs")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated: ours, ours-group, keras, scikeras")
    parser.add_argument("--bench-python", default=str(common.REPO / ".venv-bench" / "bin" / "python"), help="python with scikeras")
    parser.add_argument("--out", default="fit.json")
    args = parser.parse_args()

    arrays = common.ensure_arrays(args.arrays)
    combos = dict(common.REPRESENTATIVE)
    if args.more:
        combos.update(common.MORE)
    if args.quick:
        combos = {k: combos[k] for k in ("small-b1024", "large-b1024")}
        args.max_epochs = min(args.max_epochs, 30)
    methods = [m for m in args.methods.split(",") if m]
    if "scikeras" in methods and not Path(args.bench_python).exists():
        raise SystemExit(f"{args.bench_python} is missing: see the docstring for the scikeras venv, or pass --methods ours,keras")
    training = {"max_epochs": args.max_epochs, "learning_rate": 1e-3}
    logs = common.SCRATCH / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    workers = {
        m: Worker(m, args.bench_python if m == "scikeras" else sys.executable, arrays, args.threads, logs / f"fit_{m}.log") for m in methods
    }
    print("workers ready:", {m: round(w.hello["startup_seconds"], 1) for m, w in workers.items()}, flush=True)
    runs: list[dict[str, Any]] = []
    turn = 0
    try:
        for repeat in range(args.repeats):
            for name, params in combos.items():
                order = methods[turn % len(methods) :] + methods[: turn % len(methods)]
                turn += 1
                for method in order:
                    result = workers[method].run(params, training, 42 + 1000 * repeat)
                    runs.append({"combo": name, "method": method, "repeat": repeat, **result})
                    common.save(f"{Path(args.out).stem}.partial.json", {"command": " ".join(sys.argv), "runs": runs})
                    accs = ", ".join(f"{f['val_accuracy']:.3f}" for f in result["folds"])
                    print(
                        f"repeat {repeat} {name:12s} {method:9s} {result['wall_seconds'] / len(result['folds']) / result.get('combinations', 1):6.2f} s/fit  "
                        f"epochs {[f['epochs'] for f in result['folds']]}  accuracy {accs}",
                        flush=True,
                    )
    finally:
        for worker in workers.values():
            worker.close()

    summary = summarize(runs, combos, methods)
    rows = []
    for name in combos:
        for method in methods:
            s = summary["per_combination"][name][method]
            rows.append(
                [name, LABELS[method], s["seconds_per_fit_median"], s["ms_per_epoch"], s["epochs_median"], 100 * s["mean_cv_accuracy"]]
            )
    print()
    print(common.table(rows, ["combination", "method", "s/fit (median)", "ms/epoch", "epochs (median)", "mean CV acc %"]))
    print()
    for other in methods:
        if other in BASELINES and "ours-group" in methods:
            o = summary["overall"][f"group_speedup_vs_{other}"]
            per = ", ".join(f"{k} {v:.1f}x" for k, v in o["per_combination"].items())
            print(f"speed-up of 16 per process vs {LABELS[other]}: {per}; geometric mean {o['geometric_mean']:.1f}x")
        if other in BASELINES and "ours" in methods:
            o = summary["overall"][f"speedup_vs_{other}"]
            per = ", ".join(f"{k} {v:.1f}x" for k, v in o["per_combination"].items())
            print(f"speed-up vs {LABELS[other]}: {per}; geometric mean {o['geometric_mean']:.1f}x, min {o['min']:.1f}x")
            print(
                f"mean CV accuracy: ours {100 * summary['overall']['ours']['mean_cv_accuracy']:.2f} %, "
                f"{LABELS[other]} {100 * summary['overall'][other]['mean_cv_accuracy']:.2f} % "
                f"({summary['overall'][f'accuracy_difference_vs_{other}_points']:+.2f} points)"
            )
    path = common.save(
        args.out,
        {
            "command": " ".join(sys.argv),
            "threads": args.threads,
            "training": training,
            "repeats": args.repeats,
            "combinations": combos,
            "versions": {m: w.hello["versions"] for m, w in workers.items()},
            **summary,
            "runs": runs,
        },
    )
    (common.RESULTS / f"{Path(args.out).stem}.partial.json").unlink(missing_ok=True)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
