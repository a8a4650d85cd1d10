"""workflow_scripts/core/step.py: how a step script runs, fails, times its phases and exits."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from workflow_scripts.core.step import Stopwatch

REPO = Path(__file__).resolve().parents[1]

STEP = """
import atexit, sys
from types import SimpleNamespace
from workflow_scripts.core.errors import UserError
from workflow_scripts.core.step import run_step

atexit.register(lambda: print("atexit ran", flush=True))


class Teardown:
    def __del__(self):
        print("teardown ran", flush=True)  # when the interpreter clears this module's names


teardown = Teardown()
smk = SimpleNamespace(log=[sys.argv[1]], rule="demo", output=[sys.argv[2]])

def main(smk):
    if sys.argv[3] == "fail":
        raise UserError("the input is bad", "give a good one")
    with open(smk.output[0], "w") as handle:
        handle.write("done")
    import logging
    logging.getLogger("demo").info("wrote %s", smk.output[0])

run_step(main, smk, fast_exit=sys.argv[4] == "fast")
"""


def run(tmp_path: Path, outcome: str, exit_kind: str) -> tuple[subprocess.CompletedProcess, Path, Path]:
    log, output = tmp_path / f"{outcome}-{exit_kind}.log", tmp_path / f"{outcome}-{exit_kind}.out"
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(STEP), str(log), str(output), outcome, exit_kind],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done, log, output


def test_fast_exit_skips_the_teardown_after_writing_and_logging(tmp_path: Path) -> None:
    done, log, output = run(tmp_path, "ok", "fast")
    assert done.returncode == 0, done.stderr
    assert output.read_text() == "done" and f"wrote {output}" in log.read_text()
    # The atexit handlers run (TensorFlow's remove its temporary files); then os._exit: no teardown.
    assert "atexit ran" in done.stdout and "teardown ran" not in done.stdout
    slow, _, _ = run(tmp_path, "ok", "normal")
    assert slow.returncode == 0 and "atexit ran" in slow.stdout and "teardown ran" in slow.stdout


def test_a_user_error_exits_1_with_its_fix_and_no_traceback(tmp_path: Path) -> None:
    for exit_kind in ("fast", "normal"):
        done, log, output = run(tmp_path, "fail", exit_kind)
        assert done.returncode == 1 and not output.exists()
        assert "ERROR in rule demo: the input is bad" in done.stderr and "Fix: give a good one" in log.read_text()
        assert "Traceback" not in done.stderr


def test_stopwatch_records_each_phase() -> None:
    clock = Stopwatch()
    sum(range(100_000))
    clock.lap("first")
    clock.lap("second")
    record = clock.record(extra=3)
    assert list(record) == ["first", "second", "job_seconds", "cpu", "extra"] and record["extra"] == 3
    assert 0 <= record["first"] + record["second"] <= record["job_seconds"]
    cpu = record["cpu"]
    assert list(cpu) == ["before_script", "first", "second", "total"]
    assert min(cpu.values()) >= 0 and cpu["total"] >= cpu["before_script"] + cpu["first"] + cpu["second"] - 1e-6
