"""The model bundle (``results/model/``): everything needed to go from raw songs to genres.

Files: ``preprocessing.skops`` (the fitted scikit-learn Pipeline), ``text_<block>.skops`` (the
stacked text models, when configured), ``network.keras``, one ``<estimator>.skops`` per
estimator of the registry, ``artist_lookup.json``, ``model_card.md`` and ``manifest.json``
(:mod:`workflow_scripts.bundle.manifest`: format version, the SHA-256 of every other file,
package versions, the config and dataset digests, classes, feature list, required input
columns, the chosen network and why). Each model's file is written and read by the model
registry (:func:`workflow_scripts.models.registry.save`, ``load``).

Nothing here is loaded with pickle: scikit-learn objects go through ``skops.io`` with the
explicit :data:`TRUSTED_TYPES` beyond skops' own safe set, the network through Keras'
``.keras`` format with ``safe_mode=True``, and every file is checked against its recorded
SHA-256 before it is read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workflow_scripts.bundle.manifest import MANIFEST, complete, read_manifest
from workflow_scripts.core.errors import UserError
from workflow_scripts.core.fileio import atomic_path, sha256_file, write_json_atomic
from workflow_scripts.models import registry as models

CARD = "model_card.md"
PREPROCESSING = "preprocessing.skops"

#: Types a bundle's skops files may hold beyond skops' default trusted set (scikit-learn
#: estimators, numpy arrays, builtins). Anything else in a file stops the load.
TRUSTED_TYPES: list[str] = [
    "numpy.dtype",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.neighbors._kd_tree.KDTree",
]


def digest_of(data: Any) -> str:
    """SHA-256 of a JSON-able value in canonical form (sorted keys)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def save_skops(obj: Any, path: str | Path) -> None:
    """Write a scikit-learn object with skops, atomically."""
    import skops.io

    with atomic_path(path) as tmp:
        skops.io.dump(obj, tmp)


def load_skops(path: str | Path) -> Any:
    """Read a skops file, trusting only skops' safe set and :data:`TRUSTED_TYPES`."""
    import skops.io
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        return skops.io.load(path, trusted=TRUSTED_TYPES)
    except UntrustedTypesFoundException as error:
        raise UserError(
            f"{path} holds types this project does not trust ({error}); loading it could run foreign code.",
            "use a bundle built by this workflow (snakemake builds results/model/), not a file from elsewhere.",
        ) from None
    except Exception as error:  # a damaged zip or schema: skops raises several kinds
        raise UserError(
            f"{path} is not a readable skops file: {error}", "rebuild the bundle (snakemake results/model/manifest.json)."
        ) from None


TEXT_SUFFIXES = (".skops", ".vocabulary.json")


def _vectorizers(obj: Any, path: str = "") -> list[tuple[str, Any]]:
    """The fitted text vectorizers inside a Pipeline / FeatureUnion, with their step paths."""
    found: list[tuple[str, Any]] = []
    if hasattr(obj, "vocabulary_"):
        found.append((path, obj))
    for name, part in [*getattr(obj, "steps", []), *getattr(obj, "transformer_list", [])]:
        found += _vectorizers(part, f"{path}/{name}")
    return found


def save_text_model(model: Any, folder: Path, stem: str) -> list[str]:
    """A stacked text model as ``<stem>.skops`` without its vocabularies, which go to
    ``<stem>.vocabulary.json`` (plain term -> column; skops reads a 10^5-term dict in a minute,
    JSON in a fraction of a second). Returns the file names."""
    import copy

    stripped = copy.deepcopy(model)
    vocabularies = {}
    for path, vectorizer in _vectorizers(stripped):
        vocabularies[path] = {term: int(column) for term, column in vectorizer.vocabulary_.items()}
        vectorizer.vocabulary_ = {}
    save_skops(stripped, folder / f"{stem}.skops")
    write_json_atomic(folder / f"{stem}.vocabulary.json", vocabularies)
    return [f"{stem}{suffix}" for suffix in TEXT_SUFFIXES]


def load_text_model(folder: Path, stem: str) -> Any:
    """The text model ``save_text_model`` wrote, vocabularies restored."""
    model = load_skops(folder / f"{stem}.skops")
    vocabularies = json.loads((folder / f"{stem}.vocabulary.json").read_text(encoding="utf-8"))
    for path, vectorizer in _vectorizers(model):
        vectorizer.vocabulary_ = vocabularies[path]
    return model


