"""Per grid job: the share of its wall time that is not training; the whole grid on 8 cores.

Goal (issue #5): under 10 % of a grid job's wall time outside training (start-up, imports,
reading data, writing results); the projected wall time of the default grid on 8 cores from
measured per-job figures.

1. Real jobs: the workflow's own rule hpo_combination, run by Snakemake (`--forcerun`) for a
   random sample of the default grid's networks on the study's arrays, --cores jobs at a
   time with one thread each (N jobs on N cores). Per job: Snakemake's benchmark wall time (the
   `benchmark:` file) against the run's own timing record (imports,
   reading the arrays, training = the k folds: build, trace, fit, score).
2. Family and architecture jobs: the workflow's rule hpo_family with `search.jobs: family`
   (a random sample of the default grid's 384 families: the 16 networks that differ only in
   their callbacks, trained in one process sharing their common epochs and their traced
   graph) and with `search.jobs: architecture` (of its 96 architectures: 4 families, one per
   batch size, sharing the process and the traced graph). Each network's result is that of
   its own hpo_combination job.
3. Start-up A/B: a fresh process that imports what the grid step imports, as the step did
   before (Keras, then features and hpo: scikit-learn included) and as it does now.
4. Threads: one network trained by N one-thread processes at once, against N processes of N
   threads one after another (training seconds per network).
5. Projection: the default grid's jobs x their mean measured wall time / 8 cores (jobs of one
   thread each scale with cores), plus the DAG build (benchmarks/results/dag.json): 6,144
   network jobs, 384 family jobs or 96 architecture jobs. Twice: from wall seconds as measured here, and from the
   jobs' CPU seconds (what each takes on a core of its own: on a shared machine a one-thread
   job gets less than a core, and its wall time says more about the neighbours).

    .venv/bin/python benchmarks/bench_job.py            # 8 networks, 6 families, 2 architectures (~25 min on 2 free cores)
    .venv/bin/python benchmarks/bench_job.py --quick    # 4 networks, 2 families, no thread comparison
    .venv/bin/python benchmarks/bench_job.py --networks 0 --families 0 --startup-repeats 0 --threads-repeats 0 --out job_architecture.json
Writes benchmarks/results/job.json.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import common
import yaml

sys.path.insert(0, str(common.REPO))
from workflow_scripts.search import grid as grid_lib  # noqa: E402

STEP = common.REPO / "workflow_scripts" / "steps" / "hpo_combination.py"

# Runs the grid step in a fresh process on one combination, as Snakemake's script directive
# would (a `snakemake` object with input, output, params, threads, log).
BATCH = """
import json, runpy, sys
from types import SimpleNamespace
job = json.loads(sys.argv[1])
smk = SimpleNamespace(input=[job["arrays"]], output=[job["output"]], log=[], rule="hpo_combination", threads=job.get("threads", 1),
                      wildcards=SimpleNamespace(combo="bench"), params=SimpleNamespace(hyperparameters=job["combo"], training=job["training"]))
runpy.run_path(job["step"], init_globals={"snakemake": smk}, run_name="__main__")
"""

STARTUP = {
    "before": "import keras\nfrom workflow_scripts.features import pipeline\nfrom workflow_scripts.search import hpo\n",
    "now": "from workflow_scripts.models import network as model\nmodel.load_backend()\nimport numpy\nfrom workflow_scripts.search import hpo\n",
}


@functools.cache
def default_jobs(kind: str) -> dict[str, dict[str, dict[str, Any]]]:
    """The default grid's jobs of a kind (grid.families): family or architecture (read-only)."""
    default = yaml.safe_load((common.REPO / "config.yaml").read_text())
    combos = grid_lib.expand(default["grid"])
    return {job: {c: combos[c] for c in members} for job, members in grid_lib.families(combos, kind).items()}


