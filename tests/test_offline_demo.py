"""The README's closed-machine command runs the whole chain on generated data, into its own folder.

One run of ``python -m workflow_scripts.offline_demo`` (the README's command, with
``--results-dir`` pointing into a temporary folder): a few minutes on 2 cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.integration]


def test_offline_demo_runs_the_whole_chain_and_says_where_it_wrote(tmp_path: Path) -> None:
    folder = tmp_path / "offline"
    before = sorted(p.name for p in (REPO / "resources" / "wikidata").glob("*")) if (REPO / "resources" / "wikidata").exists() else []
    result = subprocess.run(
        [sys.executable, "-m", "workflow_scripts.offline_demo", "--results-dir", str(folder)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1200,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    assert (folder / "model" / "manifest.json").is_file()
    for name in ("report.html", "model/model_card.md", "evaluation/metrics.json"):
        assert (folder / name).is_file(), name
        assert str(folder / name) in result.stdout, f"the demo does not say where {name} is"
    metrics = json.loads((folder / "evaluation" / "metrics.json").read_text())
    assert metrics["classes"] == ["classical", "electronic", "hip hop", "metal", "pop", "rock"]
    assert len(list((folder / "wikidata-cache").rglob("*.json"))) > 0  # its own cache ...
    after = sorted(p.name for p in (REPO / "resources" / "wikidata").glob("*")) if (REPO / "resources" / "wikidata").exists() else []
    assert after == before  # ... and not the repository's
    assert not (folder / "oxigraph").exists()  # the server's store is removed after the run
