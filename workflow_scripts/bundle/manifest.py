"""The bundle's ``manifest.json``: what it records (built here from the run's results), and
reading it back with its format and version checked."""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from workflow_scripts.core.errors import UserError
from workflow_scripts.core.fileio import sha256_file
from workflow_scripts.core.versions import installed_versions
from workflow_scripts.models import registry as models

FORMAT = "genre-factor-model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: Packages whose versions the manifest records (a bundle is read with the same ones).
PACKAGES = ("numpy", "pandas", "scikit-learn", "skops", "keras", "tensorflow-cpu", "tensorflow")
#: The test metrics the manifest repeats per model.
SCORES = ("accuracy", "auc_pr_macro", "auc_pr_micro")


def build(
    *,
    classes: Sequence[str],
    feature_names: Sequence[Any],
    required_columns: Sequence[str],
    features: Mapping[str, Any],
    ensemble: Sequence[str],
    selection: Mapping[str, Any],
    split: Mapping[str, Any],
    dataset: Mapping[str, Any],
    labels: Mapping[str, Any],
    config_digest: str,
    metrics: Mapping[str, Any],
    class_shares: Sequence[float],
) -> dict[str, Any]:
    """What the manifest records of a run, before :func:`complete` adds the files' digests:
    classes, features, the models (:data:`models.REGISTRY`'s stored ones), the chosen network
    and why, the protocol, the dataset and labels' provenance, the config digest, test metrics,
    and each genre's share of the training rows (for ``predict --pool-by-artist evidence``)."""
    return {
        "classes": list(classes),
        "class_shares": [float(share) for share in class_shares],
        "feature_names": [str(n) for n in feature_names],
        "required_columns": list(dict.fromkeys(["Artist", *required_columns])),
        "features": dict(features),
        "models": list(models.IN_BUNDLE),
        "default_model": models.DEFAULT_MODEL,
        "ensemble": list(ensemble),
        "network": {"combo": selection["combo"], "params": selection["params"], "reason": selection.get("reason", "")},
        "protocol": dict(split),
        "dataset": dataset,
        "labels": {k: v for k, v in labels.items() if k in ("source", "endpoint", "csv", "queried")},
        "config_sha256": config_digest,
        "test_metrics": {n: {k: r[k] for k in SCORES} for n, r in metrics["models"].items()},
    }


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`PACKAGES` (and Python)."""
    return {"python": platform.python_version(), **installed_versions(PACKAGES)}


def complete(manifest: Mapping[str, Any], folder: Path, files: Sequence[str]) -> dict[str, Any]:
    """The manifest as written: format and version, ``manifest``, the SHA-256 of each of
    ``files`` in ``folder``, the package versions."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        **manifest,
        "files": {name: sha256_file(folder / name) for name in files},
        "packages": package_versions(),
    }


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest, checked for format and version; a UserError otherwise."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.exists():
        raise UserError(
            f"{folder} is not a model bundle (no {MANIFEST}).",
            "point --model at the folder the workflow built (results/model); build it with `snakemake --cores 2`.",
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise UserError(f"{path} is not valid JSON ({error}).", "rebuild the bundle (snakemake results/model/manifest.json).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise UserError(f"{path} is not a genre-factor model manifest.", "point --model at a bundle this workflow built.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise UserError(
            f"The bundle {folder} has format version {manifest.get('format_version')!r}; this code reads version {FORMAT_VERSION}.",
            "rebuild the bundle with this version of the workflow (snakemake results/model/manifest.json), "
            "or predict with the version of genre-factor that built it.",
        )
    return manifest