def sample_networks(n: int, seed: int) -> dict[str, dict[str, Any]]:
    networks = {c: p for family in default_jobs("family").values() for c, p in family.items()}
    return {c: networks[c] for c in random.Random(seed).sample(sorted(networks), n)}


def sample_jobs(kind: str, n: int, seed: int) -> list[str]:
    return random.Random(seed + 1).sample(sorted(default_jobs(kind)), n)


def snakemake_jobs(config: Path, rule: str, targets: list[Path], cores: int, allowed: bool) -> float:
    """Runs ``rule`` for ``targets`` through Snakemake (``--forcerun``); its wall seconds."""
    for target in targets:
        target.unlink(missing_ok=True)
    command = [sys.executable, "-m", "snakemake", "--cores", str(cores), "--quiet", "--configfile", str(config), "--forcerun", rule]
    if allowed:
        command += ["--allowed-rules", rule]
    start = time.perf_counter()
    done = subprocess.run([*command, "--", *map(str, targets)], cwd=common.REPO, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"snakemake failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return wall


def benchmark_row(path: Path) -> dict[str, str]:
    with open(path) as handle:
        return next(csv.DictReader(handle, delimiter="\t"))


def real_jobs(results: Path, config: Path, combos: dict[str, Any], cores: int, allowed: bool) -> dict[str, Any]:
    targets = [results / "hpo" / "runs" / f"{c}.json" for c in combos]
    wall = snakemake_jobs(config, "hpo_combination", targets, cores, allowed)
    jobs = []
    for combo, target in zip(combos, targets, strict=True):
        bench = benchmark_row(results / "benchmarks" / "hpo" / f"{combo}.tsv")
        content = json.loads(target.read_text())
        jobs.append(job_record(combo, {**content["runs"][combo], "timing": content["timing"]}, float(bench["s"]), float(bench["cpu_time"])))
    return {"snakemake_wall_seconds": wall, "jobs": jobs}


def job_record(combo: str, run: dict[str, Any], wall: float, cpu_time: float | None = None) -> dict[str, Any]:
    timing = run["timing"]
    outside = max(0.0, wall - timing["job_seconds"])  # process start, Snakemake's preamble, write + exit
    record = {
        "combo": combo,
        "network": "-".join(str(run["params"][f"units_{k}"]) for k in range(1, int(run["params"]["num_hidden_layers"]) + 2)),
        "batch_size": run["params"]["batch_size"],
        "epochs": [f["epochs"] for f in run["folds"]],
        "wall": wall,
        "train": timing["train"],
        "outside": outside,
        "imports": timing["imports"],
        "read": timing["read"],
    }
    record["other"] = max(0.0, wall - outside - timing["imports"] - timing["read"] - timing["train"])
    record["not_training_share"] = 1 - timing["train"] / wall
    cpu = timing["cpu"]
    record["cpu"] = {**cpu, "snakemake_benchmark_cpu_time": cpu_time, "not_training_share": 1 - cpu["train"] / cpu["total"]}
    record["core_share"] = cpu["total"] / wall  # how much of a core the job got
    return record


def family_jobs(results: Path, config: Path, families: list[str], cores: int, allowed: bool) -> dict[str, Any]:
    """Rule hpo_family for ``families`` (of the kind ``config`` sets in search.jobs)."""
    targets = [results / "hpo" / "families" / f"{f}.json" for f in families]
    wall = snakemake_jobs(config, "hpo_family", targets, cores, allowed)
    jobs = []
    for family, target in zip(families, targets, strict=True):
        content = json.loads(target.read_text())
        runs = list(content["runs"].values())
        bench = benchmark_row(results / "benchmarks" / "hpo" / "families" / f"{family}.tsv")
        record = job_record(family, {**runs[0], "timing": content["timing"]}, float(bench["s"]), float(bench["cpu_time"]))
        record["networks"] = len(runs)
        record["batch_sizes"] = sorted({int(r["params"]["batch_size"]) for r in runs})
        record["epochs_computed"] = content["timing"]["epochs_computed"]
        record["epochs_of_the_networks"] = sum(f["epochs"] for r in runs for f in r["folds"])
        jobs.append(record)
    return {"snakemake_wall_seconds": wall, "jobs": jobs}


def threads_study(arrays: Path, out: Path, cores: int, training: dict[str, Any], repeats: int) -> dict[str, Any]:
    """The same network trained by `cores` one-thread processes at once (N jobs on N cores)
    and by `cores` processes of `cores` threads one after another (one job using all cores)."""
    params = common.MORE["mid-b256-relu"]
    out.mkdir(parents=True, exist_ok=True)

    def run(name: str, threads: int) -> float:
        output = str(out / f"{name}.json")
        job = {"arrays": str(arrays), "output": output, "combo": params, "training": training, "step": str(STEP), "threads": threads}
        subprocess.run([sys.executable, "-c", BATCH, json.dumps(job)], cwd=common.REPO, check=True, capture_output=True, env=_env())
        return json.loads(Path(output).read_text())["timing"]["train"]

    per_network: dict[str, list[float]] = {"parallel_1_thread": [], "sequential_all_threads": []}
    for repeat in range(repeats):
        with ThreadPoolExecutor(cores) as pool:
            trains = list(pool.map(run, [f"p{repeat}-{i}" for i in range(cores)], [1] * cores))
        per_network["parallel_1_thread"].append(statistics.fmean(trains) / cores)
        trains = [run(f"s{repeat}-{i}", cores) for i in range(cores)]
        per_network["sequential_all_threads"].append(statistics.fmean(trains))
    medians = {k: common.median(v) for k, v in per_network.items()}
    return {
        "network": params,
        "training_seconds_per_network": per_network,
        "medians": medians,
        "parallel_speedup": medians["sequential_all_threads"] / medians["parallel_1_thread"],
    }


def _env() -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(common.REPO)}


