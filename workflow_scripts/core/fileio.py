"""Atomic writes: a reader never sees a half-written file, a killed writer leaves no debris.

Every write goes to a temporary file beside its target, ``.<name>.<host>-<pid>-<token>.tmp``,
which is renamed over the target when complete. The temporary file is created as plain
``open()`` would create it (mode 0666 less the umask), so outputs get the permissions the
user's umask gives; the name says which process wrote it, so that a later run can remove
the files of writers that were killed (``remove_stale_temporaries``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

HOST = re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname())[:40] or "host"
# Temporary files of the atomic writes; older writers used ".<name>.<random>.tmp".
TEMPORARY = re.compile(r"^\..+\.tmp$")
_OWNER = re.compile(r"\.(?P<host>[A-Za-z0-9_]+)-(?P<pid>[0-9]+)-[0-9a-f]+\.tmp$")


def temporary_path(target: str | Path) -> Path:
    """A fresh temporary name beside ``target`` that names this host and process."""
    target = Path(target)
    return target.with_name(f".{target.name}.{HOST}-{os.getpid()}-{secrets.token_hex(4)}.tmp")


@contextmanager
def atomic_path(target: str | Path, make_parent: bool = True) -> Iterator[Path]:
    """Yield a new, empty temporary path beside ``target``; rename it over ``target`` on success."""
    target = Path(target)
    if make_parent:
        target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(target)
    # 0o666 as open() uses: the umask decides (mkstemp would force 0600).
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(target: str | Path, text: str, fsync: bool = True, make_parent: bool = True) -> None:
    """Write ``text`` to ``target`` atomically (fsync before the rename unless ``fsync`` is False).

    Without fsync the rename is still atomic against a killed process; after a power cut the
    target may be empty.
    """
    with atomic_path(target, make_parent) as tmp:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())


def write_json_atomic(target: str | Path, data: Any, fsync: bool = True, make_parent: bool = True) -> None:
    """Write ``data`` as indented JSON, atomically."""
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    write_text_atomic(target, text, fsync, make_parent)


def write_with(target: str | Path, writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp_path)`` and move the result over ``target`` atomically."""
    with atomic_path(target) as tmp:
        writer(tmp)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def remove_stale_temporaries(folder: str | Path, max_age_s: float = 3600.0) -> int:
    """Delete the temporary files that killed writers left in ``folder``; return how many.

    A temporary file is stale when its writer (named in the file name) was a process of
    this host that is gone, or when it is older than ``max_age_s`` (writers on other hosts,
    older name forms). Files being written by live processes are left alone.
    """
    removed = 0
    now = time.time()
    try:
        files = os.scandir(folder)
    except FileNotFoundError:
        return 0
    with files:
        for item in files:
            if not TEMPORARY.match(item.name):
                continue
            owner = _OWNER.search(item.name)
            try:
                dead = owner is not None and owner["host"] == HOST and not _pid_alive(int(owner["pid"]))
                if dead or now - item.stat(follow_symlinks=False).st_mtime > max_age_s:
                    os.unlink(item.path)
                    removed += 1
            except FileNotFoundError:
                continue
    return removed


def sha256_file(path: str | Path) -> str:
    """The file's SHA-256, hex."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
