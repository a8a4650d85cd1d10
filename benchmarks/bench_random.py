"""Random search (search.strategy: random) against the full grid, from a finished grid run.

Issue 24: random search's choice against the grid's best at n = 8, 24 and 64 over many seeds,
beside successive halving's 11.7 % of the grid's CPU and 0.43 points below its best
(results/halving_combination.json, ``search.jobs: combination``).

No training: random search trains its draw at the full budget in the grid's own files (the
same stable ids), so every run it can make is already in the benchmark grid's run
(bench_halving.py's ``grid``, ``BENCH_GRID``, the study's arrays). For each n and seed:

- the draw: ``random_search.draw(grid ids in the grid's order, n, seed)``, the workflow's own;
- the choice: ``hpo.choose(the drawn rows of hpo.collect(the grid's run files), max_gap)``, the
  workflow's own rule, with the ``selection.max_gap`` the grid run used (the config's default);
- its mean validation accuracy against the grid's best and the grid's own choice (points);
- its CPU share, with one job per network (``search.jobs: combination``, halving's figure):
  a drawn network's job = the fixed CPU of a job + its epochs (all folds) at its family
  job's training CPU per computed epoch. From the grid's files, each job's ``timing`` record
  (its process's CPU, ``time.process_time``): ``cpu.train`` over ``epochs_computed`` (shared
  epochs counted once) and each run's epochs per fold. Fixed CPU = the median over the grid's
  jobs of ``cpu.total - cpu.train`` (interpreter, imports, reading the arrays; writing and the
  fast exit are < 0.1 s, README). The grid's CPU is the same model summed over its 192
  networks: its jobs alone, as halving's denominator (3,388.6 s projected from measured
  combination jobs). A family job's training CPU is thus shared among its members by epochs
  trained (a member that trained longer cost more), at the cost an epoch has alone. Second
  estimate (``measured_combination_jobs``): each drawn network at its family's mean CPU of
  real one-network jobs (results/halving_combination.json, the same family ids), over its
  3,388.6 s. Snakemake's own CPU is in neither (halving's 11.7 % includes its ~58 s; the
  jobs alone were 10.0 %). With ``search.jobs: family`` (the drawn members of a family trained
  together, sharing epochs) only bounds are known offline: at most the touched families'
  whole jobs, at least one job each computing its longest drawn member.

``--check N:SEED`` runs the workflow's own random search (``search: {strategy: random, random:
{n: N, seed: SEED}}``, the grid run's ``search.jobs``) in a copy of the grid run (times and
Snakemake's records kept, so the grid's own table stays as it is): its dry run (it must plan no
training) and its ``selection.json`` against this script's choice for that draw.

    .venv/bin/python benchmarks/bench_halving.py --workdir /tmp/rb --probes "" --halving "" --sklearn 0   # the grid
    .venv/bin/python benchmarks/bench_random.py --grid-run /tmp/rb/grid --n 8,19,24,64 --check 8:1
Writes benchmarks/results/random.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import common
import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(common.REPO))
from bench_halving import BENCH_GRID, SNAKEMAKE  # noqa: E402

from workflow_scripts.search import grid as grid_lib  # noqa: E402
from workflow_scripts.search import hpo  # noqa: E402
from workflow_scripts.search.random_search import draw  # noqa: E402

# Successive halving with one job per network (results/halving_combination.json; README
# "Successive halving with one job per network"): its CPU (Snakemake included) over the
# grid's jobs' projected CPU, and its choice's points below the grid's best.
MEASURED_COMBINATION = common.RESULTS / "halving_combination.json"


def halving_figures() -> dict[str, Any]:
    """Halving's CPU share and points below the grid's best, as results/halving_combination.json holds them."""
    record = json.loads(MEASURED_COMBINATION.read_text())
    h = record["halving"]["epochs:0.037"]
    return {
        "cpu_share_of_grid": h["cpu_share_of_grid"],
        "jobs_cpu_share_of_grid_jobs": h["jobs_cpu_share_of_grid_jobs"],
        "points_below_grid_best": h["points_below_grid_best"],
        "points_below_grid_choice": h["points_below_grid_choice"],
        "chosen": h["chosen"]["combo"],
        "source": f"{MEASURED_COMBINATION.relative_to(common.REPO)}: halving['epochs:0.037'] ({record['command']})",
        "grid_jobs_cpu_seconds_projected": record["grid"]["cpu_seconds"],
        "measured_job_cpu_per_family": {f: v["mean_job_cpu_seconds"] for f, v in record["grid"]["sample"]["per_family"].items()},
    }


def job_files(run: Path, jobs: str) -> list[Path]:
    """The grid's job outputs: one per family (``search.jobs: family``/``architecture``) or per network."""
    folder = run / "results" / "hpo" / ("runs" if jobs == "combination" else "families")
    return sorted(folder.glob("*.json"))


