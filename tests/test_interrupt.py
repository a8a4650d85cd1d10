"""A run started with SIGINT ignored (``nohup snakemake ... &`` from a script) still stops on SIGINT.

The SLURM variant (jobs cancelled, rerun finishes only what was missing) is in
``tests/test_slurm_workflow.py``; here the helper itself and a local run of the real Snakefile.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, SNAKEMAKE, deep_update, default_config, workflow_args, write_config
from tests.support.processes import signal_dispositions, start_with, stop_group

CHILD = """
import os, signal, sys
sys.path.insert(0, {repo!r})
{setup}
from workflow_scripts.core.interrupt import restore_default_sigint
print("changed" if restore_default_sigint() else "unchanged", flush=True)
try:
    os.kill(os.getpid(), signal.SIGINT)
    import time; time.sleep(1)
    print("still running", flush=True)
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
"""


def run_child(sigint: str, setup: str = "") -> list[str]:
    """A Python child started with SIGINT ``"ignored"`` or ``"default"`` that calls the helper, then gets SIGINT."""
    command = [sys.executable, "-c", CHILD.format(repo=str(REPO), setup=setup)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, preexec_fn=signal_dispositions(sigint=sigint))
    return result.stdout.split()


def test_ignored_sigint_is_restored_to_keyboard_interrupt() -> None:
    assert run_child("ignored") == ["changed", "KeyboardInterrupt"]


def test_default_sigint_is_left_alone() -> None:
    assert run_child("default") == ["unchanged", "KeyboardInterrupt"]


def test_a_handler_set_on_purpose_is_left_alone() -> None:
    setup = "signal.signal(signal.SIGINT, lambda *a: print('own handler', flush=True))"
    assert run_child("ignored", setup) == ["unchanged", "own", "handler", "still", "running"]


@pytest.fixture
def silent_endpoint() -> Iterator[tuple[str, list[socket.socket]]]:
    """A SPARQL 'endpoint' on 127.0.0.1 that accepts connections and never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            accepted.append(connection)

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/sparql", accepted
    server.close()
    for connection in accepted:
        connection.close()


def sigint_mask(pid: int) -> dict[str, bool]:
    """Whether ``pid`` ignores or catches SIGINT, from /proc/<pid>/status."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    bit = 1 << (signal.SIGINT - 1)
    return {"ignored": bool(int(fields["SigIgn"], 16) & bit), "caught": bool(int(fields["SigCgt"], 16) & bit)}


def test_backgrounded_local_run_stops_on_sigint(tmp_path: Path, synthetic: Any, silent_endpoint: tuple[str, list[socket.socket]]) -> None:
    """Started with SIGINT ignored (in its own process group, as ``setsid nohup snakemake ... &``),
    Snakemake catches SIGINT once the Snakefile is read. While a job runs (labelling, waiting on an
    endpoint that never answers), ``kill -INT -- -<pgid>`` (docs/cluster.md's way for a local run: the
    group, as a terminal's Ctrl-C) ends the run: job terminated, no output, lock released."""
    endpoint, accepted = silent_endpoint
    csv = synthetic.csv  # the generated dataset: runs from a bare clone
    timeout_s = 120  # the labelling request's own time-out: the run must stop long before it
    config = deep_update(
        default_config(),
        {
            "dataset": {"source": "path", "path": str(csv)},
            "labels": {
                "endpoint": endpoint,
                "cache_dir": str(tmp_path / "cache"),
                "timeout_s": timeout_s,
                "contact": "tests <ci@example.org>",
            },
        },
    )
    configfile = write_config(tmp_path / "config.yaml", config)
    target = "results/labels/artist_genres.csv"
    command = [*SNAKEMAKE, target, *workflow_args(tmp_path), "--cores", "1"]
    log = tmp_path / "snakemake.log"
    proc = start_with([*command, "--configfile", str(configfile)], log, sigint="ignored")
    try:
        assert sigint_mask(proc.pid)["ignored"], "the test meant to start Snakemake with SIGINT ignored"
        # Validating a few hundred rows and starting the labelling step takes seconds; its first request
        # then waits on the silent endpoint for timeout_s.
        deadline = time.monotonic() + timeout_s
        while not accepted:
            assert proc.poll() is None, f"snakemake exited ({proc.returncode}) before labelling:\n{log.read_text()[-4000:]}"
            assert time.monotonic() < deadline, f"no labelling request within {timeout_s} s:\n{log.read_text()[-4000:]}"
            time.sleep(0.2)
        assert sigint_mask(proc.pid) == {"ignored": False, "caught": True}
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout_s / 2)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"snakemake did not stop within {timeout_s / 2:.0f} s of SIGINT:\n{log.read_text()[-4000:]}") from None
    finally:
        stop_group(proc)
    out = log.read_text()
    assert proc.returncode != 0 and "Terminating processes on user request" in out, out[-4000:]
    assert not (tmp_path / target).exists()
    assert not list((tmp_path / ".snakemake" / "locks").glob("*")), "the interrupted run left its lock"
    assert (tmp_path / "results" / "data" / "raw.parquet").exists(), "the finished step's output was not kept"
