"""Genres for a user's own songs from a model bundle (``results/model/``).

    python -m workflow_scripts.predict --model results/model --input songs.csv --output predictions.csv \\
        [--model-name ensemble] [--all-models] [--pool-by-artist]

The input is a CSV in the Kaggle "Spotify and YouTube" schema; only the columns the bundle
needs are required (its manifest lists them), others are ignored. Missing values and unknown
categories get what the training pipeline gives them (imputation, the unknown code). The
output has per song its row id, Artist, Track, the predicted genre and each genre's
probability; ``--all-models`` adds each model's predicted genre. The rule ``predict``
(``rules/predict.smk``) runs the same :func:`predict_file`.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from workflow_scripts.core.errors import UserError

log = logging.getLogger(__name__)


def output_name(settings: Mapping[str, Any]) -> str:
    """The name of ``results/predictions/<name>.csv``: ``predict.name``, else the input's stem."""
    name = settings.get("name") or Path(str(settings["input"])).stem
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def read_songs(path: str | Path, required: Sequence[str]) -> Any:  # -> pd.DataFrame
    """The input CSV, its required columns checked and typed as in training."""
    from workflow_scripts.data import dataset

    path = Path(path)
    if not path.exists():
        raise UserError(f"Input file {path} does not exist.", "check --input (a CSV in the Kaggle 'Spotify and YouTube' schema).")
    songs = dataset.read_csv(path)
    return dataset.validate(
        songs,
        source=f"input {path}",
        required=list(required),
        missing_fix=f"add the column(s); this bundle needs: {', '.join(required)} (the Kaggle 'Spotify and YouTube' names).",
        drop_blank_artists=False,
    )


def predictions(bundle: Any, songs: Any, model_name: str, all_models: bool = False, pool_by_artist: bool = False) -> Any:
    """The output table: row, Artist, Track, genre, one probability column per genre
    (``p_<genre>``), and with ``all_models`` a ``genre_<model>`` column per model."""
    import numpy as np
    import pandas as pd

    names = list(bundle.manifest["models"]) if all_models else [model_name]
    if model_name not in names:
        names = [model_name, *names]
    probas = bundle.probabilities(songs, names)
    if pool_by_artist:
        from workflow_scripts.evaluation import metrics as evaluation

        probas = {name: evaluation.pool_by_artist(proba, songs["Artist"]) for name, proba in probas.items()}
    classes = np.asarray(bundle.classes)
    out = pd.DataFrame({"row": songs["row"].to_numpy()})
    for column in ("Artist", "Track"):
        out[column] = songs[column].to_numpy() if column in songs.columns else pd.NA
    out["genre"] = classes[probas[model_name].argmax(axis=1)]
    for k, genre in enumerate(classes):
        out[f"p_{genre}"] = probas[model_name][:, k]
    if all_models:
        for name in names:
            out[f"genre_{name.replace(' ', '_')}"] = classes[probas[name].argmax(axis=1)]
    return out


def predict_file(
    model: str | Path,
    input_csv: str | Path,
    output_csv: str | Path,
    model_name: str = "ensemble",
    all_models: bool = False,
    pool_by_artist: bool = False,
) -> int:
    """Read, predict, write ``output_csv`` atomically (nothing is left on an error); the number of songs."""
    from workflow_scripts.bundle import store as bundle_lib
    from workflow_scripts.core.fileio import atomic_path

    manifest = bundle_lib.read_manifest(model)
    if model_name not in manifest["models"]:
        raise UserError(f"The bundle has no model {model_name!r}.", f"choose --model-name from: {', '.join(manifest['models'])}.")
    songs = read_songs(input_csv, manifest["required_columns"])
    names = list(manifest["models"]) if all_models else [model_name]
    loaded = bundle_lib.load(model, names)
    table = predictions(loaded, songs, model_name, all_models, pool_by_artist)
    with atomic_path(output_csv) as tmp:
        table.to_csv(tmp, index=False)
    log.info("%d songs -> %s (%s%s)", len(table), output_csv, model_name, ", pooled by artist" if pool_by_artist else "")
    return len(table)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; exit status 1 with a short message (no traceback) on a UserError."""
    # One OpenMP thread: gradient boosting's prediction spin-waits on busy cores (3.06 s of CPU
    # for 4,000 songs with the default threads, 0.12 s with one, same result on a loaded 2-core machine).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from workflow_scripts.models import registry as models

    parser = argparse.ArgumentParser(prog="python -m workflow_scripts.predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="the bundle folder (results/model)")
    parser.add_argument("--input", required=True, help="a CSV of songs (Kaggle 'Spotify and YouTube' columns)")
    parser.add_argument("--output", required=True, help="where to write the predictions (CSV)")
    parser.add_argument("--model-name", default=models.DEFAULT_MODEL, choices=[m.name for m in models.REGISTRY if m.in_bundle])
    parser.add_argument("--all-models", action="store_true", help="add each model's predicted genre")
    parser.add_argument("--pool-by-artist", action="store_true", help="average the probabilities over each artist's songs in the input")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        predict_file(args.model, args.input, args.output, args.model_name, args.all_models, args.pool_by_artist)
    except UserError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
