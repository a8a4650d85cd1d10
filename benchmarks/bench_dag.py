"""DAG size: how long `snakemake -n` takes on the default grid, on a grid 4x as large, and
against bare Snakemake workflows with the same number of jobs.

Goal (issue #5): the dry run of the default 8,192-combination config (6,144 grid jobs)
completes in under 15 s; show how it grows with 4x the grid (dropout_rate and
reduce_lr_factor get four values instead of two: 32,768 combinations, 24,576 networks).
Goal (issue #14): the default's dry run takes at most 1.3 times a bare workflow with the same
number of jobs. Two references, generated in the scratch directory, with the default DAG's
shape (one rule of as many jobs as the grid, a chain of single jobs before it, one after):
- "bare": rules with only input, output and `shell: "touch {output}"`: Snakemake's cost of
  planning that many jobs;
- "same directives": the same rules with what ours declare per job (log, benchmark, group,
  conda, threads, resources, params with a per-job function, `script:`), and no parse-time
  code of ours: what Snakemake itself charges for such jobs.

Each run is a fresh `snakemake -n --quiet --cores 8` in an empty scratch directory (nothing
built yet: every job is planned), runs alternating between the workflows; medians of wall
time, of CPU time (user + sys: the machine is shared) and of the process's peak memory.
The job counts come from one more run each with `--quiet rules` (it prints the job table).

    .venv/bin/python benchmarks/bench_dag.py             # 3 runs each (~3 min on free cores)
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
from workflow_scripts.search import grid as grid_lib  # noqa: E402

# Runs a command and prints its wall time and peak resident memory (that child only).
MEASURE = (
    "import json, resource, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "result = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(json.dumps({'seconds': time.perf_counter() - start, 'cpu_seconds': usage.ru_utime + usage.ru_stime, 'peak_mb': usage.ru_maxrss / 1024,"
    " 'returncode': result.returncode, 'output': result.stdout[-4000:] + result.stderr[-4000:]}))\n"
)

FOUR_X = {"dropout_rate": [0.2, 0.3, 0.4, 0.5], "reduce_lr_factor": [0.1, 0.2, 0.5, 0.8]}

# The reference workflows: {grid} jobs of rule `grid`, after a chain of {chain} single jobs,
# then `aggregate` and `all`. {directives} is empty (bare) or what our grid rule declares.
REFERENCE = """\
rule all:
    input:
        "aggregate.txt",


rule aggregate:
    input:
        expand("grid/{{i}}.txt", i=range({grid})),
    output:
        "aggregate.txt",
{directives_aggregate}


rule grid:
    input:
        "chain/{last}.txt",
    output:
        "grid/{{i}}.txt",
{directives_grid}


rule chain:
    input:
        lambda wildcards: [] if int(wildcards.k) == 0 else f"chain/{{int(wildcards.k) - 1}}.txt",
    output:
        "chain/{{k}}.txt",
{directives_chain}
"""
BARE = '    shell:\n        "touch {output}"'
# What our grid rule declares per job, one block per directive (bench_dag_directives.py drops
# them one at a time). {name}/{wildcard}: the log and benchmark path; {key}: the params lookup.
DIRECTIVES = {
    "log": '    log:\n        "logs/{name}{wildcard}.log",\n',
    "benchmark": '    benchmark:\n        "benchmarks/{name}{wildcard}.tsv"\n',
    "group": '    group:\n        "grid"\n',
    "conda": '    conda:\n        "env.yaml"\n',
    "threads": "    threads: 1\n",
    "resources": "    resources:\n        mem_mb=1500,\n        runtime=10,\n",
    "params": "    params:\n        values=lambda wildcards: PARAMS[{key}],\n        settings=SETTINGS,\n",
    "script": '    script:\n        "step.py"\n',
}
# Variants of a directive (bench_dag_directives.py): the same params without a function.
VARIANTS = {
    "params": {
        "static params": "    params:\n        values=PARAMS[0],\n        settings=SETTINGS,\n",
        "params function only": "    params:\n        values=lambda wildcards: PARAMS[{key}],\n",
    },
    "script": {"shell instead of script": '    shell:\n        "touch {{output}}"\n'},
}
SAME_DIRECTIVES_HEAD = """\
PARAMS = {{i: {{"units_1": 64, "units_2": 128, "dropout_rate": 0.3, "activation": "relu"}} for i in range({n})}}
SETTINGS = {{"max_epochs": 200, "learning_rate": 0.001, "seed": 42, "threads": 1}}