def startup_ab(repeats: int) -> dict[str, Any]:
    times: dict[str, list[float]] = {k: [] for k in STARTUP}
    for _ in range(repeats):
        for name, code in STARTUP.items():
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], cwd=common.REPO, check=True, capture_output=True, env=_env())
            times[name].append(time.perf_counter() - start)
    return {name: {"median": common.median(v), "seconds": v} for name, v in times.items()}


def shares(jobs: list[dict[str, Any]]) -> dict[str, float]:
    """The share of wall (and CPU) time not training: the median job, and all jobs together."""
    return {
        "per_job_median": common.median(j["not_training_share"] for j in jobs),
        "all_jobs": 1 - sum(j["train"] for j in jobs) / sum(j["wall"] for j in jobs),
        "cpu_per_job_median": common.median(j["cpu"]["not_training_share"] for j in jobs),
        "cpu_all_jobs": 1 - sum(j["cpu"]["train"] for j in jobs) / sum(j["cpu"]["total"] for j in jobs),
    }


def projection(jobs: list[dict[str, Any]], n_jobs: int, cores: int, dag_seconds: float) -> dict[str, Any]:
    """The grid's n_jobs jobs on `cores` cores from the measured jobs' mean wall and CPU seconds."""
    walls = [j["wall"] for j in jobs]
    mean_wall = statistics.fmean(walls)
    sem = statistics.stdev(walls) / len(walls) ** 0.5 if len(walls) > 1 else float("nan")
    mean_cpu = statistics.fmean(j["cpu"]["total"] for j in jobs)
    return {
        "jobs": n_jobs,
        "target_cores": cores,
        "mean_job_wall_seconds": mean_wall,
        "mean_job_wall_sem": sem,
        "hours": (n_jobs * mean_wall / cores + dag_seconds) / 3600,
        "hours_2se": [
            (n_jobs * (mean_wall - 2 * sem) / cores + dag_seconds) / 3600,
            (n_jobs * (mean_wall + 2 * sem) / cores + dag_seconds) / 3600,
        ],
        "core_hours": n_jobs * mean_wall / 3600,
        "mean_job_cpu_seconds": mean_cpu,
        "hours_from_cpu_seconds": (n_jobs * mean_cpu / cores + dag_seconds) / 3600,
        "core_hours_from_cpu_seconds": n_jobs * mean_cpu / 3600,
    }


