"""Atomic writes: outputs get the permissions the user's umask gives, no debris is left."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import deep_update, default_config, run_workflow, write_config
from tests.test_dataset import make_songs
from workflow_scripts.core import fileio

UMASKS = [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask(request: pytest.FixtureRequest):
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


@pytest.mark.parametrize(("umask", "expected"), UMASKS, indirect=["umask"])
def test_every_writer_follows_the_umask(tmp_path: Path, umask: int, expected: int) -> None:
    fileio.write_text_atomic(tmp_path / "a.txt", "text\n")
    fileio.write_json_atomic(tmp_path / "b.json", {"x": 1}, fsync=False)
    fileio.write_with(tmp_path / "c.bin", lambda tmp: tmp.write_bytes(b"\0"))
    with fileio.atomic_path(tmp_path / "sub" / "d.csv") as tmp:
        tmp.write_text("a,b\n")
    with open(tmp_path / "plain.txt", "w") as handle:  # what plain open() gives, for comparison
        handle.write("x")
    for name in ("a.txt", "b.json", "c.bin", "sub/d.csv", "plain.txt"):
        assert mode(tmp_path / name) == expected, name
    assert sorted(p.name for p in tmp_path.rglob(".*")) == []  # no temporary files left


def test_replacing_a_file_takes_the_umask_not_the_old_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    target.chmod(0o600)
    old = os.umask(0o022)
    try:
        fileio.write_text_atomic(target, "new")
    finally:
        os.umask(old)
    assert target.read_text() == "new" and mode(target) == 0o644


def test_failed_writer_leaves_the_old_file_and_no_debris(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")

    def broken(tmp: Path) -> None:
        tmp.write_text("half")
        raise RuntimeError("writer died")

    with pytest.raises(RuntimeError):
        fileio.write_with(target, broken)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # a pid that is gone
    dead = tmp_path / f".entry.json.{fileio.HOST}-{child.pid}-0badc0de.tmp"
    alive = fileio.temporary_path(tmp_path / "entry.json")  # this process's: being written
    old_form = tmp_path / ".entry.json.abc123.tmp"  # the former mkstemp name, recent
    for path in (dead, alive, old_form):
        path.write_text("{")
    assert fileio.remove_stale_temporaries(tmp_path) == 1
    assert not dead.exists() and alive.exists() and old_form.exists()
    assert fileio.remove_stale_temporaries(tmp_path, max_age_s=-1) == 2
    assert fileio.remove_stale_temporaries(tmp_path / "missing") == 0


@pytest.mark.integration
def test_a_workflow_step_writes_outputs_the_umask_allows(tmp_path: Path) -> None:
    csv = tmp_path / "songs.csv"
    make_songs(40).to_csv(csv, index=False)
    config = deep_update(default_config(), {"dataset": {"source": "path", "path": str(csv)}})
    run_workflow(tmp_path, write_config(tmp_path / "config.yaml", config), "--until", "validate_dataset", umask=0o027)
    raw = tmp_path / "results/data/raw.parquet"
    assert raw.exists() and mode(raw) == 0o640
    assert mode(tmp_path / "results/logs/validate_dataset.log") == 0o640
    assert not list((tmp_path / "results/data").glob(".*"))