"""


def directives(name: str, wildcard: str, key: object, grouped: bool, replace: dict[str, str | None] | None = None) -> str:
    """The directive blocks of one reference rule; ``replace`` maps a directive to other text
    (None: dropped)."""
    blocks = {**DIRECTIVES, **(replace or {})}
    if not grouped:
        blocks["group"] = None
    if blocks["script"] is None:
        blocks["script"] = VARIANTS["script"]["shell instead of script"]
    text = "".join(block for block in blocks.values() if block)
    return text.format(name=name, wildcard=wildcard, key=key)


def write_reference(root: Path, kind: str, grid_jobs: int, total_jobs: int, replace: dict[str, str | None] | None = None) -> Path:
    """A Snakefile of ``total_jobs`` jobs, ``grid_jobs`` of them from one rule: "bare", or with
    our directives (changed as ``replace`` says)."""
    chain = total_jobs - grid_jobs - 2
    directory = root / f"reference-{kind}".replace(" ", "-")
    directory.mkdir()
    if kind == "bare":
        head, parts = "", dict.fromkeys(("aggregate", "grid", "chain"), BARE)
    else:
        (directory / "env.yaml").write_text("channels: [conda-forge]\ndependencies: [python]\n")
        (directory / "step.py").write_text("open(snakemake.output[0], 'w').close()\n")
        head = SAME_DIRECTIVES_HEAD.format(n=max(grid_jobs, chain))
        parts = {
            "aggregate": directives("aggregate", "", 0, False, replace),
            "grid": directives("grid/", "{i}", "int(wildcards.i)", True, replace),
            "chain": directives("chain/", "{k}", "int(wildcards.k)", False, replace),
        }
    text = head + REFERENCE.format(
        grid=grid_jobs,
        last=chain - 1,
        directives_aggregate=parts["aggregate"].rstrip("\n"),
        directives_grid=parts["grid"].rstrip("\n"),
        directives_chain=parts["chain"].rstrip("\n"),
    )
    (directory / "Snakefile").write_text(text)
    return directory / "Snakefile"


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


def dry_run(workdir: Path, configfile: Path | None, quiet: tuple[str, ...] = (), snakefile: Path | None = None) -> dict[str, Any]:
    snakefile = snakefile or common.REPO / "Snakefile"
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile), "--directory", str(workdir)]
    if configfile:
        command += ["--configfile", str(configfile)]
    command += ["--cores", "8", "-n", "--quiet", *quiet]
    measured = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, check=True)
    result = json.loads(measured.stdout)
    if result["returncode"] != 0:
        raise SystemExit(f"snakemake -n failed:\n{result['output']}")
    result["jobs"] = planned(result.pop("output"))
    return result


REFERENCES = ("bare", "same directives")


def timing(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "seconds_median": common.median(r["seconds"] for r in runs),
        "seconds": [r["seconds"] for r in runs],
        "cpu_seconds_median": common.median(r["cpu_seconds"] for r in runs),
        "cpu_seconds": [r["cpu_seconds"] for r in runs],
        "peak_mb_median": common.median(r["peak_mb"] for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one run each")
    parser.add_argument("--out", default="dag.json")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats

    default = yaml.safe_load((common.REPO / "config.yaml").read_text())
    grids = {"default": default["grid"], "4x": {**default["grid"], **FOUR_X}}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in [*grids, *REFERENCES]}
    with tempfile.TemporaryDirectory(prefix="genre-factor-dag-") as scratch:
        root = Path(scratch)
        configs = {"default": None, "4x": common.write_yaml(root / "4x.yaml", {"grid": grids["4x"]})}
        jobs = {}
        for name in grids:  # once, with the job table (printing each job's rule costs time)
            workdir = root / f"{name}-count"
            workdir.mkdir()
            jobs[name] = dry_run(workdir, configs[name], ("rules",))["jobs"]
        snakefiles = {
            kind: write_reference(root, kind, jobs["default"]["hpo_combination"], jobs["default"]["total"]) for kind in REFERENCES
        }
        for kind, snakefile in snakefiles.items():
            workdir = root / f"{kind}-count"
            workdir.mkdir()
            jobs[kind] = dry_run(workdir, None, ("rules",), snakefile)["jobs"]
            if jobs[kind].get("total") != jobs["default"]["total"]:
                raise SystemExit(f"reference {kind} plans {jobs[kind].get('total')} jobs, the default {jobs['default']['total']}")
        for repeat in range(repeats):
            for name in [*grids, *REFERENCES]:
                workdir = root / f"{name}-{repeat}"
                workdir.mkdir()
                run = dry_run(workdir, configs.get(name), snakefile=snakefiles.get(name))
                runs[name].append(run)
                print(
                    f"{name:16s} run {repeat}: {run['seconds']:.1f} s wall, {run['cpu_seconds']:.1f} s CPU, {run['peak_mb']:.0f} MB",
                    flush=True,
                )

    summary: dict[str, Any] = {}
    for name, grid in grids.items():
        summary[name] = {
            "combinations": grid_lib.count_combinations(grid),
            "networks": len(grid_lib.expand(grid)),
            "grid_jobs": jobs[name].get("hpo_combination"),
            "total_jobs": jobs[name].get("total"),
            **timing(runs[name]),
        }
    references = {kind: {"total_jobs": jobs[kind].get("total"), **timing(runs[kind])} for kind in REFERENCES}
    d = summary["default"]
    ratios = {
        kind: {
            "wall": d["seconds_median"] / ref["seconds_median"],
            "cpu": d["cpu_seconds_median"] / ref["cpu_seconds_median"],
        }
        for kind, ref in references.items()
    }
    q = summary["4x"]
    growth = {
        "jobs_ratio": q["grid_jobs"] / d["grid_jobs"],
        "seconds_ratio": q["seconds_median"] / d["seconds_median"],
        "ms_per_extra_job": 1000 * (q["seconds_median"] - d["seconds_median"]) / (q["grid_jobs"] - d["grid_jobs"]),
        "mb_per_1000_extra_jobs": 1000 * (q["peak_mb_median"] - d["peak_mb_median"]) / (q["grid_jobs"] - d["grid_jobs"]),
    }
    print()
    rows = [
        [n, s["combinations"], s["networks"], s["total_jobs"], s["seconds_median"], s["cpu_seconds_median"], s["peak_mb_median"]]
        for n, s in summary.items()
    ]
    rows += [
        [f"reference: {k}", "-", "-", r["total_jobs"], r["seconds_median"], r["cpu_seconds_median"], r["peak_mb_median"]]
        for k, r in references.items()
    ]
    print(
        common.table(rows, ["workflow", "combinations", "networks (jobs)", "DAG jobs", "dry run s (median)", "CPU s (median)", "peak MB"])
    )
    for kind, ratio in ratios.items():
        print(f"default / {kind}: {ratio['wall']:.2f}x wall, {ratio['cpu']:.2f}x CPU (medians; goal <= 1.3 against bare)")
    print(
        f"\n4x grid: {growth['jobs_ratio']:.1f}x jobs -> {growth['seconds_ratio']:.1f}x time "
        f"({growth['ms_per_extra_job']:.2f} ms and {growth['mb_per_1000_extra_jobs']:.0f} MB per 1,000 extra jobs); "
        f"goal for the default: < 15 s, measured {d['seconds_median']:.1f} s"
    )
    path = common.save(
        args.out,
        {
            "command": " ".join(sys.argv),
            "repeats": repeats,
            "grids": summary,
            "growth": growth,
            "four_x_changes": FOUR_X,
            "references": references,
            "default_over_reference": ratios,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
