"""What each per-job directive costs `snakemake -n` (issue #14, the DAG goal).

bench_dag.py compares the default config's dry run with two generated references of the same
shape and job count: "bare" (input, output, `shell: "touch"`) and "same directives" (what our
rules declare per job: log, benchmark, group, conda, threads, resources, params with a per-job
function, `script:`). This script adds variants of "same directives" with one directive
dropped (or changed: params without a function, `shell:` instead of `script:`), so the
difference to "same directives" is that directive's cost for 6,158 jobs.

Each run is a fresh `snakemake -n --quiet --cores 8` in an empty scratch directory, the
variants interleaved (run 0 of every variant, then run 1, ...); medians of CPU time (user +
sys of the Snakemake process: the machine is shared) and wall time.

    .venv/bin/python benchmarks/bench_dag_directives.py              # 3 runs each (~13 variants)
    .venv/bin/python benchmarks/bench_dag_directives.py --repeats 1
Writes benchmarks/results/dag_directives.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import bench_dag
import common

# name -> {directive: replacement text, None = dropped}
VARIANTS: dict[str, dict[str, str | None]] = {
    "same directives": {},
    "without script (shell: touch)": {"script": None},
    "without params": {"params": None},
    "params without function (static)": {"params": bench_dag.VARIANTS["params"]["static params"]},
    "params: function only (no settings dict)": {"params": bench_dag.VARIANTS["params"]["params function only"]},
    "without benchmark": {"benchmark": None},
    "without log": {"log": None},
    "without group": {"group": None},
    "without conda": {"conda": None},
    "without resources": {"resources": None},
    "without threads": {"threads": None},
    "log + conda + script only": dict.fromkeys(("benchmark", "group", "threads", "resources", "params")),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--grid-jobs", type=int, default=6144, help="jobs of the grid rule (default: the default config's)")
    parser.add_argument("--total-jobs", type=int, default=6158, help="jobs in all (default: the default config's)")
    parser.add_argument("--out", default="dag_directives.json")
    args = parser.parse_args()

    load_at_start = os.getloadavg()
    names = ["bare", *VARIANTS]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix="genre-factor-dag-directives-") as scratch:
        root = Path(scratch)
        snakefiles = {"bare": bench_dag.write_reference(root, "bare", args.grid_jobs, args.total_jobs)}
        for name, replace in VARIANTS.items():
            snakefiles[name] = bench_dag.write_reference(root, name, args.grid_jobs, args.total_jobs, replace)
        for name, snakefile in snakefiles.items():  # each plans the same jobs
            workdir = root / f"count-{len(os.listdir(root))}"
            workdir.mkdir()
            total = bench_dag.dry_run(workdir, None, ("rules",), snakefile)["jobs"].get("total")
            if total != args.total_jobs:
                raise SystemExit(f"{name}: {total} jobs planned, expected {args.total_jobs}")
        for repeat in range(args.repeats):
            for name in names:
                workdir = root / f"run-{len(os.listdir(root))}"
                workdir.mkdir()
                run = bench_dag.dry_run(workdir, None, snakefile=snakefiles[name])
                runs[name].append(run)
                print(f"{name:42s} run {repeat}: {run['seconds']:.1f} s wall, {run['cpu_seconds']:.2f} s CPU", flush=True)

    summary = {name: bench_dag.timing(r) for name, r in runs.items()}
    same = summary["same directives"]["cpu_seconds_median"]
    bare = summary["bare"]["cpu_seconds_median"]
    rows = []
    for name, s in summary.items():
        cpu = s["cpu_seconds_median"]
        s["cpu_over_bare"] = cpu / bare
        s["saved_vs_same_directives_cpu_s"] = same - cpu
        s["saved_ms_per_job"] = 1000 * (same - cpu) / args.total_jobs
        rows.append([name, s["seconds_median"], cpu, s["cpu_over_bare"], s["saved_vs_same_directives_cpu_s"], s["saved_ms_per_job"]])
    print()
    print(
        common.table(
            rows,
            ["reference workflow", "wall s (median)", "CPU s (median)", "CPU / bare", "CPU s saved vs same directives", "ms per job"],
        )
    )
    path = common.save(
        args.out,
        {
            "command": " ".join(sys.argv),
            "repeats": args.repeats,
            "load_average_at_start": load_at_start,
            "grid_jobs": args.grid_jobs,
            "total_jobs": args.total_jobs,
            "variants": {name: VARIANTS.get(name, "bare") for name in names},
            "results": summary,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
