"""The real workflow on a real single-node SLURM cluster with ``--profile profiles/slurm``.

One module fixture drives the cluster the way a user meets it, and the tests read the
evidence from SLURM's own accounting (``sacct``), the SLURM job logs and Snakemake's output:

1. ``snakemake --profile profiles/slurm`` on the small integration config (4 networks,
   ``--group-components hpo=2``), started with SIGINT ignored, as ``nohup snakemake ... &``
   from a script starts it. When the first grid-search SLURM job has finished its first
   network and trains its second, the run gets ``kill -INT <pid>``: the Snakefile restored
   SIGINT, so it stops as Ctrl-C stops a run in a terminal.
2. The same command again resumes the run. While it runs, the processes of the training step
   of its first grid-search SLURM job get SIGKILL (``kill -9``, PIDs from ``scontrol
   listpids <job>.0``), as from the kernel's OOM killer or a crash; the job fails and the
   profile's ``retries: 1`` resubmits it.
3. The same config run locally (the session's ``small_run``, which tests/test_workflow.py and
   tests/test_report.py read too) must give the same numbers.
4. Alongside, ``search.jobs: family`` through the same profile (grid search only), grouped by 2.
5. Alongside, ``search.strategy: halving`` through the same profile: its rounds' training jobs
   go to SLURM, the checkpoint between them runs on the submitting machine.

Only the test cluster's own settings override the profile: its partition, the group size
(2, so that 4 networks make 2 SLURM jobs), ``--jobs 6``, a shorter first status check and
``--slurm-keep-successful-logs`` (the logs name each group job's combinations).
"""

from __future__ import annotations

import json
import math
import re
import signal
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from tests.conftest import (
    REPO,
    SMALL_GRID,
    SNAKEMAKE,
    needs_shared,
    planned_jobs,
    small_config,
    without_timing,
    workflow_args,
    write_config,
)
from tests.support.processes import kill_all, kill_processes_under, start_with, stop_group
from tests.support.slurm_cluster import SlurmCluster, _pid_alive, sacct_jobs, slurm_unavailable_reason
from workflow_scripts.search import grid as grid_lib
from workflow_scripts.search import hpo

SLURM_REASON = slurm_unavailable_reason()
pytestmark = [
    needs_shared,
    pytest.mark.slurm,
    pytest.mark.integration,
    pytest.mark.skipif(SLURM_REASON is not None, reason=f"cannot start a SLURM test cluster here: {SLURM_REASON}"),
]

GROUP_SIZE = 2
# First status check after 6 s, then +10 s per check without a finished job (the plugin's
# back-off): 6, 22, 48 s. Most jobs here take 13-25 s, so this finds them at 22 s; with 2 s
# (2, 14, 36 s) they are found at 36 s.
INIT_SECONDS = 6
# The plugin's longest pause between status checks (snakemake-executor-plugin-slurm 2.8.0:
# +10 s per check without a finished job, capped at 180 s). After SIGINT Snakemake cancels its
# jobs at once and exits at the end of the current pause.
MAX_STATUS_PAUSE_S = 180
# A grid-search SLURM job trains 2 networks of 7-23 s each (up to ~60 s on a loaded machine),
# after start-up and the status checks; the upstream jobs take seconds each.
FIRST_NETWORK_S = 540
RERUN_S = 600
COMBOS = sorted(grid_lib.expand(SMALL_GRID))
HPO = "rule_hpo_hpo_combination"  # the plugin's comment for a job of group "hpo"
# Every job the workflow sends to SLURM besides the grid search, as the plugin comments it.
SLURM_RULES = (
    "rule_validate_dataset",
    "rule_select_songs",
    "rule_split_data",
    "rule_prepare_features",
    "rule_train_baseline_wildcards_knn",
    "rule_train_baseline_wildcards_svm",
    "rule_train_baseline_wildcards_hgb",
    "rule_aggregate_hpo",
    "rule_train_network",
    "rule_evaluate",
    "rule_bundle_model",
)
UPSTREAM = SLURM_RULES[:4]  # finished before the interruption: never redone
LOCAL_RULES = ("download_dataset", "label_artists", "write_grid", "report_summary")  # localrule: True
RULE_NAMES = ("validate_dataset", "select_songs", "split_data", "prepare_features", "hpo_combination", "aggregate_hpo")
RULE_NAMES += ("train_baseline", "train_network", "evaluate", "bundle_model")
TERMINAL = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE")
COMPARED = ("results/hpo/cv_results.csv", "results/hpo/selection.json", "results/evaluation/metrics.json")


