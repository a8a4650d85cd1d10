"""Per grid job: the share of its wall time that is not training; the whole grid on 8 cores.

Goal (issue #5): under 10 % of a grid job's wall time outside training (start-up, imports,
reading data, writing results); the projected wall time of the default grid on 8 cores from
measured per-job figures.

1. Real jobs: the workflow's own rule hpo_combination, run by Snakemake (`--forcerun`) for a
   random sample of the default grid's networks on the study's arrays, --cores jobs at a
   time with one thread each (N jobs on N cores). Per job: Snakemake's benchmark wall time (the
   `benchmark:` file) against the run's own timing record (process start to script, imports,
   reading the arrays, training = the k folds: build, trace, fit, score).
2. Several combinations per process: the same step given a list of combinations (what a
   batched rule variant would pass): one process for a group of networks that differ only in
   their callbacks (16 in the default grid; by default the smallest network's group at batch
   256, which is cheap; --group random for others). Such a group shares its traced graph and
   its common epochs (hpo.train_combinations); the results are those of one job each.
3. Start-up A/B: a fresh process that imports what the grid step imports, as the step did
   before (Keras, then features and hpo: scikit-learn included) and as it does now.
4. Threads: one network trained by N one-thread processes at once, against N processes of N
   threads one after another (training seconds per network).
5. Projection: the default grid's networks x the mean measured job wall time / 8 cores (jobs
   of one thread each scale with cores), plus the DAG build (benchmarks/results/dag.json);
   with groups: the share of epochs a group computes applied to the jobs' training time, the
   time outside training paid once per group. Twice: from wall seconds as measured here, and
   from the jobs' CPU seconds (what each takes on a core of its own: on a shared machine a
   one-thread job gets less than a core, and its wall time says more about the neighbours).

    .venv/bin/python benchmarks/bench_job.py            # 8 networks, 1 group (~10 min unloaded)
    .venv/bin/python benchmarks/bench_job.py --quick    # 4 networks, 1 group, no thread comparison
Writes benchmarks/results/job.json.
"""

from __future__ import annotations

import argparse
import csv
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
from workflow_scripts import grid as grid_lib  # noqa: E402
from workflow_scripts import model  # noqa: E402

STEP = common.REPO / "workflow_scripts" / "steps" / "hpo_combination.py"

# Runs the grid step in a fresh process on a list of combinations, as Snakemake's script
# directive would (a `snakemake` object with input, output, params, threads, log).
BATCH = """
import json, runpy, sys
from types import SimpleNamespace
job = json.loads(sys.argv[1])
smk = SimpleNamespace(input=[job["arrays"]], output=job["outputs"], log=[], rule="hpo_combination", threads=job.get("threads", 1),
                      params=SimpleNamespace(hyperparameters=job["combos"], training=job["training"]))
runpy.run_path(job["step"], init_globals={"snakemake": smk}, run_name="__main__")
"""

STARTUP = {
    "before": "import keras\nfrom workflow_scripts import features, hpo\n",
    "now": "from workflow_scripts import model\nmodel.load_backend()\nimport numpy\nfrom workflow_scripts import hpo\n",
}


def default_groups() -> dict[Any, dict[str, dict[str, Any]]]:
    """The default grid's networks by sharing key: each group differs only in its callbacks."""
    default = yaml.safe_load((common.REPO / "config.yaml").read_text())
    groups: dict[Any, dict[str, dict[str, Any]]] = {}
    for combo, params in grid_lib.expand(default["grid"]).items():
        groups.setdefault(model.sharing_key(params), {})[combo] = params
    return groups


def sample_networks(n: int, seed: int) -> dict[str, dict[str, Any]]:
    networks = {c: p for group in default_groups().values() for c, p in group.items()}
    return {c: networks[c] for c in random.Random(seed).sample(sorted(networks), n)}


def pick_groups(which: str, n: int, seed: int) -> list[dict[str, dict[str, Any]]]:
    """``small``: the group of the smallest network at batch 256 (cheap); ``random``: n groups."""
    groups = default_groups()
    if which == "small":
        return [groups[model.sharing_key({**common.SMALLEST, "activation": "LeakyReLU", "dropout_rate": 0.3, "batch_size": 256})]]
    return [groups[key] for key in random.Random(seed).sample(sorted(groups), n)]