def write(
    folder: str | Path,
    fitted_features: Any,
    stored: Mapping[str, Any],
    manifest: Mapping[str, Any],
    card: str,
) -> dict[str, Any]:
    """Write the bundle into ``folder``: the model files and the card first, the manifest
    (with every file's SHA-256) last, so a manifest only exists beside a complete bundle.
    ``stored``: each stored model of the registry, as :func:`models.save` takes it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)
    files: list[str] = [PREPROCESSING]
    save_skops(fitted_features.pipeline, folder / PREPROCESSING)
    for block, text_model in fitted_features.text_models.items():
        files += save_text_model(text_model, folder, f"text_{block}")
    for model in models.REGISTRY:
        if model.stored:
            models.save(model.name, stored[model.name], folder / model.file)
            files.append(model.file)
    with atomic_path(folder / CARD) as tmp:
        tmp.write_text(card, encoding="utf-8")
    files.append(CARD)
    for stale in folder.iterdir():  # e.g. a text model of a block the config no longer has
        if stale.name not in files and stale.name != MANIFEST and stale.name.endswith((".skops", ".keras", ".json", ".md")):
            stale.unlink()
    full = complete(manifest, folder, files)
    write_json_atomic(folder / MANIFEST, full)
    return full


@dataclass
class Bundle:
    """A loaded bundle: its manifest, fitted preprocessing and the models asked for."""

    folder: Path
    manifest: dict[str, Any]
    features: Any
    fitted: dict[str, Any] = field(default_factory=dict)

    @property
    def classes(self) -> list[str]:
        return list(self.manifest["classes"])

    @property
    def ensemble(self) -> list[str]:
        return list(self.manifest["ensemble"])

    @property
    def class_shares(self) -> np.ndarray | None:
        """Each genre's share of the training rows (pooling as evidence divides it out); None
        in a bundle built before the manifest recorded it."""
        shares = self.manifest.get("class_shares")
        return None if shares is None else np.asarray(shares, dtype="float64")

    @property
    def required_columns(self) -> list[str]:
        return list(self.manifest["required_columns"])

    def probabilities(self, songs: Any, names: Sequence[str]) -> dict[str, np.ndarray]:
        """Each named model's class probabilities for raw, validated ``songs`` (with artist
        context: among these songs)."""
        artists = songs["Artist"] if "Artist" in songs.columns else None
        return self.probabilities_of(self.features.transform(songs), artists, names)

    def probabilities_of(self, X: np.ndarray, artists: Any, names: Sequence[str]) -> dict[str, np.ndarray]:
        """Each named model's class probabilities for the feature matrix ``X`` of songs by ``artists``."""
        return models.probabilities(self.fitted, X, artists, self.ensemble, only=list(names))


def verify(folder: Path, manifest: Mapping[str, Any], names: Sequence[str]) -> None:
    """Check the named files against their recorded SHA-256."""
    for name in names:
        expected = manifest["files"].get(name)
        path = folder / name
        if expected is None or not path.exists():
            raise UserError(f"The bundle {folder} lacks {name}.", "rebuild the bundle (snakemake results/model/manifest.json).")
        actual = sha256_file(path)
        if actual != expected:
            raise UserError(
                f"{path} has SHA-256 {actual}, but the manifest records {expected}: the file was changed or damaged after the "
                "bundle was built, and a prediction from it could be silently wrong.",
                "rebuild the bundle (snakemake results/model/manifest.json) or copy the whole folder again from its source.",
            )


def load(folder: str | Path, names: Sequence[str] = (models.DEFAULT_MODEL,)) -> Bundle:
    """Load the bundle's preprocessing and the models ``names`` need, each file checked
    against its SHA-256 first; the network with ``safe_mode=True``."""
    from workflow_scripts.features.pipeline import FittedFeatures

    folder = Path(folder)
    manifest = read_manifest(folder)
    for name in names:
        if name not in manifest["models"]:
            raise UserError(f"The bundle has no model {name!r}.", f"choose --model-name from: {', '.join(manifest['models'])}.")
    stored = models.stored_for(names, manifest["ensemble"])
    blocks = list(manifest["features"].get("text") or [])
    files = [PREPROCESSING, *(f"text_{b}{suffix}" for b in blocks for suffix in TEXT_SUFFIXES), *(models.spec(n).file for n in stored)]
    verify(folder, manifest, files)
    features = FittedFeatures(
        dict(manifest["features"]),
        list(manifest["classes"]),
        load_skops(folder / PREPROCESSING),
        {b: load_text_model(folder, f"text_{b}") for b in blocks},
    )
    fitted = {name: models.load(name, folder / models.spec(name).file) for name in stored}
    return Bundle(folder, manifest, features, fitted)