def job_costs(run: Path, jobs: str) -> dict[str, dict[str, Any]]:
    """Per grid job, from its ``timing`` record: its process's CPU (``cpu.total``) and training
    CPU (``cpu.train``), the epochs it computed (shared epochs once), its members' epochs per
    fold; and the CPU of Snakemake's ``benchmark:`` file (``cpu_time``, sampled: it misses up
    to a few seconds at the end of a job)."""
    out = {}
    for path in job_files(run, jobs):
        content = json.loads(path.read_text())
        bench = run / "results" / "benchmarks" / "hpo"
        tsv = bench / f"{path.stem}.tsv" if jobs == "combination" else bench / "families" / f"{path.stem}.tsv"
        with open(tsv) as handle:
            sampled = float(next(csv.DictReader(handle, delimiter="\t"))["cpu_time"])
        timing = content["timing"]
        members = {combo: [int(f["epochs"]) for f in r["folds"]] for combo, r in content["runs"].items()}
        out[path.stem] = {
            "cpu_seconds": float(timing["cpu"]["total"]),
            "benchmark_file_cpu_seconds": sampled,
            "train_cpu_seconds": float(timing["cpu"]["train"]),
            "epochs_computed": int(timing.get("epochs_computed") or sum(sum(e) for e in members.values())),
            "members": members,
        }
    return out


def network_costs(jobs: dict[str, dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], float]:
    """Each network's CPU as a job of its own: the fixed CPU of a job (median over the grid's
    jobs of CPU before training: interpreter, imports, reading the arrays) + its epochs at its
    job's training CPU per computed epoch; and its share of its family job (the job's CPU by
    epochs trained, summing to the job's CPU)."""
    fixed = common.median(j["cpu_seconds"] - j["train_cpu_seconds"] for j in jobs.values())
    out = {}
    for job, j in jobs.items():
        per_epoch = j["train_cpu_seconds"] / j["epochs_computed"]
        total_epochs = sum(sum(e) for e in j["members"].values())
        for combo, epochs in j["members"].items():
            out[combo] = {
                "job": job,
                "epochs": sum(epochs),
                "epochs_per_fold": epochs,
                "alone_cpu_seconds": fixed + per_epoch * sum(epochs),
                "share_of_job_cpu_seconds": j["cpu_seconds"] * sum(epochs) / total_epochs,
            }
    return out, fixed


def family_bounds(
    drawn: list[str], networks: dict[str, dict[str, Any]], jobs: dict[str, dict[str, Any]], fixed: float
) -> tuple[float, float]:
    """CPU of the draw with ``search.jobs: family``: (at least, at most). A family's drawn
    members share their epochs in one job: it computes at least the longest drawn member's
    epochs in each fold, and at most what the whole family's job computed."""
    touched: dict[str, list[str]] = {}
    for combo in drawn:
        touched.setdefault(networks[combo]["job"], []).append(combo)
    low = high = 0.0
    for job, members in touched.items():
        j = jobs[job]
        per_epoch = j["train_cpu_seconds"] / j["epochs_computed"]
        longest = sum(max(networks[c]["epochs_per_fold"][k] for c in members) for k in range(len(networks[members[0]]["epochs_per_fold"])))
        low += fixed + per_epoch * longest
        high += j["cpu_seconds"]
    return low, high