def real_jobs(results: Path, config: Path, combos: dict[str, Any], cores: int, allowed: bool) -> dict[str, Any]:
    targets = [str(results / "hpo" / "runs" / f"{c}.json") for c in combos]
    for target in targets:
        Path(target).unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--cores",
        str(cores),
        "--quiet",
        "--configfile",
        str(config),
        "--forcerun",
        "hpo_combination",
    ]
    if allowed:
        command += ["--allowed-rules", "hpo_combination"]
    start = time.perf_counter()
    done = subprocess.run([*command, "--", *targets], cwd=common.REPO, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"snakemake failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    jobs = []
    for combo in combos:
        run = json.loads((results / "hpo" / "runs" / f"{combo}.json").read_text())
        with open(results / "benchmarks" / "hpo" / f"{combo}.tsv") as handle:
            bench = next(csv.DictReader(handle, delimiter="\t"))
        jobs.append(job_record(combo, run, float(bench["s"]), float(bench["cpu_time"])))
    return {"snakemake_wall_seconds": wall, "jobs": jobs}


def job_record(combo: str, run: dict[str, Any], wall: float, cpu_time: float | None = None) -> dict[str, Any]:
    timing = run["timing"]
    before = timing["before_script"] or 0.0
    record = {
        "combo": combo,
        "network": "-".join(str(run["params"][f"units_{k}"]) for k in range(1, int(run["params"]["num_hidden_layers"]) + 2)),
        "batch_size": run["params"]["batch_size"],
        "epochs": [f["epochs"] for f in run["folds"]],
        "wall": wall,
        "train": timing["train"],
        "before_script": before,
        "imports": timing["imports"],
        "read": timing["read"],
    }
    record["other"] = max(0.0, wall - before - timing["imports"] - timing["read"] - timing["train"])
    record["not_training_share"] = 1 - timing["train"] / wall
    cpu = timing["cpu"]
    record["cpu"] = {**cpu, "snakemake_benchmark_cpu_time": cpu_time, "not_training_share": 1 - cpu["train"] / cpu["total"]}
    record["core_share"] = cpu["total"] / wall  # how much of a core the job got
    return record


def batched_jobs(arrays: Path, out: Path, groups: list[dict[str, Any]], cores: int, training: dict[str, Any]) -> dict[str, Any]:
    combos = {c: p for group in groups for c, p in group.items()}
    groups = [list(group) for group in groups]
    out.mkdir(parents=True, exist_ok=True)

    def run(group: list[str]) -> dict[str, Any]:
        outputs = [str(out / f"{c}.json") for c in group]
        job = {"arrays": str(arrays), "outputs": outputs, "combos": [combos[c] for c in group], "training": training, "step": str(STEP)}
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", BATCH, json.dumps(job)], cwd=common.REPO, check=True, capture_output=True, env=_env())
        wall = time.perf_counter() - start
        runs = [json.loads(Path(o).read_text()) for o in outputs]
        first = runs[0]["timing"]
        train = first["train"]  # the process's training time, all its combinations
        return {
            "combos": group,
            "epochs_computed": first["epochs_computed"],
            "epochs_of_the_combinations": sum(f["epochs"] for r in runs for f in r["folds"]),
            "wall": wall,
            "train": train,
            "before_script": first["before_script"],
            "imports": first["imports"],
            "read": first["read"],
            "not_training_share": 1 - train / wall,
            "cpu": {**first["cpu"], "not_training_share": 1 - first["cpu"]["train"] / first["cpu"]["total"]},
        }

    with ThreadPoolExecutor(cores) as pool:
        processes = list(pool.map(run, groups))
    return {"processes": processes}


def threads_study(arrays: Path, out: Path, cores: int, training: dict[str, Any], repeats: int) -> dict[str, Any]:
    """The same network trained by `cores` one-thread processes at once (N jobs on N cores)
    and by `cores` processes of `cores` threads one after another (one job using all cores)."""
    params = common.MORE["mid-b256-relu"]
    out.mkdir(parents=True, exist_ok=True)

    def run(name: str, threads: int) -> float:
        output = str(out / f"{name}.json")
        job = {"arrays": str(arrays), "outputs": [output], "combos": [params], "training": training, "step": str(STEP), "threads": threads}
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arrays", help="arrays.npz from rule prepare_features (default: built once under /tmp)")
    parser.add_argument("--networks", type=int, default=8, help="networks sampled from the default grid, one job each")
    parser.add_argument("--group", choices=("small", "random"), default="small", help="which group(s) of 16 to train in one process")
    parser.add_argument("--groups", type=int, default=1, help="with --group random: how many")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2, help="jobs at a time, one thread each")
    parser.add_argument("--target-cores", type=int, default=8, help="cores of the projection")
    parser.add_argument("--startup-repeats", type=int, default=5)
    parser.add_argument("--threads-repeats", type=int, default=1, help="rounds of the thread comparison (0: skip it)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="4 networks, 3 start-up repeats, no thread comparison")
    parser.add_argument("--out", default="job.json")
    args = parser.parse_args()
    if args.quick:
        args.networks, args.startup_repeats, args.threads_repeats = 4, 3, 0

    arrays = common.ensure_arrays(args.arrays)
    scratch = common.SCRATCH / "job"
    results = scratch / "results"
    allowed = False
    if arrays == common.DEFAULT_ARRAYS:
        results = common.SCRATCH / "results"
    else:  # a copy in a results directory of its own; only the grid rule may run
        (results / "features").mkdir(parents=True, exist_ok=True)
        shutil.copy(arrays, results / "features" / "arrays.npz")
        allowed = True
    config = common.write_yaml(scratch / "config.yaml", {"results_dir": str(results), **common.STUDY_DATA})
    training = yaml.safe_load((common.REPO / "config.yaml").read_text())["training"]
    combos = sample_networks(args.networks, args.seed)
    groups = pick_groups(args.group, args.groups, args.seed)

    print(f"1. {len(combos)} real grid jobs (one network each) through Snakemake, {args.cores} at a time ...", flush=True)
    real = real_jobs(results, config, combos, args.cores, allowed)
    for job in real["jobs"]:
        print(
            f"   {job['network']:>18s} b{job['batch_size']:<5d} wall {job['wall']:5.1f} s  train {job['train']:5.1f} s  "
            f"start {job['before_script']:.1f} + imports {job['imports']:.1f} + read {job['read']:.2f} + other {job['other']:.1f} s  "
            f"-> {100 * job['not_training_share']:.0f} % not training",
            flush=True,
        )
    print(f"2. {len(groups)} group(s) of networks that differ only in their callbacks, one process each ...", flush=True)
    batched = batched_jobs(arrays, scratch / "batched", groups, args.cores, training)
    for process in batched["processes"]:
        print(
            f"   {len(process['combos'])} networks: wall {process['wall']:.1f} s, {100 * process['not_training_share']:.0f} % not training, "
            f"{process['epochs_computed']} epochs computed for {process['epochs_of_the_combinations']} epochs of the networks",
            flush=True,
        )
    print("3. start-up of a fresh process: the step's imports before and now ...", flush=True)
    startup = startup_ab(args.startup_repeats)
    threads = None
    if args.threads_repeats > 0:
        print(f"4. threads: {args.cores} one-thread jobs at once against one {args.cores}-thread job at a time ...", flush=True)
        threads = threads_study(arrays, scratch / "threads", args.cores, training, args.threads_repeats)

    jobs = real["jobs"]
    processes = batched["processes"]
    n_networks = sum(len(g) for g in default_groups().values())
    n_groups = len(default_groups())
    mean_wall = statistics.fmean(j["wall"] for j in jobs)
    sem = statistics.stdev(j["wall"] for j in jobs) / len(jobs) ** 0.5 if len(jobs) > 1 else float("nan")
    mean_train = statistics.fmean(j["train"] for j in jobs)
    mean_overhead = statistics.fmean(j["wall"] - j["train"] for j in jobs)
    epoch_share = sum(p["epochs_computed"] for p in processes) / sum(p["epochs_of_the_combinations"] for p in processes)
    group_size = statistics.fmean(len(p["combos"]) for p in processes)
    dag_seconds = 5.0
    dag_file = common.RESULTS / "dag.json"
    if dag_file.exists():
        dag_seconds = json.loads(dag_file.read_text())["grids"]["default"]["seconds_median"]
    cores = args.target_cores
    mean_cpu = statistics.fmean(j["cpu"]["total"] for j in jobs)
    mean_cpu_train = statistics.fmean(j["cpu"]["train"] for j in jobs)
    projection_cpu = {
        "mean_job_cpu_seconds": mean_cpu,
        "one_job_per_network_hours": (n_networks * mean_cpu / cores + dag_seconds) / 3600,
        "one_process_per_group_hours": (
            n_networks * (mean_cpu_train * epoch_share + (mean_cpu - mean_cpu_train) / group_size) / cores + dag_seconds
        )
        / 3600,
        "core_hours": n_networks * mean_cpu / 3600,
        "why": "a job's CPU seconds are what it takes on a core of its own; on this shared machine jobs got "
        f"{100 * statistics.fmean(j['core_share'] for j in jobs):.0f} % of a core on average",
    }
    projection = {
        "networks": n_networks,
        "groups": n_groups,
        "target_cores": cores,
        "mean_job_wall_seconds": mean_wall,
        "mean_job_wall_sem": sem,
        "one_job_per_network_hours": (n_networks * mean_wall / cores + dag_seconds) / 3600,
        "one_job_per_network_hours_2se": [
            n_networks * (mean_wall - 2 * sem) / cores / 3600,
            n_networks * (mean_wall + 2 * sem) / cores / 3600,
        ],
        "core_hours": n_networks * mean_wall / 3600,
        "epochs_computed_share_in_groups": epoch_share,
        "one_process_per_group_hours": (n_networks * (mean_train * epoch_share + mean_overhead / group_size) / cores + dag_seconds) / 3600,
        "one_process_per_group_derivation": "networks x (mean training of a one-network job x share of epochs a group computes "
        "+ mean time outside training of a job / networks per group) / cores + DAG",
        "assumes": "independent one-thread jobs scale linearly from the measured cores to target_cores; the sampled networks stand "
        "for the grid; the DAG build is added once",
    }
    summary = {
        "not_training_share": {
            "per_job_median": common.median(j["not_training_share"] for j in jobs),
            "all_jobs": 1 - sum(j["train"] for j in jobs) / sum(j["wall"] for j in jobs),
            "group_processes": 1 - sum(p["train"] for p in processes) / sum(p["wall"] for p in processes),
        },
        "not_training_share_cpu": {
            "per_job_median": common.median(j["cpu"]["not_training_share"] for j in jobs),
            "all_jobs": 1 - sum(j["cpu"]["train"] for j in jobs) / sum(j["cpu"]["total"] for j in jobs),
            "group_processes": 1 - sum(p["cpu"]["train"] for p in processes) / sum(p["cpu"]["total"] for p in processes),
        },
        "core_share_mean": statistics.fmean(j["core_share"] for j in jobs),
        "medians_seconds": {k: common.median(j[k] for j in jobs) for k in ("wall", "train", "before_script", "imports", "read", "other")},
        "epochs_computed_share_in_groups": epoch_share,
        "snakemake_overhead_seconds_per_job": (real["snakemake_wall_seconds"] - sum(j["wall"] for j in jobs) / args.cores) / len(jobs),
        "startup": startup,
    }
    print()
    s = summary["not_training_share"]
    m = summary["medians_seconds"]
    print(
        f"one network per job ({len(jobs)} jobs): median wall {m['wall']:.1f} s, training {m['train']:.1f} s; outside training: "
        f"start {m['before_script']:.1f} s, imports {m['imports']:.1f} s, read {m['read']:.2f} s, other {m['other']:.1f} s"
    )
    c = summary["not_training_share_cpu"]
    print(
        f"  share not training: median job {100 * s['per_job_median']:.0f} %, all jobs together {100 * s['all_jobs']:.0f} % "
        f"(CPU seconds: {100 * c['per_job_median']:.0f} %, {100 * c['all_jobs']:.0f} %; jobs got {100 * summary['core_share_mean']:.0f} % of a core)"
    )
    print(
        f"one process per group of {group_size:.0f}: share not training {100 * s['group_processes']:.0f} % "
        f"(CPU seconds: {100 * c['group_processes']:.0f} %); "
        f"epochs computed: {100 * epoch_share:.0f} % of the networks' epochs"
    )
    print(
        f"start-up of the step's imports: before {startup['before']['median']:.1f} s, now {startup['now']['median']:.1f} s (fresh process, medians)"
    )
    if threads:
        t = threads["medians"]
        print(
            f"training time per network: {args.cores} one-thread jobs at once {t['parallel_1_thread']:.1f} s, "
            f"one {args.cores}-thread job at a time {t['sequential_all_threads']:.1f} s ({threads['parallel_speedup']:.2f}x)"
        )
    p = projection
    print(
        f"whole default grid ({n_networks} networks) on {cores} cores: {p['one_job_per_network_hours']:.1f} h with one job per network "
        f"(±2 SE {p['one_job_per_network_hours_2se'][0]:.1f}-{p['one_job_per_network_hours_2se'][1]:.1f} h; {p['core_hours']:.0f} core-hours); "
        f"{p['one_process_per_group_hours']:.1f} h with one process per group of {group_size:.0f} ({n_groups} groups; derived, see job.json)"
    )
    q = projection_cpu
    print(
        f"  from CPU seconds (a core per job): {q['one_job_per_network_hours']:.1f} h with one job per network "
        f"({q['core_hours']:.0f} core-hours), {q['one_process_per_group_hours']:.1f} h with one process per group"
    )
    path = common.save(
        args.out,
        {
            "command": " ".join(sys.argv),
            "cores": args.cores,
            "sample_seed": args.seed,
            "summary": summary,
            "projection": projection,
            "projection_cpu": projection_cpu,
            "real_jobs": real,
            "batched": batched,
            "threads": threads,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
