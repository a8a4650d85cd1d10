"""End-to-end checks against a real single-node SLURM cluster (root + installed SLURM only).

The cluster (munged, MariaDB, slurmdbd, slurmctld, slurmd) starts once per module;
the tests read SLURM's own accounting records with ``sacct``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "support"))
from slurm_cluster import SlurmCluster, sacct_jobs, slurm_unavailable_reason  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
if not SNAKEMAKE.exists():
    SNAKEMAKE = REPO / ".venv" / "bin" / "snakemake"
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED"}

SNAKEFILE = textwrap.dedent("""\
    rule all:
        input: "out/c.txt"

    rule a:
        output: "out/a.txt"
        group: "grp"
        shell: "echo a > {output}"

    rule b:
        output: "out/b.txt"
        group: "grp"
        shell: "echo b > {output}"

    rule c:
        input: "out/a.txt", "out/b.txt"
        output: "out/c.txt"
        shell: "cat {input} > {output}"
    """)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    reason = slurm_unavailable_reason()
    if reason:
        pytest.skip(reason)
    # The context manager stops every daemon by PID, also when a test fails.
    with SlurmCluster(tmp_path_factory.mktemp("slurm")) as c:
        yield c


def wait_records(cluster: SlurmCluster, steps: dict[str, int], timeout: float = 60) -> list[dict[str, str]]:
    """Poll sacct until each job in ``steps`` (job id -> numbered steps expected) is recorded as
    finished with that many finished steps; return the rows of these jobs and their steps.

    Step records reach slurmdbd asynchronously, so a finished job may briefly lack them.
    """
    deadline = time.monotonic() + timeout
    while True:
        rows = sacct_jobs(cluster, steps=True, job_ids=list(steps))
        done = all(r["state"].split()[0] in TERMINAL for r in rows)
        for job, n in steps.items():
            numbered = [r for r in rows if r["jobid"].startswith(f"{job}.") and r["jobid"].split(".")[1].isdigit()]
            done = done and any(r["jobid"] == job for r in rows) and len(numbered) >= n
        if done:
            return rows
        if time.monotonic() > deadline:
            raise TimeoutError(f"jobs {steps} not recorded as finished: {rows}\n{cluster.daemon_logs()}")
        time.sleep(0.5)


@pytest.mark.slurm
def test_sbatch_jobs_and_steps_in_sacct(cluster: SlurmCluster, tmp_path: Path) -> None:
    def submit(script: str) -> str:
        # stderr apart: srun's own notices ("Step creation temporarily disabled, retrying",
        # when the node is still cleaning up the previous step on a busy machine) go there.
        out = cluster.run("sbatch", "--parsable", f"--chdir={tmp_path}", "-o", "%j.out", "-e", "%j.err", "--wrap", script).stdout
        return out.strip().split(";")[0]

    one = submit("srun hostname")
    two = submit("srun echo first; srun echo second")
    rows = wait_records(cluster, {one: 1, two: 2})
    by_id = {r["jobid"]: r for r in rows}

    assert by_id[one]["state"] == "COMPLETED", rows
    assert by_id[two]["state"] == "COMPLETED", rows
    assert by_id[f"{one}.0"]["jobname"] == "hostname"
    assert by_id[f"{one}.0"]["state"] == "COMPLETED"
    assert [by_id[f"{two}.{i}"]["state"] for i in (0, 1)] == ["COMPLETED", "COMPLETED"]
    assert f"{two}.2" not in by_id
    assert (tmp_path / f"{one}.out").read_text().strip() == cluster.hostname
    assert (tmp_path / f"{two}.out").read_text().split() == ["first", "second"]


@pytest.mark.slurm
def test_snakemake_group_runs_as_one_slurm_job(cluster: SlurmCluster, tmp_path: Path) -> None:
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    cmd = [
        str(SNAKEMAKE),
        "--executor",
        "slurm",
        "--jobs",
        "4",
        "--group-components",
        "grp=2",
        "--default-resources",
        "slurm_partition=debug",
        "mem_mb=100",
        "runtime=5",
        "--slurm-init-seconds-before-status-checks",
        "2",
        "--slurm-logdir",
        str(tmp_path / "slurm_logs"),
        "--slurm-keep-successful-logs",
        "--latency-wait",
        "5",
        "--cores",
        str(cluster.cpus),
    ]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=tmp_path, env=cluster.env, capture_output=True, text=True, timeout=150)
    assert proc.returncode == 0, f"{proc.stderr[-4000:]}\n{cluster.daemon_logs()}"
    assert time.monotonic() - start < 120

    assert (tmp_path / "out" / "c.txt").read_text().split() == ["a", "b"]

    # The plugin names every SLURM job of a run after the run's uuid and comments it
    # "rule_<rule>" or, for a group job, "rule_<group>_<rules>" (here rule_grp_a_b).
    match = re.search(r"SLURM run ID: (\S+)", proc.stderr)
    assert match, proc.stderr[-4000:]
    rows = sacct_jobs(cluster, steps=True)
    run_ids = {r["jobid"] for r in rows if r["jobname"] == match.group(1)}
    run_jobs = [r for r in rows if r["jobid"] in run_ids]
    grp_jobs = [r for r in run_jobs if r["comment"].startswith("rule_grp")]
    c_jobs = [r for r in run_jobs if r["comment"] == "rule_c"]
    assert len(grp_jobs) == 1, f"grouped rules a and b must run as ONE SLURM job: {rows}"
    assert len(c_jobs) == 1, rows
    assert len(run_jobs) == 2, rows
    assert all(r["state"] == "COMPLETED" for r in run_jobs), rows

    grp_id = grp_jobs[0]["jobid"]
    grp_rows = wait_records(cluster, {grp_id: 2}, timeout=20)
    grp_steps = [r for r in grp_rows if r["jobid"].startswith(f"{grp_id}.") and r["jobid"].split(".")[1].isdigit()]
    assert [r["jobid"] for r in grp_steps] == [f"{grp_id}.0", f"{grp_id}.1"], grp_rows
    assert all(r["state"] == "COMPLETED" for r in grp_steps), grp_rows


def test_slurm_profile_parses(tmp_path: Path) -> None:
    """profiles/slurm/config.yaml is accepted by snakemake + the slurm plugin (dry run).

    Needs no cluster: an unknown profile key fails as "unrecognized arguments".
    """
    shutil.copytree(REPO / "profiles" / "slurm", tmp_path / "profile")
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    proc = subprocess.run(
        [str(SNAKEMAKE), "--profile", str(tmp_path / "profile"), "-n"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "rule a:" in proc.stdout + proc.stderr
