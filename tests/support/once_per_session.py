"""Make a costly test input once per test session, also when pytest-xdist's workers all ask for it."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def session_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder this session's processes share: under pytest-xdist, the folder of the workers'
    base temporary folders (``pytest-N/``, new each session); without it, the base folder."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def made_once(root: Path, name: str, make: Callable[[Path], dict[str, Any]], timeout: float) -> dict[str, Any]:
    """``make(root / name)``'s result (JSON-able), made by whichever process asks first.

    The others wait for it, up to ``timeout`` s, under a file lock, then read the recorded result.
    A ``make`` that raised records nothing: the next process to ask tries again in a fresh folder.
    """
    done, folder = root / f"{name}.json", root / name
    with open(root / f"{name}.lock", "a") as lock:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"timed out after {timeout:.0f} s waiting for another pytest worker to make {folder} (lock {lock.name})"
                    ) from None
                time.sleep(1)
        try:
            if done.exists():
                return json.loads(done.read_text())
            shutil.rmtree(folder, ignore_errors=True)  # a failed attempt's
            folder.mkdir()
            result = make(folder)
            partial = done.with_suffix(".partial")
            partial.write_text(json.dumps(result))
            partial.replace(done)
            return result
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
