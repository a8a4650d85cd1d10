"""Glue between a Snakemake ``script:`` and the modules: logging, clean user errors, and for
the grid's training jobs a record of where the job's time went and a fast exit."""

from __future__ import annotations

import atexit
import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from workflow_scripts.core.errors import UserError


def run_step(main: Callable[[Any], None], smk: Any, fast_exit: bool = False) -> None:
    """Run ``main(snakemake)`` with logging to the rule's log; exit 1 on a UserError.

    A UserError prints its problem and fix (no traceback) to stderr and to the log.
    ``fast_exit`` (pass ``__name__ == "__main__"``: only in the job's own process, never when
    a test runs the script in its own): after a success, end the process at once
    (:func:`exit_now`) instead of tearing the interpreter down.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if smk.log:
        handlers.append(logging.FileHandler(smk.log[0], mode="w", encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", handlers=handlers, force=True)
    try:
        main(smk)
    except UserError as error:
        logging.getLogger("genre_factor").error("ERROR in rule %s: %s", smk.rule, error)
        sys.exit(1)
    if fast_exit:
        exit_now()


def exit_now() -> None:
    """Exit 0 without the interpreter's teardown: the ``atexit`` handlers run (among them
    ``logging.shutdown``, which flushes and closes the logs), then ``os._exit``.

    For a job that has imported TensorFlow the teardown (destroying its modules and threads)
    costs about 2 CPU seconds (benchmarks/bench_step.py; figures in benchmarks/README.md). Call it only
    after the outputs are written and closed (the atomic writes of ``fileio`` rename them into
    place before returning). The ``atexit`` handlers take well under a millisecond and tidy
    up: TensorFlow's autograph removes the source file it wrote to the temporary folder for
    each traced function (``__autograph_generated_file*.py``), one per training job otherwise.
    """
    atexit._run_exitfuncs()  # what a normal exit runs before the teardown (no public name)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


class Stopwatch:
    """Wall and CPU seconds of a job's phases, for the ``timing`` record of its output.

    The clock starts when the stopwatch is made; :meth:`lap` ends a phase.
    CPU seconds are this process's (``time.process_time``): on a busy machine a job gets
    less than its core, and its CPU seconds are what it would take on a free one.
    """

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.cpu_before = time.process_time()  # the interpreter, Snakemake's preamble, imports so far
        self._wall, self._cpu = self.started, self.cpu_before
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def lap(self, phase: str) -> None:
        """End ``phase`` (it began at the last lap, or at the start)."""
        wall, cpu = time.perf_counter(), time.process_time()
        self.wall[phase], self.cpu[phase] = wall - self._wall, cpu - self._cpu
        self._wall, self._cpu = wall, cpu

    def record(self, **extra: Any) -> dict[str, Any]:
        """Each phase's wall seconds, ``job_seconds`` (wall since the start), ``cpu`` (each
        phase's, ``before_script``: before the start, and ``total``) and ``extra``."""
        cpu = {"before_script": self.cpu_before, **self.cpu, "total": time.process_time()}
        return {**self.wall, "job_seconds": time.perf_counter() - self.started, "cpu": cpu, **extra}
