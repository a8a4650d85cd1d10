"""Style gates: ruff, snakefmt and snakemake --lint stay clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_ruff_is_clean() -> None:
    result = run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakefmt_is_clean() -> None:
    result = run(str(BIN / "snakefmt"), "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakemake_lint_is_clean() -> None:
    result = run(sys.executable, "-m", "snakemake", "--lint")
    assert result.returncode == 0 and "Congratulations" in result.stdout + result.stderr, result.stdout + result.stderr