def percentiles(values: list[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=float)
    return {"median": float(np.median(a)), "p90": float(np.percentile(a, 90)), "worst": float(a.max()), "mean": float(a.mean())}


def evaluate(
    cv: Any, ids: list[str], n: int, seeds: range, max_gap: float, best: float, grid_choice: dict[str, Any], costs: dict[str, Any]
) -> dict[str, Any]:
    """The draws of ``n`` for every seed: the choice, its points below, its CPU share."""
    networks, jobs, fixed = costs["networks"], costs["jobs"], costs["fixed"]
    measured, measured_grid = costs["measured_job_cpu_per_family"], costs["measured_grid_cpu_seconds"]
    grid_alone = sum(v["alone_cpu_seconds"] for v in networks.values())
    grid_family = sum(j["cpu_seconds"] for j in jobs.values())
    rows = []
    for seed in seeds:
        drawn = draw(ids, n, seed)
        chosen = hpo.choose(cv[cv["combo"].isin(drawn)], max_gap)
        low, high = family_bounds(drawn, networks, jobs, fixed)
        rows.append(
            {
                "seed": seed,
                "chosen": chosen["combo"],
                "mean_val_accuracy": chosen["mean_val_accuracy"],
                "points_below_grid_best": 100 * (best - chosen["mean_val_accuracy"]),
                "points_below_grid_choice": 100 * (grid_choice["mean_val_accuracy"] - chosen["mean_val_accuracy"]),
                "cpu_share": sum(networks[c]["alone_cpu_seconds"] for c in drawn) / grid_alone,
                "cpu_share_measured_combination_jobs": sum(measured[costs["family_of"][c]] for c in drawn) / measured_grid
                if measured
                else None,
                "family_cpu_share_low": low / grid_family,
                "family_cpu_share_high": high / grid_family,
            }
        )
    below = [r["points_below_grid_best"] for r in rows]
    return {
        "n": n,
        "seeds": len(rows),
        "points_below_grid_best": percentiles(below),
        "points_below_grid_choice": percentiles([r["points_below_grid_choice"] for r in rows]),
        "cpu_share": percentiles([r["cpu_share"] for r in rows]),
        "cpu_share_measured_combination_jobs": percentiles([r["cpu_share_measured_combination_jobs"] for r in rows]) if measured else None,
        "family_cpu_share_low": percentiles([r["family_cpu_share_low"] for r in rows]),
        "family_cpu_share_high": percentiles([r["family_cpu_share_high"] for r in rows]),
        "share_reaching_the_grid_best": sum(b <= 1e-9 for b in below) / len(rows),  # ties: callback variants that never differed
        "share_choosing_the_grid_choice": sum(r["chosen"] == grid_choice["combo"] for r in rows) / len(rows),
        "share_within_halving_points": sum(b <= costs["halving_points"] + 1e-12 for b in below) / len(rows),
        "share_within_0.5_points": sum(b <= 0.5 for b in below) / len(rows),
        "most_chosen": dict(Counter(r["chosen"] for r in rows).most_common(10)),
    }


def check(run: Path, workdir: Path, n: int, seed: int, jobs: str, offline: dict[str, Any]) -> dict[str, Any]:
    """The workflow's random search of (n, seed) in a copy of the grid run: dry run, then run."""
    copy = workdir / f"random-check-{n}-{seed}"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(run, copy, copy_function=shutil.copy2, symlinks=True)
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["search"] = {**config.get("search", {}), "jobs": jobs, "strategy": "random", "random": {"n": n, "seed": seed}}
    configfile = common.write_yaml(copy / "config.yaml", config)
    base = [*SNAKEMAKE, "--directory", str(copy), "--configfile", str(configfile), "--cores", "1"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    dry = subprocess.run([*base, "-n", "--", "results/hpo/selection.json"], capture_output=True, text=True, env=env)
    dry_text = dry.stdout + dry.stderr
    lines = dry_text.splitlines()
    stats = lines.index("Job stats:") if "Job stats:" in lines else len(lines)
    end = next((i for i in range(stats, len(lines)) if lines[i].startswith("total")), len(lines))
    planned = {line.split()[0]: int(line.split()[1]) for line in lines[stats + 3 : end] if line.strip()}
    training = {rule: count for rule, count in planned.items() if rule.startswith(("hpo_combination", "hpo_family", "hpo_round"))}
    result: dict[str, Any] = {"n": n, "seed": seed, "workdir": str(copy), "dry_run_rc": dry.returncode, "dry_run_jobs": planned}
    (copy / "dry-run.log").write_text(dry_text)
    if "checkpoint aggregate_hpo:" in lines:  # the files the choice is made from
        at = lines.index("checkpoint aggregate_hpo:")
        inputs = next((line for line in lines[at : at + 4] if line.strip().startswith("input:")), "")
        result["dry_run_aggregate_hpo_input"] = inputs.split(":", 1)[1].strip().split(", ")
    if training:
        result["dry_run_plans_training"] = training
        result["dry_run_output"] = dry_text[-4000:]
        print(f"check {n}:{seed}: the dry run plans training:\n{dry_text[-4000:]}", flush=True)
    start = time.perf_counter()
    with open(copy / "snakemake-random.log", "w") as log:
        process = subprocess.Popen([*base, "--", "results/hpo/selection.json"], stdout=log, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
    result.update({"rc": status, "wall_seconds": time.perf_counter() - start, "cpu_seconds": usage.ru_utime + usage.ru_stime})
    if status != 0:
        result["failed"] = f"see {copy / 'snakemake-random.log'}"
        return result
    selection = json.loads((copy / "results" / "hpo" / "selection.json").read_text())
    result["workflow"] = {k: selection.get(k) for k in ("combo", "mean_val_accuracy", "n_combinations", "strategy", "seed", "reason")}
    result["offline"] = {k: offline[k] for k in ("combo", "mean_val_accuracy", "n_combinations")}
    result["agree"] = selection["combo"] == offline["combo"] and selection["n_combinations"] == offline["n_combinations"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--grid-run", default="/tmp/genre-factor-bench/halving/grid", help="bench_halving.py's finished grid run (its workdir/grid)"
    )
    parser.add_argument("--n", default="8,24,64", help="draw sizes, comma-separated")
    parser.add_argument("--seeds", type=int, default=1000, help="seeds 0 .. SEEDS-1 per n")
    parser.add_argument("--check", default="", help="N:SEED: run the workflow's random search of that draw in a copy of the grid run")
    parser.add_argument("--out", default="random.json")
    args = parser.parse_args()
    run = Path(args.grid_run)
    config = yaml.safe_load((run / "config.yaml").read_text())
    if config["grid"] != BENCH_GRID:
        print("note: the grid run's grid is not BENCH_GRID", flush=True)
    jobs = config["search"]["jobs"]
    combos = grid_lib.expand(config["grid"])
    ids = list(combos)
    files = job_files(run, jobs)
    cv = hpo.collect(files)
    if sorted(cv["combo"]) != sorted(ids):
        raise SystemExit(f"{run}: {len(cv)} runs for {len(ids)} combinations: the grid run is not finished")
    table = pd.read_csv(run / "results" / "hpo" / "cv_results.csv").set_index("combo")["mean_val_accuracy"]
    if not np.allclose(table[cv["combo"]].to_numpy(), cv["mean_val_accuracy"].to_numpy()):
        raise SystemExit(f"{run}: cv_results.csv differs from the runs")
    selection = json.loads((run / "results" / "hpo" / "selection.json").read_text())
    max_gap = float(selection["max_gap"])  # what the grid run used: selection.max_gap's default
    grid_choice = hpo.choose(cv, max_gap)
    if grid_choice["combo"] != selection["combo"]:
        raise SystemExit(f"hpo.choose gives {grid_choice['combo']}, the grid run chose {selection['combo']}")
    best = float(cv["mean_val_accuracy"].max())

    job_records = job_costs(run, jobs)
    networks, fixed = network_costs(job_records)
    halving = halving_figures()
    family_of = {c: grid_lib.family_id(params, "family") for c, params in combos.items()}
    measured = halving["measured_job_cpu_per_family"]
    if not set(family_of.values()) <= set(measured):
        measured = {}  # another grid than halving_combination.json's: no second estimate
    costs = {
        "networks": networks,
        "jobs": job_records,
        "fixed": fixed,
        "family_of": family_of,
        "measured_job_cpu_per_family": measured,
        "measured_grid_cpu_seconds": halving["grid_jobs_cpu_seconds_projected"],
        "halving_points": halving["points_below_grid_best"],
    }
    grid_alone = sum(v["alone_cpu_seconds"] for v in networks.values())
    grid_jobs = sum(j["cpu_seconds"] for j in job_records.values())
    grid_measured = json.loads((run / "measured.json").read_text()) if (run / "measured.json").exists() else {}
    print(
        f"grid run {run}: {len(ids)} combinations in {len(job_records)} jobs ({jobs}), jobs' CPU {grid_jobs:.1f} s; "
        f"fixed CPU a job {fixed:.2f} s; as one job per network {grid_alone:.1f} s; best {best:.4f}, "
        f"chosen {grid_choice['combo']} {grid_choice['mean_val_accuracy']:.4f} (max_gap {max_gap})",
        flush=True,
    )

    results = {}
    for n in (int(x) for x in args.n.split(",")):
        results[str(n)] = evaluate(cv, ids, n, range(args.seeds), max_gap, best, grid_choice, costs)
    rows = [
        [
            "halving (one search, results/halving_combination.json)",
            f"{halving['points_below_grid_best']:.2f}",
            "",
            "",
            "",
            f"{100 * halving['cpu_share_of_grid']:.1f} % (jobs {100 * halving['jobs_cpu_share_of_grid_jobs']:.1f} %)",
            "",
        ]
    ]
    for n, r in results.items():
        b = r["points_below_grid_best"]
        rows.append(
            [
                f"random n={n}",
                f"{b['median']:.2f}",
                f"{b['p90']:.2f}",
                f"{b['worst']:.2f}",
                f"{100 * r['share_within_halving_points']:.0f} %",
                f"{100 * r['cpu_share']['median']:.1f} %",
                f"{100 * r['cpu_share_measured_combination_jobs']['median']:.1f} %" if measured else "",
            ]
        )
    print(
        common.table(
            rows, ["search", "points below: median", "p90", "worst", "seeds within halving's", "CPU share (median)", "from measured jobs"]
        ),
        flush=True,
    )

    payload: dict[str, Any] = {
        "command": " ".join(sys.argv),
        "grid_run": str(run),
        "grid_run_measured": {k: grid_measured.get(k) for k in ("wall_seconds", "cpu_seconds", "load_average", "jobs")},
        "grid": config["grid"],
        "jobs": jobs,
        "combinations": len(ids),
        "max_gap": max_gap,
        "grid_best_mean_val_accuracy": best,
        "grid_mean_val_accuracy_spread": {
            "min": float(cv["mean_val_accuracy"].min()),
            "median": float(cv["mean_val_accuracy"].median()),
            "std": float(cv["mean_val_accuracy"].std()),
            "best_std_over_folds": float(cv["std_val_accuracy"].iloc[0]),
        },
        "grid_choice": grid_choice,
        "cost_model": {
            "fixed_cpu_seconds_per_job": fixed,
            "grid_jobs_cpu_seconds": grid_jobs,
            "grid_as_one_job_per_network_cpu_seconds": grid_alone,
            "per_family": {
                job: {
                    "cpu_seconds": j["cpu_seconds"],
                    "train_cpu_seconds": j["train_cpu_seconds"],
                    "epochs_computed": j["epochs_computed"],
                    "epochs_of_its_networks": sum(sum(e) for e in j["members"].values()),
                    "mean_alone_cpu_seconds": float(np.mean([networks[c]["alone_cpu_seconds"] for c in j["members"]])),
                    "measured_mean_combination_job_cpu_seconds": measured.get(family_of[next(iter(j["members"]))]),
                }
                for job, j in job_records.items()
            },
        },
        "halving": halving,
        "random": results,
    }
    if args.check:
        n, seed = (int(x) for x in args.check.split(":"))
        drawn = draw(ids, n, seed)
        offline = hpo.choose(cv[cv["combo"].isin(drawn)], max_gap)
        payload["check"] = check(run, run.parent, n, seed, jobs, offline)
        # what a choice among every run of the grid jobs the draw touches would be (those
        # files are the final round's inputs when the grid already trained the whole family)
        touched = {c for c in ids if networks[c]["job"] in {networks[d]["job"] for d in drawn}}
        over_touched = hpo.choose(cv[cv["combo"].isin(touched)], max_gap)
        payload["check"]["drawn"] = drawn
        payload["check"]["offline_over_the_touched_jobs"] = {k: over_touched[k] for k in ("combo", "mean_val_accuracy", "n_combinations")}
        print("check:", json.dumps({k: v for k, v in payload["check"].items() if k != "dry_run_output"}, indent=1), flush=True)
    print("wrote", common.save(args.out, payload))


if __name__ == "__main__":
    main()
