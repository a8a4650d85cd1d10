"""The model bundle (``results/model/``): everything needed to go from raw songs to genres.

Files: ``preprocessing.skops`` (the fitted scikit-learn Pipeline), ``text_<block>.skops`` (the
stacked text models, when configured), ``network.keras``, one ``<estimator>.skops`` per
estimator of the registry, ``artist_lookup.json``, ``model_card.md`` and ``manifest.json``
(format version, the SHA-256 of every other file, package versions, the config and dataset
digests, classes, feature list, required input columns, the chosen network and why).

Nothing here is loaded with pickle: scikit-learn objects go through ``skops.io`` with the
explicit :data:`TRUSTED_TYPES` beyond skops' own safe set, the network through Keras'
``.keras`` format with ``safe_mode=True``, and every file is checked against its recorded
SHA-256 before it is read.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workflow_scripts.core.errors import UserError
from workflow_scripts.core.fileio import atomic_path, sha256_file, write_json_atomic
from workflow_scripts.models import registry as models

FORMAT = "genre-factor-model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
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
#: Packages whose versions the manifest records (a bundle is read with the same ones).
PACKAGES = ("numpy", "pandas", "scikit-learn", "skops", "keras", "tensorflow-cpu", "tensorflow")


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


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`PACKAGES` (and Python)."""
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def lookup_to_json(lookup: Any) -> dict[str, Any]:
    """An ArtistLookup as plain JSON: artists, their genre shares, the prior."""
    table = lookup.table_
    return {"artists": [str(a) for a in table.index], "shares": table.to_numpy(dtype=float).tolist(), "prior": lookup.prior_.tolist()}


def lookup_from_json(data: Mapping[str, Any]) -> Any:
    """The ArtistLookup that ``lookup_to_json`` wrote."""
    import pandas as pd

    from workflow_scripts.models.estimators import ArtistLookup

    lookup = ArtistLookup()
    n_classes = len(data["prior"])
    lookup.table_ = pd.DataFrame(
        np.asarray(data["shares"], dtype=float).reshape(-1, n_classes), index=data["artists"], columns=range(n_classes)
    )
    lookup.prior_ = np.asarray(data["prior"], dtype=float)
    return lookup


def write(
    folder: str | Path,
    fitted_features: Any,
    network_path: str | Path,
    estimators: Mapping[str, Any],
    lookup: Any,
    manifest: Mapping[str, Any],
    card: str,
) -> dict[str, Any]:
    """Write the bundle into ``folder``: the model files and the card first, the manifest
    (with every file's SHA-256) last, so a manifest only exists beside a complete bundle."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)
    files: list[str] = [PREPROCESSING]
    save_skops(fitted_features.pipeline, folder / PREPROCESSING)
    for block, text_model in fitted_features.text_models.items():
        files += save_text_model(text_model, folder, f"text_{block}")
    for model in models.REGISTRY:
        if not model.in_bundle or model.kind == "ensemble":
            continue
        target = folder / model.file
        if model.kind == "network":
            with atomic_path(target) as tmp:
                tmp.write_bytes(Path(network_path).read_bytes())
        elif model.kind == "estimator":
            save_skops(estimators[model.name], target)
        else:
            write_json_atomic(target, lookup_to_json(lookup))
        files.append(model.file)
    with atomic_path(folder / CARD) as tmp:
        tmp.write_text(card, encoding="utf-8")
    files.append(CARD)
    for stale in folder.iterdir():  # e.g. a text model of a block the config no longer has
        if stale.name not in files and stale.name != MANIFEST and stale.name.endswith((".skops", ".keras", ".json", ".md")):
            stale.unlink()
    full = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        **manifest,
        "files": {name: sha256_file(folder / name) for name in files},
        "packages": package_versions(),
    }
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
    def required_columns(self) -> list[str]:
        return list(self.manifest["required_columns"])

    def probabilities(self, songs: Any, names: Sequence[str]) -> dict[str, np.ndarray]:
        """Each named model's class probabilities for raw, validated ``songs``."""
        X = self.features.transform(songs)
        artists = songs["Artist"] if "Artist" in songs.columns else None
        return models.probabilities(self.fitted, X, artists, self.ensemble, only=list(names))


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


def needed(names: Sequence[str], ensemble: Sequence[str]) -> list[str]:
    """The stored models that predicting ``names`` needs (the ensemble needs its members)."""
    out: list[str] = []
    for name in names:
        for member in [*ensemble] if models.spec(name).kind == "ensemble" else [name]:
            if member not in out:
                out.append(member)
    return out


def load(folder: str | Path, names: Sequence[str] = (models.DEFAULT_MODEL,)) -> Bundle:
    """Load the bundle's preprocessing and the models ``names`` need, each file checked
    against its SHA-256 first; the network with ``safe_mode=True``."""
    from workflow_scripts.features.pipeline import FittedFeatures

    folder = Path(folder)
    manifest = read_manifest(folder)
    for name in names:
        if name not in manifest["models"]:
            raise UserError(f"The bundle has no model {name!r}.", f"choose --model-name from: {', '.join(manifest['models'])}.")
    stored = needed(names, manifest["ensemble"])
    blocks = list(manifest["features"].get("text") or [])
    files = [PREPROCESSING, *(f"text_{b}{suffix}" for b in blocks for suffix in TEXT_SUFFIXES), *(models.spec(n).file for n in stored)]
    verify(folder, manifest, files)
    features = FittedFeatures(
        dict(manifest["features"]),
        list(manifest["classes"]),
        load_skops(folder / PREPROCESSING),
        {b: load_text_model(folder, f"text_{b}") for b in blocks},
    )
    fitted: dict[str, Any] = {}
    for name in stored:
        model = models.spec(name)
        path = folder / model.file
        if model.kind == "network":
            from workflow_scripts.models.network import configure_threads

            configure_threads(1)
            import keras

            fitted[name] = keras.models.load_model(path, compile=False, safe_mode=True)
        elif model.kind == "estimator":
            fitted[name] = load_skops(path)
        else:
            fitted[name] = lookup_from_json(json.loads(path.read_text(encoding="utf-8")))
    return Bundle(folder, manifest, features, fitted)
