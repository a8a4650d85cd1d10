"""Child processes whose signal dispositions the tests set, not inherit.

A test suite started with ``&`` from a non-interactive shell (``nohup pytest &``, many CI
runners) inherits SIGINT and SIGQUIT as ignored, and every child would inherit that too. A test
that signals a child therefore sets the child's dispositions itself: ``sigint="default"`` as
a terminal gives them, or ``sigint="ignored"`` to start it as ``nohup ... &`` would.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

RESET = (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP)


def signal_dispositions(sigint: str = "default") -> Callable[[], None]:
    """A ``preexec_fn`` that sets SIGINT (``"default"`` or ``"ignored"``) and resets SIGQUIT, SIGTERM, SIGHUP."""
    if sigint not in ("default", "ignored"):
        raise ValueError(f"sigint must be 'default' or 'ignored', not {sigint!r}")

    def apply() -> None:
        for number in RESET:
            signal.signal(number, signal.SIG_DFL)
        if sigint == "ignored":
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    return apply


def start_with(command: Sequence[str], log: Path, sigint: str = "default", env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session with the given SIGINT disposition, output to ``log``."""
    with open(log, "wb") as handle:
        return subprocess.Popen(
            list(command),
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            start_new_session=True,
            preexec_fn=signal_dispositions(sigint),
        )


def stop_group(proc: subprocess.Popen[bytes], grace_s: float = 30) -> None:
    """End a process started by ``start_with`` and its children: SIGINT, then SIGKILL after ``grace_s``."""
    if proc.poll() is not None:
        return
    for number, grace in ((signal.SIGINT, grace_s), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, number)
        except ProcessLookupError:
            return
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


class StartStop:
    """``with server:`` for a test server class that defines ``start()`` (returning the
    server) and ``stop()``: the fault proxy, the Oxigraph server, the Kaggle stand-in."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def processes_under(folder: Path) -> dict[int, str]:
    """Processes (pid: command line) whose working directory is ``folder`` or below it."""
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cwd = Path(os.readlink(proc / "cwd"))
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if cwd == folder or folder in cwd.parents:
            found[int(proc.name)] = command
    return found


def kill_all(pids: Iterable[int]) -> None:
    """SIGKILL each of ``pids`` in turn; one that has already gone is skipped."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def kill_processes_under(folder: Path) -> dict[int, str]:
    """SIGKILL every process working under ``folder``; return those it found (pid: command line)."""
    found = processes_under(folder)
    kill_all(found)
    return found