def print_jobs(jobs: list[dict[str, Any]]) -> None:
    for job in jobs:
        networks = f" x{job['networks']}" if "networks" in job else ""
        batches = "/".join(map(str, job.get("batch_sizes", [job["batch_size"]])))
        print(
            f"   {job['network']:>18s}{networks} b{batches:<5s} wall {job['wall']:6.1f} s  train {job['train']:6.1f} s  "
            f"outside the script's clock {job['outside']:.1f} + imports {job['imports']:.1f} + read {job['read']:.2f} + other {job['other']:.1f} s  "
            f"-> {100 * job['not_training_share']:.1f} % not training",
            flush=True,
        )


KINDS = {  # search.jobs -> what one job of that kind is called here
    "combination": "one network per job",
    "family": "one family of 16 per job",
    "architecture": "one architecture (64 networks) per job",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arrays", help="arrays.npz from rule prepare_features (default: built once under /tmp)")
    parser.add_argument("--networks", type=int, default=8, help="networks sampled from the default grid, one job each (0: skip)")
    parser.add_argument("--families", type=int, default=6, help="families sampled from the default grid, one job each (0: skip)")
    parser.add_argument("--architectures", type=int, default=2, help="architecture jobs sampled from the default grid (0: skip)")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2, help="jobs at a time, one thread each")
    parser.add_argument("--target-cores", type=int, default=8, help="cores of the projection")
    parser.add_argument("--startup-repeats", type=int, default=5, help="0: skip the start-up comparison")
    parser.add_argument("--threads-repeats", type=int, default=1, help="rounds of the thread comparison (0: skip it)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="4 networks, 2 families, no architecture, 3 start-up repeats, no threads")
    parser.add_argument("--out", default="job.json")
    args = parser.parse_args()
    if args.quick:
        args.networks, args.families, args.architectures, args.startup_repeats, args.threads_repeats = 4, 2, 0, 3, 0

    arrays = common.ensure_arrays(args.arrays)
    scratch = common.SCRATCH / "job"
    results = scratch / "results"
    allowed = False
    if arrays == common.DEFAULT_ARRAYS:
        results = common.SCRATCH / "results"
    else:  # a copy in a results directory of its own; only the grid rules may run
        (results / "features").mkdir(parents=True, exist_ok=True)
        shutil.copy(arrays, results / "features" / "arrays.npz")
        allowed = True
    training = yaml.safe_load((common.REPO / "config.yaml").read_text())["training"]
    samples = {"combination": args.networks, "family": args.families, "architecture": args.architectures}
    measured: dict[str, dict[str, Any]] = {}
    for step, (kind, n) in enumerate(((k, n) for k, n in samples.items() if n > 0), start=1):
        config = common.write_yaml(scratch / f"{kind}.yaml", {"results_dir": str(results), **common.STUDY_DATA, "search": {"jobs": kind}})
        rule = "hpo_combination" if kind == "combination" else "hpo_family"
        print(
            f"{step}. {n} grid jobs, {KINDS[kind]} (search.jobs: {kind}, rule {rule}) through Snakemake, {args.cores} at a time ...",
            flush=True,
        )
        if kind == "combination":
            measured[kind] = real_jobs(results, config, sample_networks(n, args.seed), args.cores, allowed)
        else:
            measured[kind] = family_jobs(results, config, sample_jobs(kind, n, args.seed), args.cores, allowed)
        print_jobs(measured[kind]["jobs"])
    startup = None
    if args.startup_repeats > 0:
        print("start-up of a fresh process: the step's imports before and now ...", flush=True)
        startup = startup_ab(args.startup_repeats)
    threads = None
    if args.threads_repeats > 0:
        print(f"threads: {args.cores} one-thread jobs at once against one {args.cores}-thread job at a time ...", flush=True)
        threads = threads_study(arrays, scratch / "threads", args.cores, training, args.threads_repeats)

    n_networks = sum(len(f) for f in default_jobs("family").values())
    n_jobs = {"combination": n_networks, "family": len(default_jobs("family")), "architecture": len(default_jobs("architecture"))}
    dag_seconds = 5.0
    dag_file = common.RESULTS / "dag.json"
    if dag_file.exists():
        dag_seconds = json.loads(dag_file.read_text())["grids"]["default"]["seconds_median"]
    summary: dict[str, Any] = {"startup": startup}
    projections: dict[str, Any] = {
        "assumes": "independent one-thread jobs scale linearly from the measured cores to target_cores; the sampled jobs stand "
        "for the grid; the DAG build of the default config (one job per network) is added once",
    }
    print()
    for kind, result in measured.items():
        jobs = result["jobs"]
        m = {k: common.median(j[k] for j in jobs) for k in ("wall", "train", "outside", "imports", "read", "other")}
        sh = shares(jobs)
        summary[kind] = {"not_training_share": sh, "medians_seconds": m, "core_share_mean": statistics.fmean(j["core_share"] for j in jobs)}
        print(
            f"{KINDS[kind]} ({len(jobs)} jobs): median wall {m['wall']:.1f} s, training {m['train']:.1f} s; outside training: "
            f"outside the script's clock (start, write, exit) {m['outside']:.1f} s, imports {m['imports']:.1f} s, read {m['read']:.2f} s, other {m['other']:.1f} s"
        )
        print(
            f"  share not training: median job {100 * sh['per_job_median']:.1f} %, all jobs together {100 * sh['all_jobs']:.1f} % "
            f"(CPU seconds: {100 * sh['cpu_per_job_median']:.1f} %, {100 * sh['cpu_all_jobs']:.1f} %; "
            f"jobs got {100 * summary[kind]['core_share_mean']:.0f} % of a core)"
        )
        if kind != "combination":
            share = sum(j["epochs_computed"] for j in jobs) / sum(j["epochs_of_the_networks"] for j in jobs)
            summary[kind]["epochs_computed_share"] = share
            print(f"  computed {100 * share:.0f} % of their networks' epochs")
        else:
            summary[kind]["snakemake_overhead_seconds_per_job"] = (
                result["snakemake_wall_seconds"] - sum(j["wall"] for j in jobs) / args.cores
            ) / len(jobs)
        projections[kind] = projection(jobs, n_jobs[kind], args.target_cores, dag_seconds)
    if startup:
        print(
            f"start-up of the step's imports: before {startup['before']['median']:.1f} s, now {startup['now']['median']:.1f} s (fresh process, medians)"
        )
    if threads:
        t = threads["medians"]
        print(
            f"training time per network: {args.cores} one-thread jobs at once {t['parallel_1_thread']:.1f} s, "
            f"one {args.cores}-thread job at a time {t['sequential_all_threads']:.1f} s ({threads['parallel_speedup']:.2f}x)"
        )
    for kind in measured:
        p = projections[kind]
        print(
            f"whole default grid ({n_networks} networks), {KINDS[kind]} ({p['jobs']} jobs) on {p['target_cores']} cores: "
            f"{p['hours']:.1f} h (±2 SE {p['hours_2se'][0]:.1f}-{p['hours_2se'][1]:.1f} h; {p['core_hours']:.1f} core-hours); "
            f"from CPU seconds (a core per job) {p['hours_from_cpu_seconds']:.1f} h"
        )
    path = common.save(
        args.out,
        {
            "command": " ".join(sys.argv),
            "cores": args.cores,
            "sample_seed": args.seed,
            "summary": summary,
            "projection": projections,
            "jobs": measured,
            "threads": threads,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
