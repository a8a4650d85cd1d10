"""DAG size: how long `snakemake -n` takes on the default grid, and on a grid 4x as large.

Goal (issue #5): the dry run of the default 8,192-combination config (6,144 grid jobs)
completes in under 15 s; show how it grows with 4x the grid (dropout_rate and
reduce_lr_factor get four values instead of two: 32,768 combinations, 24,576 networks).

Each run is a fresh `snakemake -n --quiet --cores 8` on the repository's Snakefile and
config.yaml, in an empty scratch directory (nothing built yet: every job is planned), runs
alternating between the two grids; medians of wall time and of the process's peak memory.
The job counts come from one more run each with `--quiet rules` (it prints the job table).

    .venv/bin/python benchmarks/bench_dag.py             # 3 runs each (~1.5 min)
    .venv/bin/python benchmarks/bench_dag.py --quick     # 1 run each
Writes benchmarks/results/dag.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import common
import yaml

sys.path.insert(0, str(common.REPO))
from workflow_scripts import grid as grid_lib  # noqa: E402

# Runs a command and prints its wall time and peak resident memory (that child only).
MEASURE = (
    "import json, resource, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "result = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "print(json.dumps({'seconds': time.perf_counter() - start, 'peak_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,"
    " 'returncode': result.returncode, 'output': result.stdout[-4000:] + result.stderr[-4000:]}))\n"
)

FOUR_X = {"dropout_rate": [0.2, 0.3, 0.4, 0.5], "reduce_lr_factor": [0.1, 0.2, 0.5, 0.8]}


def planned(output: str) -> dict[str, int]:
    lines = output.splitlines()
    counts: dict[str, int] = {}
    start = next((i for i, line in enumerate(lines) if line.startswith("Job stats")), None)
    if start is None:
        return counts
    for line in lines[start + 3 :]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        counts[parts[0]] = int(parts[1])
    return counts


def dry_run(workdir: Path, configfile: Path | None, quiet: tuple[str, ...] = ()) -> dict[str, Any]:
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(common.REPO / "Snakefile"), "--directory", str(workdir)]
    if configfile:
        command += ["--configfile", str(configfile)]
    command += ["--cores", "8", "-n", "--quiet", *quiet]
    measured = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, check=True)
    result = json.loads(measured.stdout)
    if result["returncode"] != 0:
        raise SystemExit(f"snakemake -n failed:\n{result['output']}")
    result["jobs"] = planned(result.pop("output"))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one run each")
    parser.add_argument("--out", default="dag.json")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats

    default = yaml.safe_load((common.REPO / "config.yaml").read_text())
    grids = {"default": default["grid"], "4x": {**default["grid"], **FOUR_X}}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in grids}
    with tempfile.TemporaryDirectory(prefix="genre-factor-dag-") as scratch:
        root = Path(scratch)
        configs = {"default": None, "4x": common.write_yaml(root / "4x.yaml", {"grid": grids["4x"]})}
        jobs = {}
        for name in grids:  # once, with the job table (printing each job's rule costs time)
            workdir = root / f"{name}-count"
            workdir.mkdir()
            jobs[name] = dry_run(workdir, configs[name], ("rules",))["jobs"]
        for repeat in range(repeats):
            for name in grids:
                workdir = root / f"{name}-{repeat}"
                workdir.mkdir()
                run = dry_run(workdir, configs[name])
                runs[name].append(run)
                print(
                    f"{name:8s} run {repeat}: {run['seconds']:.1f} s, {run['peak_mb']:.0f} MB ({jobs[name].get('hpo_combination')} grid jobs)",
                    flush=True,
                )

    summary: dict[str, Any] = {}
    for name, grid in grids.items():
        summary[name] = {
            "combinations": grid_lib.count_combinations(grid),
            "networks": len(grid_lib.expand(grid)),
            "grid_jobs": jobs[name].get("hpo_combination"),
            "total_jobs": jobs[name].get("total"),
            "seconds_median": common.median(r["seconds"] for r in runs[name]),
            "seconds": [r["seconds"] for r in runs[name]],
            "peak_mb_median": common.median(r["peak_mb"] for r in runs[name]),
        }
    d, q = summary["default"], summary["4x"]
    growth = {
        "jobs_ratio": q["grid_jobs"] / d["grid_jobs"],
        "seconds_ratio": q["seconds_median"] / d["seconds_median"],
        "ms_per_extra_job": 1000 * (q["seconds_median"] - d["seconds_median"]) / (q["grid_jobs"] - d["grid_jobs"]),
        "mb_per_1000_extra_jobs": 1000 * (q["peak_mb_median"] - d["peak_mb_median"]) / (q["grid_jobs"] - d["grid_jobs"]),
    }
    print()
    rows = [[n, s["combinations"], s["networks"], s["total_jobs"], s["seconds_median"], s["peak_mb_median"]] for n, s in summary.items()]
    print(common.table(rows, ["grid", "combinations", "networks (jobs)", "DAG jobs", "dry run s (median)", "peak MB"]))
    print(
        f"\n4x grid: {growth['jobs_ratio']:.1f}x jobs -> {growth['seconds_ratio']:.1f}x time "
        f"({growth['ms_per_extra_job']:.2f} ms and {growth['mb_per_1000_extra_jobs']:.0f} MB per 1,000 extra jobs); "
        f"goal for the default: < 15 s, measured {d['seconds_median']:.1f} s"
    )
    path = common.save(
        args.out, {"command": " ".join(sys.argv), "repeats": repeats, "grids": summary, "growth": growth, "four_x_changes": FOUR_X}
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
