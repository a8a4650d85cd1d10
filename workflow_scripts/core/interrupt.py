"""Let a run started in the background stop on SIGINT the way a run in a terminal stops on Ctrl-C."""

from __future__ import annotations

import signal
import threading


def restore_default_sigint() -> bool:
    """Give SIGINT back Python's ``KeyboardInterrupt`` handler if this process inherited it ignored.

    A process started with ``&`` from a non-interactive shell (a script, ``nohup snakemake ... &``,
    many CI runners and job launchers) inherits SIGINT as ignored, and Python keeps it ignored,
    so ``kill -INT`` would do nothing. Snakemake stops on ``KeyboardInterrupt``: it cancels its
    running and queued jobs (``scancel`` on SLURM), releases its lock and keeps finished results.
    Called while the Snakefile is read, so ``kill -INT <pid>`` does that for a backgrounded run too.

    Returns True when it changed the handler. A handler someone installed on purpose is left
    alone, and so is every thread but the main one (only it may set handlers).
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        return False
    signal.signal(signal.SIGINT, signal.default_int_handler)
    return True
