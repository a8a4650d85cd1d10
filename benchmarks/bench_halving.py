"""Successive halving (search.strategy: halving) against the full grid, side by side.

Goal (issue #14): on a grid the full search can afford here, with the same folds and seeds
and the same search.jobs mode, halving's chosen network has a full-budget mean validation
accuracy within 0.5 points of the full grid's best, for at most 15 % of the grid's CPU time;
scikit-learn's HalvingGridSearchCV (scikeras, the same candidates and resource) for
comparison; a projection for the default 8,192-combination grid.

Every search is the real workflow, run by Snakemake (`--cores`, one thread a job) on the
study's arrays (built once by the workflow's data rules), each in a workdir of its own so no
run reuses another's files. CPU time is user + system of Snakemake and all its jobs
(``os.wait4``), besides wall time; the machine is shared.

1. ``grid``: the whole benchmark grid at the full budget.
2. Which resource ranks best for its cost (``--probes``): round 0 alone (target
   ``hpo/halving/round0.json``) at a resource and smallest budget: its CPU time, the Spearman
   correlation of its scores with the grid's full-budget scores, and the full-budget rank of the
   best of its survivors / whether the grid's best survives.
3. ``--halving``: whole halving searches (``resource:min_budget``): the chosen network, its
   full-budget score against the grid's best, CPU against the grid's.
4. ``--sklearn``: HalvingGridSearchCV over the same candidates, resource ``epochs``, the same
   min/max epochs and factor, the workflow's folds passed explicitly
   (benchmarks/halving_sklearn.py in .venv-bench).

    .venv/bin/python benchmarks/bench_halving.py                       # all of it
    .venv/bin/python benchmarks/bench_halving.py --probes "" --halving "" --sklearn 0   # the grid alone
Writes benchmarks/results/halving.json (runs already measured are read back from the workdir).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import common

sys.path.insert(0, str(common.REPO))
from workflow_scripts.search import grid as grid_lib  # noqa: E402
from workflow_scripts.search import halving as halving_lib  # noqa: E402

# 12 families of the default grid (192 combinations): 2 depths x 2 activations x 3 batch sizes,
# widths 64-128-256(-512), dropout 0.3, every callback setting of the default grid (16).
BENCH_GRID = {
    "num_hidden_layers": [2, 3],
    "units_1": [64],
    "units_2": [128],
    "units_3": [256],
    "units_4": [512],
    "dropout_rate": [0.3],
    "activation": ["LeakyReLU", "relu"],
    "batch_size": [128, 512, 1024],
    "early_stopping_patience": [15, 20],
    "reduce_lr_factor": [0.1, 0.5],
    "reduce_lr_patience": [5, 7],
    "reduce_lr_min_lr": [1.0e-7, 1.0e-5],
}
CACHED_ONLY = False  # --cached-only: report the searches already measured, start none


class Missing(Exception):
    """A search not measured yet (with --cached-only)."""


DEFAULT_PROBES = "epochs:0.037,epochs:0.1,rows:0.111,folds:0.333"


def prepare_data(workdir: Path) -> Path:
    """The study's arrays, built once by the workflow's data rules in ``workdir/data``."""
    data = workdir / "data"
    arrays = data / "results" / "features" / "arrays.npz"
    if not arrays.exists():
        config = common.write_yaml(data / "config.yaml", {"results_dir": "results", **common.STUDY_DATA})
        subprocess.run(
            [*SNAKEMAKE, "--directory", str(data), "--configfile", str(config), "--cores", "2", "--quiet", "--", str(arrays)],
            check=True,
        )
    return data


SNAKEMAKE = [common.PYTHON, "-m", "snakemake", "--snakefile", str(common.REPO / "Snakefile")]


def run_search(
    workdir: Path, data: Path, name: str, search: dict[str, Any], target: str, cores: int, jobs: str, grid: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One search in a fresh workdir (the data results copied, times kept): wall and CPU."""
    record_path = workdir / name / "measured.json"
    if record_path.exists():
        return json.loads(record_path.read_text())
    if CACHED_ONLY:
        raise Missing(name)
    run = workdir / name
    shutil.rmtree(run, ignore_errors=True)
    (run / "results").mkdir(parents=True)
    for part in ("data", "labels", "selection", "features"):
        if (data / "results" / part).exists():
            shutil.copytree(data / "results" / part, run / "results" / part, copy_function=shutil.copy2)
    config = {
        "results_dir": "results",
        **common.STUDY_DATA,
        "grid": grid or BENCH_GRID,
        "search": {"jobs": jobs, **search},
    }
    configfile = common.write_yaml(run / "config.yaml", config)
    command = [
        *SNAKEMAKE,
        "--directory",
        str(run),
        "--configfile",
        str(configfile),
        "--cores",
        str(cores),
        "--quiet",
        "rules",
        "--",
        target,
    ]
    start = time.perf_counter()
    with open(run / "snakemake.log", "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{name}: snakemake failed, see {run / 'snakemake.log'}")
    record = {
        "name": name,
        "search": search,
        "target": target,
        "wall_seconds": wall,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "jobs": job_cpu(run / "results" / "benchmarks" / "hpo"),
        "load_average": os.getloadavg(),
    }
    record_path.write_text(json.dumps(record, indent=2))
    return record


