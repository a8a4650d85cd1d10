"""The model bundle (results/model/): one small workflow run (with every feature kind:
engineered, flags, stacked text, artist context) shared with tests/test_predict.py; its manifest, safe
loading, and what a tampered or foreign bundle gives."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BUNDLE_FEATURES, DATASET_CSV, REPO, needs_shared, run_workflow
from workflow_scripts.bundle import manifest as bundle_manifest
from workflow_scripts.bundle import store as bundle
from workflow_scripts.core.errors import UserError
from workflow_scripts.models import registry as models

pytestmark = [needs_shared, pytest.mark.integration]
FEATURES = BUNDLE_FEATURES  # the shared run's (the ``trained`` fixture in tests/conftest.py)


def copy_bundle(trained: dict, tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(trained["model"], target)
    return target


def predict_cli(model: Path, songs: Path, output: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "workflow_scripts.predict", "--model", str(model), "--input", str(songs), "--output", str(output)]
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=REPO, timeout=300)


def few_songs(path: Path, n: int = 5) -> Path:
    """The dataset CSV's first ``n`` rows, byte for byte."""
    with open(DATASET_CSV, newline="", encoding="utf-8") as source, open(path, "w", newline="", encoding="utf-8") as target:
        reader, writer = csv.reader(source), csv.writer(target)
        for k, record in enumerate(reader):
            if k > n:
                break
            writer.writerow(record)
    return path


def test_manifest_records_every_file_versions_and_provenance(trained: dict) -> None:
    folder = trained["model"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format"] == bundle_manifest.FORMAT and manifest["format_version"] == bundle_manifest.FORMAT_VERSION
    on_disk = {p.name for p in folder.iterdir() if p.name != "manifest.json"}
    assert set(manifest["files"]) == on_disk
    assert {"preprocessing.skops", "text_song.skops", "text_song.vocabulary.json", "network.keras", "model_card.md"} <= on_disk
    assert not [name for name in on_disk if name.endswith((".joblib", ".pkl", ".pickle"))]
    for name, digest in manifest["files"].items():
        assert bundle.sha256_file(folder / name) == digest, name
    assert {"scikit-learn", "skops", "keras", "numpy", "pandas", "python"} <= set(manifest["packages"])
    assert manifest["dataset"]["sha256"] == bundle.sha256_file(DATASET_CSV) and manifest["dataset"]["rows"] == 20718
    assert len(manifest["config_sha256"]) == 64
    span = manifest["labels"]["queried"]
    assert span["artists"] > 0 and span["first"] <= span["last"]
    selection = json.loads((trained["workdir"] / "results/hpo/selection.json").read_text())
    assert manifest["network"] == {"combo": selection["combo"], "params": selection["params"], "reason": selection["reason"]}
    arrays_names = manifest["feature_names"]
    assert len(arrays_names) == len(set(arrays_names)) and "text_song_metal" in arrays_names and "likes_per_view" in arrays_names
    assert manifest["models"] == [m.name for m in models.REGISTRY if m.in_bundle]
    assert {"Artist", "Danceability", "Description", "Album_type"} <= set(manifest["required_columns"])
    card = (folder / "model_card.md").read_text()
    assert "Labels are per artist" in card and selection["combo"] in card and "| hgb |" in card
    assert "Artist context: each song also sees the mean of its artist's songs" in card  # FEATURES has artist_context


def test_skops_files_hold_only_trusted_types(trained: dict) -> None:
    import skops.io

    for path in sorted(trained["model"].glob("*.skops")):
        assert set(skops.io.get_untrusted_types(file=path)) <= set(bundle.TRUSTED_TYPES), path.name
        assert bundle.load_skops(path) is not None


def test_a_file_with_an_untrusted_type_is_refused(trained: dict, tmp_path: Path) -> None:
    from sklearn.preprocessing import FunctionTransformer

    folder = copy_bundle(trained, tmp_path)
    bundle.save_skops(FunctionTransformer(func=print), folder / "knn.skops")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["knn.skops"] = bundle.sha256_file(folder / "knn.skops")  # a consistent, hostile bundle
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UserError, match="does not trust"):
        bundle.load(folder, ["knn"])


def test_tampered_file_is_a_clear_error_and_writes_nothing(trained: dict, tmp_path: Path) -> None:
    folder = copy_bundle(trained, tmp_path)
    data = bytearray((folder / "hgb.skops").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "hgb.skops").write_bytes(bytes(data))
    output = tmp_path / "out.csv"
    result = predict_cli(folder, few_songs(tmp_path / "songs.csv"), output)
    assert result.returncode == 1 and "hgb.skops has SHA-256" in result.stderr and "Fix:" in result.stderr
    assert "Traceback" not in result.stderr and not output.exists()


def test_bundle_of_another_format_version_is_refused(trained: dict, tmp_path: Path) -> None:
    folder = copy_bundle(trained, tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps({**manifest, "format_version": bundle_manifest.FORMAT_VERSION + 1}))
    output = tmp_path / "out.csv"
    result = predict_cli(folder, few_songs(tmp_path / "songs.csv"), output)
    assert result.returncode == 1 and "format version 2" in result.stderr and "Traceback" not in result.stderr
    assert not output.exists()
    result = predict_cli(tmp_path / "nothing", tmp_path / "songs.csv", output)
    assert result.returncode == 1 and "is not a model bundle" in result.stderr


def test_model_card_is_in_the_report(trained: dict) -> None:
    report = trained["workdir"] / "report.html"
    run_workflow(trained["workdir"], trained["configfile"], "--report", str(report))
    assert "model_card.md" in report.read_text(errors="replace")