# -- helpers ---------------------------------------------------------------------------
def snakemake(workdir: Path, configfile: Path, *args: str) -> list[str]:
    """The command ``run_workflow`` runs, without ``--cores 2`` (the profile sets cores)."""
    return [*SNAKEMAKE, *workflow_args(workdir, configfile), *args]


def start(command: list[str], log: Path, env: dict[str, str], sigint: str = "default") -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session, output to ``log``, SIGINT as given (never inherited)."""
    return start_with(command, log, sigint=sigint, env=env)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """End a process this module started, and its children, by its process group id.

    Snakemake exits at the end of its current status-check pause (at most the plugin's cap)."""
    stop_group(proc, grace_s=MAX_STATUS_PAUSE_S + 20)


def tail(log: Path, chars: int = 5000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else f"<no {log}>"


def cluster_state(cluster: SlurmCluster | None) -> str:
    """What the cluster was doing: squeue (jobs and steps) and the day's sacct, for a timed-out wait."""
    if cluster is None:
        return ""
    queue = cluster.run("squeue", "-a", "-h", "-o", "%i %T %M %k %j %R", check=False).stdout
    steps = cluster.run("squeue", "-s", "-h", "-o", "%i %M", check=False).stdout
    account = cluster.run("sacct", "-a", "-X", "-n", "-P", "-o", "JobID,State,Elapsed,Comment", check=False).stdout
    return f"\nsqueue:\n{queue or '<empty>'}\nsteps:\n{steps or '<none>'}\nsacct:\n{account or '<empty>'}"


def wait_until(
    condition: Any,
    timeout: float,
    what: str,
    proc: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
    cluster: SlurmCluster | None = None,
) -> None:
    """Poll ``condition`` for up to ``timeout`` s; on time-out or an early exit say what the
    process and the cluster were doing (the tail of the Snakemake log, squeue, sacct)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(
                f"snakemake exited ({proc.returncode}) while waiting for {what}:\n{tail(log) if log else ''}{cluster_state(cluster)}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tail(log) if log else ''}{cluster_state(cluster)}")
        time.sleep(0.5)


def catches_sigint(pid: int) -> bool:
    """Whether ``pid`` has a handler for SIGINT (/proc/<pid>/status, SigCgt)."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return bool(int(status["SigCgt"], 16) & (1 << (signal.SIGINT - 1)))


def run_id(log: Path) -> str:
    name = started_run_id(log)
    assert name, f"no 'SLURM run ID' in the output:\n{tail(log)}"
    return name


def started_run_id(log: Path) -> str | None:
    """The run's SLURM job name once Snakemake has printed it (None before)."""
    match = re.search(r"SLURM run ID: (\S+)", log.read_text(errors="replace")) if log.exists() else None
    return match.group(1) if match else None


def squeue(cluster: SlurmCluster, *args: str) -> list[list[str]]:
    out = cluster.run("squeue", "-h", "-o", "%i|%T|%k|%j", *args, check=False).stdout
    return [line.split("|") for line in out.splitlines() if line.strip()]


def first_network_done(cluster: SlurmCluster, log: Path) -> bool:
    """A grid-search job of the run logging to ``log`` (not of the scenarios beside it) runs its
    step .1, launched: its step .0 has trained, written and recorded a network.

    (From slurmctld's live view; sacct learns of finished steps some seconds later.) Launched:
    the step's task has started a process of its own, so a cancellation that follows does not
    fall into the step's launch, where it can leave slurmstepd waiting for a task that never
    ends ("Kill task failed"), and SLURM drains the node.
    """
    name = started_run_id(log)
    rows = squeue(cluster, f"--name={name}") if name else []
    return any(launched_step(cluster, f"{row[0]}.1") is not None for row in rows if row[2] == HPO)


def launched_step(cluster: SlurmCluster, step: str) -> list[int] | None:
    """The PIDs of job step ``step`` (``"12.0"``), its task's first, once that task has started a
    process of its own (``scontrol listpids`` on the one node); None before, or without the step."""
    task: list[int] = []
    children: list[int] = []
    for line in cluster.run("scontrol", "listpids", step, check=False).stdout.splitlines():
        fields = line.split()  # PID JOBID STEPID LOCALID GLOBALID; LOCALID "-" for the task's descendants
        if len(fields) == 5 and fields[0].isdigit():
            (children if fields[3] == "-" else task).append(int(fields[0]))
    return task + children if task and children else None


def assert_not_drained(cluster: SlurmCluster, when: str) -> None:
    """Fail, with slurmd's log first, if SLURM is draining or has drained the node."""
    drained = cluster.run("sinfo", "-h", "-N", "-o", "%t %E", check=False).stdout
    if drained.startswith(("drain", "drng")):  # draining or drained
        raise AssertionError(f"SLURM drained the node {when}: {drained}\n{cluster.daemon_logs(lines=60, first=('slurmd', 'slurmctld'))}")


def running_or_pending(cluster: SlurmCluster, name: str) -> list[list[str]]:
    return [row for row in squeue(cluster, f"--name={name}") if row[1] in ("RUNNING", "PENDING")]


def state(row: dict[str, str]) -> str:
    return row["state"].split()[0]  # "CANCELLED by 0" -> CANCELLED


def group_log(workdir: Path, jobid: str) -> dict[str, Any] | None:
    """Combinations and attempt of an hpo group job, from the command in its SLURM log
    (None for a job cancelled before it started)."""
    log = workdir / "logs" / "slurm" / "group_hpo_hpo_combination" / f"{jobid}.log"
    if not log.exists():
        return None
    command = next((line for line in log.read_text(errors="replace").splitlines() if "--target-jobs" in line), "")
    combos = re.findall(r"hpo_combination:combo=([0-9a-f]{12})", command)
    attempt = re.search(r"--attempt (\d+)", command)
    return {"combos": combos, "attempt": int(attempt.group(1)) if attempt else None} if combos else None


def accounting(cluster: SlurmCluster, run_ids: list[str], timeout: float = 60) -> dict[str, dict[str, Any]]:
    """The run's SLURM jobs by id: the allocation row plus its numbered steps (``.0``, ``.1``...).

    Polls until every job and step is in a final state: step records reach slurmdbd
    asynchronously, shortly after the job.
    """
    deadline = time.monotonic() + timeout
    while True:
        rows = sacct_jobs(cluster, steps=True)
        jobs = {r["jobid"]: {**r, "steps": []} for r in rows if r["jobname"] in run_ids}
        for r in rows:
            job, _, step = r["jobid"].partition(".")
            if job in jobs and step.isdigit():
                jobs[job]["steps"].append(r)
        settled = all(state(j) in TERMINAL and all(state(s) in TERMINAL for s in j["steps"]) for j in jobs.values())
        if settled or time.monotonic() > deadline:
            return jobs
        time.sleep(1)


def profile_overrides(cluster: SlurmCluster) -> list[str]:
    """What the test cluster needs besides profiles/slurm: its partition, the group size, etc."""
    profile = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
    defaults = {**profile["default-resources"], "slurm_partition": cluster.partition}
    defaults.pop("slurm_account", None)
    args = ["--default-resources", *(f"{k}={v}" for k, v in defaults.items())]
    args += ["--jobs", "6", "--group-components", f"hpo={GROUP_SIZE}"]
    args += ["--slurm-init-seconds-before-status-checks", str(INIT_SECONDS), "--slurm-keep-successful-logs"]
    # The largest request here is an hpo group: 2 x 1500 MB. A smaller node gets every rule capped.
    node_mb = int(cluster.run("sinfo", "-h", "-N", "-o", "%m").stdout.split()[0])
    if node_mb < 2 * 1500:
        args += ["--set-resources", *(f"{rule}:mem_mb={node_mb // 2}" for rule in RULE_NAMES)]
    return args


# -- fixtures --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    with SlurmCluster(tmp_path_factory.mktemp("slurm")) as c:
        pids = c.pids
        yield c
    # The context manager stopped every daemon by its PID, also after a failed test.
    alive = {name: pid for name, pid in pids.items() if _pid_alive(pid)}
    assert not alive, f"SLURM test daemons still running: {alive}"


@pytest.fixture(scope="module")
def runs(
    cluster: SlurmCluster, oxigraph: Any, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("slurm_workflow")
    env = {**cluster.env, "TF_CPP_MIN_LOG_LEVEL": "2"}
    slurm_dir = base / "slurm"
    procs: list[subprocess.Popen[bytes]] = []
    ids: list[str] = []
    t0 = time.monotonic()
    out: dict[str, Any] = {"slurm_dir": slurm_dir, "times": {}}
    try:
        slurm_dir.mkdir()
        configfile = write_config(slurm_dir / "config.yaml", small_config(oxigraph.url, slurm_dir / "cache"))
        # search.jobs: family through the profile, alongside (test_family_jobs_on_slurm_...).
        family_dir = base / "family"
        family_dir.mkdir()
        out["family"] = start_family_run(cluster, oxigraph.url, family_dir, env)
        procs.append(out["family"]["proc"])
        # search.strategy: halving through the profile, alongside (test_halving_rounds_on_slurm).
        halving_dir = base / "halving"
        halving_dir.mkdir()
        out["halving"] = start_halving_run(cluster, oxigraph.url, halving_dir, env)
        procs.append(out["halving"]["proc"])
        command = snakemake(slurm_dir, configfile, "--profile", str(REPO / "profiles" / "slurm"), *profile_overrides(cluster))
        runs_dir = slurm_dir / "results" / "hpo" / "runs"

        # 1. First cluster run, started with SIGINT ignored as `nohup snakemake ... &` from a
        # script starts it; `kill -INT <pid>` while a grid-search job trains its second network.
        first_log = base / "first.log"
        first = start(command, first_log, env, sigint="ignored")
        procs.append(first)
        wait_until(lambda: first_network_done(cluster, first_log), FIRST_NETWORK_S, "the first finished network", first, first_log, cluster)
        ids.append(run_id(first_log))
        out["times"]["first network done"] = time.monotonic() - t0
        out["first_catches_sigint"] = catches_sigint(first.pid)
        first.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        # Snakemake scancels its jobs at once, then exits after its status-check pause. But when
        # Ctrl-C falls while it queries sacct, it cancels nothing (snakemake-interface-executor-
        # plugins' RemoteExecutor takes the jobs out of its list during the query): the jobs run
        # on. Then do what docs/cluster.md tells users, scancel --name <run id>, here at once
        # (8 s on) so that the scenario stays the same, and report it.
        out["not_cancelled"] = None
        exit_bound = MAX_STATUS_PAUSE_S + 30
        while first.poll() is None and time.monotonic() - interrupted < exit_bound:
            if out["not_cancelled"] is None and time.monotonic() - interrupted > 8:
                out["not_cancelled"] = running_or_pending(cluster, ids[0])
                if out["not_cancelled"]:
                    cluster.run("scancel", f"--name={ids[0]}")
            time.sleep(0.5)
        if first.poll() is None:
            raise AssertionError(f"snakemake did not stop within {exit_bound} s of SIGINT:\n{tail(first_log)}{cluster_state(cluster)}")
        out["first_rc"] = first.returncode
        out["exit_after_sigint_s"] = time.monotonic() - interrupted
        if out["not_cancelled"] is None:
            out["not_cancelled"] = running_or_pending(cluster, ids[0])
            if out["not_cancelled"]:
                cluster.run("scancel", f"--name={ids[0]}")
        out["locks"] = sorted(p.name for p in (slurm_dir / ".snakemake" / "locks").glob("*"))
        try:  # cancelled jobs pass through COMPLETING (KillWait 5 s)
            wait_until(
                lambda: not squeue(cluster, f"--name={ids[0]}"), 30, "the interrupted run's SLURM jobs to leave the queue", cluster=cluster
            )
        except AssertionError:
            pass
        out["left_in_queue"] = squeue(cluster, f"--name={ids[0]}")
        assert_not_drained(cluster, "after the interrupted run's jobs were cancelled")
        out["kept"] = {p.stem: p.stat().st_mtime_ns for p in runs_dir.glob("*.json")}
        out["times"]["first run stopped"] = time.monotonic() - t0

        # 2. The rerun. Once its first grid-search job trains, SIGKILL that job step, as the
        # kernel's OOM killer or a crash would: the job fails, the profile's retries resubmit it.
        second_log = base / "second.log"
        second = start(command, second_log, env)
        procs.append(second)
        out["killed"] = None
        deadline = time.monotonic() + RERUN_S
        while second.poll() is None and time.monotonic() < deadline:
            if out["killed"] is None:
                # Its step .0 launched (see launched_step), of this run's job: the scenarios
                # alongside run grid-search jobs too.
                name = started_run_id(second_log)
                rows = squeue(cluster, f"--name={name}") if name else []
                # Its processes get SIGKILL, the task first, as the kernel's OOM killer or a crash
                # ends a job: srun reports the task "Killed" and the job fails. (Not ``scancel
                # --signal=KILL``: slurmstepd's kill path has drained the node on a loaded machine.)
                for job in (row[0] for row in rows if row[2] == HPO):
                    pids = launched_step(cluster, f"{job}.0")
                    if pids:
                        kill_all(pids)
                        out["killed"] = job
                        break
            assert_not_drained(cluster, "during the rerun")
            time.sleep(0.5)
        if second.poll() is None:
            raise AssertionError(f"the rerun did not finish within {RERUN_S} s:\n{tail(second_log)}{cluster_state(cluster)}")
        ids.append(run_id(second_log))
        out["second_rc"] = second.returncode
        out["times"]["rerun finished"] = time.monotonic() - t0
        # The local reference: made by now where another worker ran tests/test_workflow.py first.
        out["local_dir"] = request.getfixturevalue("small_run")["workdir"]
        out["times"]["local run finished"] = time.monotonic() - t0

        out["first_out"], out["second_out"] = first_log.read_text(errors="replace"), second_log.read_text(errors="replace")
        out["ids"] = ids
        out["jobs"] = accounting(cluster, ids)
        for job in out["jobs"].values():
            job["run"] = ids.index(job["jobname"]) + 1
            job["group"] = group_log(slurm_dir, job["jobid"]) if job["comment"] == HPO else None
        out["mtimes"] = {p.stem: p.stat().st_mtime_ns for p in runs_dir.glob("*.json")}
        yield out
    finally:
        for proc in procs:
            stop(proc)
        for name in ids:
            cluster.run("scancel", f"--name={name}", check=False)
        # SLURM's proctrack/linuxproc loses a job's process once its parent has died (it is
        # reparented to init): a cancelled group job's Snakemake has been seen asleep after
        # the run. End whatever still works in this module's folders, and say so.
        try:
            wait_until(lambda: not squeue(cluster), 60, "the scenario's SLURM jobs to leave the queue", cluster=cluster)
        except AssertionError as error:
            warnings.warn(str(error), stacklevel=1)
        leftover = kill_processes_under(base)
        if leftover:
            warnings.warn(f"processes SLURM left running after the scenario, killed: {leftover}", stacklevel=1)


def jobs_of(runs: dict[str, Any], comment: str, run: int | None = None, status: str | None = None) -> list[dict[str, Any]]:
    return [
        j
        for j in runs["jobs"].values()
        if j["comment"] == comment and (run is None or j["run"] == run) and (status is None or state(j) == status)
    ]


def describe(runs: dict[str, Any]) -> str:
    lines = [
        f"{j['jobid']:>4} run{j['run']} {j['comment']:<36} {j['state']:<14} cpus={j['alloccpus']} "
        + " ".join(f"{s['jobid'].split('.')[1]}:{s['state']}" for s in j["steps"])
        + (f" {j['group']}" if j["group"] else "")
        for j in runs["jobs"].values()
    ]
    return (
        "SLURM jobs:\n"
        + "\n".join(lines)
        + f"\nkept after Ctrl-C: {sorted(runs['kept'])}; killed: {runs['killed']}; times: {runs['times']}"
    )


# -- tests -----------------------------------------------------------------------------
def test_workflow_ran_through_slurm_grouped_as_configured(runs: dict[str, Any]) -> None:
    assert runs["second_rc"] == 0, runs["second_out"][-6000:]
    info = describe(runs)
    print(info)  # the evidence, shown with pytest -rP
    assert all(j["partition"] == "debug" for j in runs["jobs"].values()), info
    # Every job outside the grid search ran once to completion on SLURM over both runs...
    for comment in SLURM_RULES:
        assert len(jobs_of(runs, comment, status="COMPLETED")) == 1, f"{comment}\n{info}"
    # ...the rules marked localrule never went to SLURM, but ran on the submitting machine.
    assert not [j for j in runs["jobs"].values() if any(rule in j["comment"] for rule in LOCAL_RULES)], info
    assert "localrule label_artists:" in runs["first_out"] and "localrule write_grid:" in runs["first_out"]

    # The grid search was grouped: 4 networks, hpo=2 -> the first run submitted 2 SLURM jobs.
    assert len(jobs_of(runs, HPO, run=1)) == math.ceil(len(COMBOS) / GROUP_SIZE), info
    started = [j for j in runs["jobs"].values() if j["group"]]
    assert started and all(1 <= len(j["group"]["combos"]) <= GROUP_SIZE for j in started), info
    assert all(len(j["group"]["combos"]) == GROUP_SIZE for j in started if j["run"] == 1), info
    # A finished group job is ONE SLURM job whose members ran as steps .0, .1 (one after the
    # other); it holds min(members x threads, profile cores) CPUs.
    completed = jobs_of(runs, HPO, status="COMPLETED")
    for job in completed:
        members = job["group"]["combos"]
        assert [s["jobid"] for s in job["steps"]] == [f"{job['jobid']}.{i}" for i in range(len(members))], info
        assert all(state(s) == "COMPLETED" for s in job["steps"]), info
        assert int(job["alloccpus"]) == min(len(members), 2), info
    pairs = [j["steps"] for j in completed if len(j["steps"]) == 2]
    assert pairs and all(a["end"] <= b["start"] for a, b in pairs), f"members of a group job overlapped\n{info}"

    # The rerun's SLURM jobs, exactly: the missing combinations in groups of 2, one resubmission
    # of the killed job, the baselines the first run did not finish, and the four final steps.
    missing = len(COMBOS) - len(runs["kept"])
    baselines_done_first = sum(len(jobs_of(runs, c, run=1, status="COMPLETED")) for c in SLURM_RULES[4:7])
    expected = math.ceil(missing / GROUP_SIZE) + 1 + (3 - baselines_done_first) + 4
    assert len([j for j in runs["jobs"].values() if j["run"] == 2]) == expected, info


def test_results_identical_to_a_local_run(runs: dict[str, Any]) -> None:
    assert runs["second_rc"] == 0, runs["second_out"][-6000:]
    slurm, local = runs["slurm_dir"], runs["local_dir"]
    for combo in COMBOS:
        a, b = (without_timing(hpo.read_runs([d / f"results/hpo/runs/{combo}.json"])[combo]) for d in (slurm, local))
        assert a == b, f"{combo}: SLURM {a['folds']}\nlocal {b['folds']}"
    for name in COMPARED:
        if name.endswith(".csv"):
            a, b = (pd.read_csv(d / name).sort_values("combo", ignore_index=True) for d in (slurm, local))
            a, b = (df.drop(columns=[c for c in df.columns if "seconds" in c]) for df in (a, b))
            pd.testing.assert_frame_equal(a, b, check_exact=True)
        else:
            a, b = (without_timing(json.loads((d / name).read_text())) for d in (slurm, local))
            assert a == b, name


def test_killed_slurm_job_is_resubmitted(runs: dict[str, Any]) -> None:
    info = describe(runs)
    killed = runs["killed"]
    assert killed is not None, f"the rerun ran no grid-search job to kill\n{info}"
    job = runs["jobs"][killed]
    assert job["run"] == 2 and state(job) == "FAILED" and job["exitcode"] != "0:0", info
    # Snakemake reports the failed group with its SLURM log and each member's rule and log,
    # then resubmits it. (For a group job the plugin's "SLURM-job ... failed, SLURM status is"
    # line is not printed; the SLURM log says what happened.)
    out = runs["second_out"]
    log = f"logs/slurm/group_hpo_hpo_combination/{killed}.log"
    assert f"Error in group hpo\n    log: {runs['slurm_dir'] / log} (check log file(s) for error details)" in out, out[-6000:]
    for combo in job["group"]["combos"]:
        assert "Error in rule hpo_combination:" in out and f"log: results/logs/hpo/{combo}.log" in out, out[-6000:]
    assert "Trying to restart job" in out, out[-6000:]
    assert "srun: error: " in (runs["slurm_dir"] / log).read_text() and "Killed" in (runs["slurm_dir"] / log).read_text()
    # The resubmission: a later SLURM job of the same run with the same networks, attempt 2.
    retried = [
        j
        for j in jobs_of(runs, HPO, run=2, status="COMPLETED")
        if j["group"]["attempt"] == 2 and sorted(j["group"]["combos"]) == sorted(job["group"]["combos"])
    ]
    assert len(retried) == 1 and int(retried[0]["jobid"]) > int(killed), info


def test_interrupted_run_resumes_without_redoing_finished_work(runs: dict[str, Any]) -> None:
    info = describe(runs)
    out = runs["first_out"]
    # Started with SIGINT ignored (as `nohup ... &`), Snakemake caught it (the Snakefile restored it)...
    assert runs["first_catches_sigint"], "the backgrounded Snakemake did not catch SIGINT"
    assert runs["first_rc"] != 0 and "Terminating processes on user request" in out, out[-6000:]
    # Ctrl-C released the lock and (see the fixture) cancelled the run's SLURM jobs.
    assert runs["locks"] == [], runs["locks"]
    assert runs["left_in_queue"] == [], f"jobs the interrupted run left in the queue: {runs['left_in_queue']}\n{info}"
    if runs["not_cancelled"]:
        warnings.warn(
            f"Ctrl-C fell during Snakemake's status query and it cancelled none of its SLURM jobs "
            f"{runs['not_cancelled']}; the test cancelled them with scancel --name <run id> (docs/cluster.md)",
            stacklevel=1,
        )
    assert 1 <= len(runs["kept"]) < len(COMBOS), info
    interrupted = [j for j in runs["jobs"].values() if j["run"] == 1 and state(j) == "CANCELLED"]
    assert interrupted, info

    # The rerun planned only what was missing, trained only the missing networks...
    rerun = runs["second_out"]
    planned = planned_jobs(subprocess.CompletedProcess([], 0, rerun, ""))
    assert planned.get("hpo_combination") == len(COMBOS) - len(runs["kept"]), rerun[:6000]
    for rule in ("validate_dataset", "label_artists", "select_songs", "split_data", "prepare_features", "write_grid"):
        assert rule not in planned, planned
    assert not [j for c in UPSTREAM for j in jobs_of(runs, c, run=2)], info
    trained_again = {c for j in jobs_of(runs, HPO, run=2) if j["group"] for c in j["group"]["combos"]}
    assert not trained_again & set(runs["kept"]), info
    # ...and left the finished ones untouched.
    assert {c: runs["mtimes"][c] for c in runs["kept"]} == runs["kept"]
    assert sorted(runs["mtimes"]) == COMBOS


def start_family_run(cluster: SlurmCluster, endpoint: str, workdir: Path, env: dict[str, str]) -> dict[str, Any]:
    """Start ``search.jobs: family`` through the profile (grid search only), beside the main scenario."""
    grid = {**SMALL_GRID, "early_stopping_patience": [3, 1]}
    configfile = write_config(workdir / "config.yaml", small_config(endpoint, workdir / "cache", grid=grid, search={"jobs": "family"}))
    args = profile_overrides(cluster)
    args[args.index(f"hpo={GROUP_SIZE}")] = "hpo_family=2"
    node_mb = int(cluster.run("sinfo", "-h", "-N", "-o", "%m").stdout.split()[0])
    if node_mb < 2 * 2000:  # an hpo_family group asks for 2 x 2000 MB
        args += ["--set-resources", f"hpo_family:mem_mb={node_mb // 2}"]
    log = workdir / "snakemake.log"
    command = snakemake(workdir, configfile, "--profile", str(REPO / "profiles" / "slurm"), *args, "results/hpo/cv_results.csv")
    return {"workdir": workdir, "log": log, "proc": start(command, log, env)}


def test_family_jobs_on_slurm_grouped_as_configured(runs: dict[str, Any], cluster: SlurmCluster) -> None:
    """search.jobs: family through the same profile (run alongside the main scenario): 4
    families (8 networks) with hpo_family=2 make 2 SLURM jobs of 2 steps; each network's folds
    equal those of its own hpo_combination job in the local run."""
    workdir, log, proc = (runs["family"][key] for key in ("workdir", "log", "proc"))
    try:
        assert proc.wait(RERUN_S) == 0, tail(log)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the family run did not finish within {RERUN_S} s:\n{tail(log)}{cluster_state(cluster)}") from None
    name = run_id(log)
    jobs = accounting(cluster, [name])
    info = "\n".join(f"{j['jobid']} {j['comment']} {j['state']} " + " ".join(s["state"] for s in j["steps"]) for j in jobs.values())
    family_jobs = [j for j in jobs.values() if "hpo_family" in j["comment"]]
    assert len(family_jobs) == 2, info
    for job in family_jobs:
        assert state(job) == "COMPLETED" and [s["jobid"] for s in job["steps"]] == [f"{job['jobid']}.0", f"{job['jobid']}.1"], info
        assert all(state(s) == "COMPLETED" for s in job["steps"]), info
    assert {j["comment"] for j in jobs.values()} >= {"rule_prepare_features", "rule_aggregate_hpo"}, info

    families = sorted((workdir / "results" / "hpo" / "families").glob("*.json"))
    found = hpo.read_runs(families)
    assert len(families) == 4 and len(found) == 8
    alone = hpo.read_runs([runs["local_dir"] / f"results/hpo/runs/{combo}.json" for combo in COMBOS])
    assert set(alone) < set(found)  # the patience-3 networks of the local run
    for combo, run in alone.items():
        assert without_timing(found[combo]) == without_timing(run), combo


def start_halving_run(cluster: SlurmCluster, endpoint: str, workdir: Path, env: dict[str, str]) -> dict[str, Any]:
    """Start ``search.strategy: halving`` through the profile (the search only), beside the main
    scenario: 4 networks (4 architectures) at 2 epochs, then the best 2 at the full 6. One
    network per SLURM job (hpo=1): --group-components is not reliable after a checkpoint
    (snakemake/snakemake#1628; see docs/cluster.md)."""
    search = {"strategy": "halving", "halving": {"factor": 3, "resource": "epochs", "min_budget": 0.3}}
    configfile = write_config(workdir / "config.yaml", small_config(endpoint, workdir / "cache", search=search))
    args = profile_overrides(cluster)
    args[args.index(f"hpo={GROUP_SIZE}")] = "hpo=1"
    if "--set-resources" in args:  # a small node: the round's jobs get the grid's cap
        args.insert(
            args.index("--set-resources") + 1, args[args.index("--set-resources") + 1].replace("validate_dataset", "hpo_round_family")
        )
    log = workdir / "snakemake.log"
    command = snakemake(workdir, configfile, "--profile", str(REPO / "profiles" / "slurm"), *args, "results/hpo/selection.json")
    return {"workdir": workdir, "log": log, "proc": start(command, log, env)}


def test_halving_rounds_on_slurm(runs: dict[str, Any], cluster: SlurmCluster) -> None:
    """search.strategy: halving through the same profile (run alongside the main scenario):
    round 0's 4 architecture jobs (search.halving.jobs) are 4 SLURM jobs, the checkpoint runs
    locally, the last round's 2 survivors are the grid's own hpo_combination jobs on SLURM;
    their runs equal the local grid run's."""
    workdir, log, proc = (runs["halving"][key] for key in ("workdir", "log", "proc"))
    try:
        assert proc.wait(RERUN_S) == 0, tail(log)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the halving run did not finish within {RERUN_S} s:\n{tail(log)}{cluster_state(cluster)}") from None
    output = log.read_text(errors="replace")
    jobs = accounting(cluster, [run_id(log)])
    info = "\n".join(f"{j['jobid']} {j['comment']} {j['state']} " + " ".join(s["state"] for s in j["steps"]) for j in jobs.values())
    round0 = [j for j in jobs.values() if j["comment"].startswith("rule_hpo_round_family")]
    final = [j for j in jobs.values() if j["comment"] == HPO]
    assert len(round0) == 4 and len(final) == 2, info
    assert all(state(j) == "COMPLETED" and all(state(s) == "COMPLETED" for s in j["steps"]) for j in round0 + final), info
    assert not [j for j in jobs.values() if "halving_round" in j["comment"]], info
    assert "localcheckpoint halving_round:" in output, output[-3000:]
    summary = json.loads((workdir / "results/hpo/halving/round0.json").read_text())
    finished = hpo.read_runs(sorted((workdir / "results/hpo/runs").glob("*.json")))
    assert sorted(finished) == sorted(summary["survivors"]) and len(finished) == 2
    local = hpo.read_runs([runs["local_dir"] / f"results/hpo/runs/{combo}.json" for combo in finished])
    for combo, run in finished.items():
        assert without_timing(run) == without_timing(local[combo]), combo
    selection = json.loads((workdir / "results/hpo/selection.json").read_text())
    assert selection["strategy"] == "halving" and selection["combo"] in finished