def sampled_grid(workdir: Path, data: Path, per_family: int, cores: int) -> dict[str, Any]:
    """The full grid with ``search.jobs: combination`` (one job per network, the study's layout)
    costs hours here; its jobs' CPU is projected from a stratified sample instead:
    ``per_family`` networks of each family (seeded), each its own grid job, plus any grid job
    the workdir already measured; projection = sum over families of size x mean job CPU.
    The runs are the grid's own (every packing gives the same runs: tests/test_model.py), so
    scores come from the grid's table in any mode."""
    run = workdir / "grid"
    if not (run / "config.yaml").exists():
        (run / "results").mkdir(parents=True)
        for part in ("data", "labels", "selection", "features"):
            if (data / "results" / part).exists():
                shutil.copytree(data / "results" / part, run / "results" / part, copy_function=shutil.copy2)
        config = {"results_dir": "results", **common.STUDY_DATA, "grid": BENCH_GRID, "search": {"jobs": "combination", "strategy": "grid"}}
        common.write_yaml(run / "config.yaml", config)
    families = grid_lib.families(grid_lib.expand(BENCH_GRID), "family")
    rng = random.Random(0)
    sample = [combo for members in families.values() for combo in rng.sample(members, per_family)]
    if not CACHED_ONLY:
        command = [
            *SNAKEMAKE,
            "--directory",
            str(run),
            "--configfile",
            str(run / "config.yaml"),
            "--cores",
            str(cores),
            "--rerun-incomplete",
            "--quiet",
            "rules",
            "--",
        ]
        with open(run / "snakemake-sample.log", "w") as log:
            process = subprocess.Popen(
                [*command, *(f"results/hpo/runs/{c}.json" for c in sample)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
            )
            _, status, _ = os.wait4(process.pid, 0)
        if status != 0:
            raise SystemExit(f"grid sample: snakemake failed, see {run / 'snakemake-sample.log'}")
    measured = {}
    for path in (run / "results" / "benchmarks" / "hpo").glob("*.tsv"):
        with open(path) as handle:
            measured[path.stem] = float(next(csv.DictReader(handle, delimiter="\t"))["cpu_time"])
    per_family_cpu = {}
    for family, members in families.items():
        cpus = [measured[c] for c in members if c in measured]
        if len(cpus) < per_family:
            raise Missing(f"grid sample of family {family}")
        per_family_cpu[family] = {"size": len(members), "measured_jobs": len(cpus), "mean_job_cpu_seconds": sum(cpus) / len(cpus)}
    projected = sum(f["size"] * f["mean_job_cpu_seconds"] for f in per_family_cpu.values())
    return {
        "jobs_cpu_seconds_projected": projected,
        "measured_jobs": sum(f["measured_jobs"] for f in per_family_cpu.values()),
        "per_family": per_family_cpu,
        "load_average": os.getloadavg(),
    }


def job_cpu(folder: Path) -> dict[str, Any]:
    """The training jobs' CPU and wall seconds from their Snakemake benchmark files, per round."""
    out: dict[str, Any] = {}
    for path in folder.rglob("*.tsv"):
        with open(path) as handle:
            row = next(csv.DictReader(handle, delimiter="\t"))
        parts = path.relative_to(folder).parts
        # halving/round<i>/...: a round's training jobs; halving/round<i>.tsv: its checkpoint
        key = "full" if parts[0] != "halving" else parts[1] if len(parts) > 2 else "checkpoints"
        entry = out.setdefault(key, {"jobs": 0, "cpu_seconds": 0.0, "wall_seconds": 0.0})
        entry["jobs"] += 1
        entry["cpu_seconds"] += float(row["cpu_time"])
        entry["wall_seconds"] += float(row["s"])
    return out


def cv_table(run: Path) -> Any:
    import pandas as pd

    return pd.read_csv(run / "results" / "hpo" / "cv_results.csv")


def probe_quality(workdir: Path, name: str, grid_cv: Any, factor: float) -> dict[str, Any]:
    """How round 0 ranks: Spearman against the full-budget scores; where its survivors stand."""
    import pandas as pd

    summary = json.loads((workdir / name / "results" / "hpo" / "halving" / "round0.json").read_text())
    low = pd.DataFrame(summary["rows"]).set_index("combo")["mean_val_accuracy"]
    full = grid_cv.set_index("combo")["mean_val_accuracy"]
    both = pd.concat([low.rename("low"), full.rename("full")], axis=1).dropna()
    ranks = full.rank(ascending=False, method="min")
    kept = summary["survivors"]
    best = str(grid_cv.sort_values("mean_val_accuracy", ascending=False)["combo"].iloc[0])
    return {
        "budget": summary["budget"],
        "spearman": float(both["low"].corr(both["full"], method="spearman")),
        "survivors": len(kept),
        "grid_best_survives": best in kept,
        "best_full_score_among_survivors": float(full[kept].max()),
        "grid_best_full_score": float(full.max()),
        "best_full_rank_among_survivors": int(ranks[kept].min()),
    }


def sklearn_search(workdir: Path, arrays: Path, grid: dict[str, Any], min_epochs: int, factor: float) -> dict[str, Any]:
    """HalvingGridSearchCV (halving_sklearn.py in .venv-bench) over ``grid``'s combinations."""
    record_path = workdir / "sklearn" / "measured.json"
    if record_path.exists():
        return json.loads(record_path.read_text())
    if CACHED_ONLY:
        raise Missing("sklearn")
    python = common.REPO / ".venv-bench" / "bin" / "python"
    if not python.exists():
        return {"skipped": f"{python} missing (see benchmarks/README.md)"}
    record_path.parent.mkdir(parents=True, exist_ok=True)
    combos = grid_lib.expand(grid)
    request = {"arrays": str(arrays), "combos": combos, "min_epochs": min_epochs, "max_epochs": 200, "factor": factor, "seed": 42}
    (record_path.parent / "request.json").write_text(json.dumps(request))
    start = time.perf_counter()
    out = record_path.parent / "result.json"
    with open(record_path.parent / "worker.log", "w") as log:
        process = subprocess.Popen(
            [str(python), str(common.REPO / "benchmarks" / "halving_sklearn.py"), str(record_path.parent / "request.json"), str(out)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(common.REPO), "CUDA_VISIBLE_DEVICES": ""},
        )
        _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        return {"failed": f"see {record_path.parent / 'worker.log'}"}
    record = {**json.loads(out.read_text()), "wall_seconds": time.perf_counter() - start, "cpu_seconds": usage.ru_utime + usage.ru_stime}
    record_path.write_text(json.dumps(record, indent=2))
    return record


def halving_search(resource: str, share: str, factor: float) -> dict[str, Any]:
    """The ``search`` config of successive halving growing ``resource`` from ``share`` of it."""
    return {"strategy": "halving", "halving": {"factor": factor, "resource": resource, "min_budget": float(share)}}


def search_if_measured(
    label: str, workdir: Path, data: Path, name: str, spec: str, target: str, args: argparse.Namespace
) -> dict[str, Any] | None:
    """``run_search`` of the halving ``spec`` (resource:min_budget), or None (said) where it has
    not been measured yet (``--cached-only``)."""
    resource, share = spec.split(":")
    try:
        return run_search(workdir, data, name, halving_search(resource, share, args.factor), target, args.cores, args.jobs)
    except Missing:
        print(f"{label} {spec}: not measured yet", flush=True)
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default="/tmp/genre-factor-bench/halving")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--jobs", default="family", help="search.jobs for every search (family: the fast mode)")
    parser.add_argument("--factor", type=float, default=3)
    parser.add_argument("--probes", default=DEFAULT_PROBES, help="round-0 probes, resource:min_budget, comma-separated")
    parser.add_argument("--halving", default="epochs:0.037", help="whole halving searches, resource:min_budget, comma-separated")
    parser.add_argument("--sklearn", type=int, default=1, help="1: HalvingGridSearchCV with scikeras (.venv-bench)")
    parser.add_argument("--out", default="halving.json")
    parser.add_argument("--cached-only", action="store_true", help="report what the workdir holds; run no search")
    parser.add_argument(
        "--grid-sample",
        type=int,
        default=0,
        help="with --jobs combination: project the grid's CPU from this many jobs per family (see sampled_grid); scores from --score-grid",
    )
    parser.add_argument("--score-grid", default="", help="a workdir's grid run whose cv_results.csv gives the full-budget scores")
    parser.add_argument("--only", default="", help="run one halving search (resource:min_budget) and stop; for running searches at once")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    global CACHED_ONLY
    CACHED_ONLY = args.cached_only
    data = prepare_data(workdir)
    if args.only:  # "resource:min_budget" (a whole search) or "probe:resource:min_budget" (round 0)
        *probe, resource, share = args.only.split(":")
        halving = halving_search(resource, share, args.factor)
        name, target = (
            (f"probe-{resource}-{share}", "results/hpo/halving/round0.json")
            if probe
            else (f"halving-{resource}-{share}", "results/hpo/selection.json")
        )
        print(run_search(workdir, data, name, halving, target, args.cores, args.jobs))
        return
    arrays = data / "results" / "features" / "arrays.npz"
    n_combos = len(grid_lib.expand(BENCH_GRID))
    payload: dict[str, Any] = {
        "command": " ".join(sys.argv),
        "grid": BENCH_GRID,
        "combinations": n_combos,
        "jobs_in_grid": n_combos if args.jobs == "combination" else len(grid_lib.families(grid_lib.expand(BENCH_GRID), args.jobs)),
        "jobs": args.jobs,
        "factor": args.factor,
    }
    if args.grid_sample:  # the grid's jobs' CPU projected from a sample (search.jobs: combination)
        sample = sampled_grid(workdir, data, args.grid_sample, args.cores)
        scores = Path(args.score_grid) if args.score_grid else workdir / "grid"
        grid_cv = cv_table(scores)
        grid_choice = json.loads((scores / "results" / "hpo" / "selection.json").read_text())
        total = sample["jobs_cpu_seconds_projected"]
        grid = {
            "cpu_seconds": total,
            "wall_seconds": float("nan"),
            "jobs": {"full": {"cpu_seconds": total}},
            "sample": sample,
            "scores_from": str(scores),
        }
        print(f"grid: {n_combos} combinations, jobs' CPU {total:.0f} s projected from {sample['measured_jobs']} jobs", flush=True)
    else:
        grid = run_search(workdir, data, "grid", {"strategy": "grid"}, "results/hpo/selection.json", args.cores, args.jobs)
        grid_cv = cv_table(workdir / "grid")
        grid_choice = json.loads((workdir / "grid" / "results" / "hpo" / "selection.json").read_text())
        print(f"grid: {n_combos} combinations, {grid['cpu_seconds']:.0f} CPU s, {grid['wall_seconds']:.0f} s wall", flush=True)
    payload["grid"] = {**grid, "best_mean_val_accuracy": float(grid_cv["mean_val_accuracy"].max()), "chosen": grid_choice}

    payload["probes"] = {}
    grid_jobs_cpu = grid["jobs"]["full"]["cpu_seconds"]
    for probe in filter(None, args.probes.split(",")):
        resource, share = probe.split(":")
        name = f"probe-{resource}-{share}"
        if (workdir / f"halving-{resource}-{share}" / "measured.json").exists():  # round 0 of a whole search
            name = f"halving-{resource}-{share}"
            record = json.loads((workdir / name / "measured.json").read_text())
        else:
            record = search_if_measured("round 0", workdir, data, name, probe, "results/hpo/halving/round0.json", args)
            if record is None:
                continue
        quality = probe_quality(workdir, name, grid_cv, args.factor)
        round0_cpu = record["jobs"]["round0"]["cpu_seconds"]
        payload["probes"][probe] = {
            "run": name,
            "round0_jobs": record["jobs"]["round0"],
            **quality,
            "round0_jobs_cpu_share_of_grid_jobs": round0_cpu / grid_jobs_cpu,
        }
        print(
            f"round 0 {probe}: budget {quality['budget']:.3g}, spearman {quality['spearman']:.3f}, "
            f"best survivor's full rank {quality['best_full_rank_among_survivors']}, grid best survives {quality['grid_best_survives']}, "
            f"jobs' CPU {round0_cpu / grid_jobs_cpu:.1%} of the grid's jobs",
            flush=True,
        )

    payload["halving"] = {}
    for spec in filter(None, args.halving.split(",")):
        resource, share = spec.split(":")
        name = f"halving-{resource}-{share}"
        record = search_if_measured("halving", workdir, data, name, spec, "results/hpo/selection.json", args)
        if record is None:
            continue
        chosen = json.loads((workdir / name / "results" / "hpo" / "selection.json").read_text())
        rounds = halving_lib.plan(n_combos, args.factor, float(share), resource, 200, 3)
        same_run = grid_cv.set_index("combo")["mean_val_accuracy"].get(chosen["combo"])
        payload["halving"][spec] = {
            **record,
            "rounds": [{"budget": r.budget, "candidates": r.n_candidates} for r in rounds],
            "chosen": chosen,
            "chosen_score_in_grid_run": None if same_run is None else float(same_run),
            "points_below_grid_best": 100 * (payload["grid"]["best_mean_val_accuracy"] - chosen["mean_val_accuracy"]),
            "points_below_grid_choice": 100 * (grid_choice["mean_val_accuracy"] - chosen["mean_val_accuracy"]),
            "cpu_share_of_grid": record["cpu_seconds"] / grid["cpu_seconds"],
            "jobs_cpu_share_of_grid_jobs": sum(v["cpu_seconds"] for k, v in record["jobs"].items() if k != "checkpoints")
            / grid["jobs"]["full"]["cpu_seconds"],
            "wall_share_of_grid": record["wall_seconds"] / grid["wall_seconds"],
        }
        h = payload["halving"][spec]
        print(
            f"halving {spec}: chose {chosen['combo']} {chosen['mean_val_accuracy']:.4f} "
            f"({h['points_below_grid_best']:+.2f} points below the grid's best), CPU {h['cpu_share_of_grid']:.1%} of the grid",
            flush=True,
        )

    if args.sklearn:
        try:
            payload["sklearn"] = compare_sklearn(workdir, data, arrays, args)
        except Missing as missing:
            payload["sklearn"] = {"not measured": str(missing)}
        print("sklearn:", json.dumps(payload["sklearn"], indent=1), flush=True)

    payload["projection"] = project(payload)
    print(json.dumps(payload["projection"], indent=2))
    print("wrote", common.save(args.out, payload))


