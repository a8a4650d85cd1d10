"""Many Snakemake commands for the price of one start: Snakemake is imported once, and each
command runs in a fork of that process (its own state, its own output file).

    python -m tests.support.dry_runs OUT PARALLEL -- COMMON_ARGS... -- ARGS_1 -- ARGS_2 ...

runs ``snakemake COMMON_ARGS ARGS_i`` for each i, ``PARALLEL`` at a time, into ``OUT/<i>.log``
(stdout and stderr) and ``OUT/<i>.rc``. Importing Snakemake takes most of a dry run's time
(about 1.2 of 1.7 s on these machines), so a walk of dozens of dry runs spends it once.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path


def _child(argv: list[str], log: Path) -> None:
    """In the fork: run Snakemake's command line with ``argv``, output to ``log``; never return."""
    from snakemake.cli import main

    code = 1
    try:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        main(argv)
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    except BaseException:  # noqa: BLE001  (reported in the log, as Snakemake's own command would)
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_all(out: Path, parallel: int, common: list[str], commands: list[list[str]]) -> None:
    """Run each command (``common`` + its own arguments) in a fork, ``parallel`` at a time."""
    import snakemake.cli  # noqa: F401  (imported once, before the forks)

    running: dict[int, int] = {}

    def reap() -> None:
        pid, status = os.wait()
        (out / f"{running.pop(pid)}.rc").write_text(str(os.waitstatus_to_exitcode(status)))

    for i, args in enumerate(commands):
        while len(running) >= parallel:
            reap()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child([*common, *args], out / f"{i}.log")
        running[pid] = i
    while running:
        reap()


def main(argv: list[str]) -> int:
    out, parallel, *rest = argv
    groups: list[list[str]] = [[]]
    for arg in rest:
        if arg == "--":
            groups.append([])
        else:
            groups[-1].append(arg)
    if groups[0] or len(groups) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    run_all(Path(out), int(parallel), groups[1], groups[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