# HalvingGridSearchCV with scikeras trains every fit with plain Keras (no shared epochs, a
# model built per fit): on this shared machine the 192 candidates would take hours, so both
# halving searches are compared on one family of the benchmark grid (16 candidates).
SKLEARN_GRID = {**BENCH_GRID, "num_hidden_layers": [3], "activation": ["LeakyReLU"], "batch_size": [512]}
SKLEARN_MIN_BUDGET = 0.111  # 16 candidates, factor 3: three rounds, 22 -> 67 -> 200 epochs


def compare_sklearn(workdir: Path, data: Path, arrays: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Ours (the workflow, search.jobs as set) and HalvingGridSearchCV on SKLEARN_GRID, both
    with resource epochs from the same smallest budget, factor and folds."""
    combos = grid_lib.expand(SKLEARN_GRID)
    rounds = halving_lib.plan(len(combos), args.factor, SKLEARN_MIN_BUDGET, "epochs", 200, 3)
    halving = {"strategy": "halving", "halving": {"factor": args.factor, "resource": "epochs", "min_budget": SKLEARN_MIN_BUDGET}}
    ours = run_search(workdir, data, "sklearn-ours", halving, "results/hpo/selection.json", args.cores, args.jobs, SKLEARN_GRID)
    ours_choice = json.loads((workdir / "sklearn-ours" / "results" / "hpo" / "selection.json").read_text())
    theirs = sklearn_search(workdir, arrays, SKLEARN_GRID, int(rounds[0].budget), args.factor)
    out: dict[str, Any] = {
        "grid": SKLEARN_GRID,
        "candidates": len(combos),
        "rounds": [{"budget": r.budget, "candidates": r.n_candidates} for r in rounds],
        "ours": {**ours, "chosen": ours_choice["combo"], "mean_val_accuracy": ours_choice["mean_val_accuracy"]},
        "sklearn": theirs,
    }
    if "chosen" in theirs:
        chosen = grid_lib.combo_id(theirs["chosen"])
        full = cv_table(workdir / "grid").set_index("combo")["mean_val_accuracy"]
        out["sklearn"]["chosen_combo"] = chosen
        out["sklearn"]["chosen_score_in_our_grid_run"] = float(full[chosen]) if chosen in full.index else None
        out["cpu_ratio_sklearn_to_ours"] = theirs["cpu_seconds"] / ours["cpu_seconds"]
    return out


def project(payload: dict[str, Any]) -> dict[str, Any]:
    """The default grid (6,144 networks) from this run's CPU per combination: grid, and each
    halving search at its measured CPU share (the rounds keep the same shares of the grid at
    any size once the rounds are the same; see benchmarks/README.md)."""
    per_combo = payload["grid"]["cpu_seconds"] / payload["combinations"]
    default = 6144
    out = {"grid": {"core_hours": per_combo * default / 3600, "wall_hours_8_cores": per_combo * default / 3600 / 8}}
    for spec, h in payload["halving"].items():
        hours = per_combo * default * h["cpu_share_of_grid"] / 3600
        out[f"halving {spec}"] = {"core_hours": hours, "wall_hours_8_cores": hours / 8}
    return out


if __name__ == "__main__":
    main()
