"""A benchmark worker: trains combinations over the study's folds by one method, on request.

Started by bench_fit.py, one process per method, so that the methods run side by side in one
run, one at a time, interleaved. Reads JSON lines on stdin ({"params", "training", "seed"}),
answers one JSON line per request on stdout. Methods:

- ``ours``: ``hpo.train_combinations`` of one combination (the workflow's grid job: the fast trainer, k folds).
- ``ours-group`` (optional): the combination and the 15 others of the default grid that differ
  only in their callbacks, in one process (``hpo.train_combinations``, shared epochs); its
  time per fit is the group's time / (16 x k).
- ``keras``: plain ``model.fit`` (``fit_network_keras``) with Keras' defaults (``steps_per_execution=1``, arrays,
  validation batches of ``batch_size``), the same network and callbacks, per fold.
- ``scikeras``: the study's way, scikeras ``KerasClassifier`` in scikit-learn
  ``GridSearchCV(cv=3)``; run with the separate venv that has scikeras 0.13.0 and
  scikit-learn 1.5.2. The workflow's folds are passed as explicit splits and its early-stopping
  rows are the last rows of each training split, taken by ``validation_split``: every method
  trains on the same rows, stops on the same rows and is scored on the same rows.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from workflow_scripts.models import network as model_lib  # noqa: E402


def run_ours(arrays: dict[str, Any], params: dict[str, Any], training: dict[str, Any], seed: int) -> dict[str, Any]:
    from workflow_scripts.search import hpo

    [result] = hpo.train_combinations(arrays, [params], training, seed)
    return {"folds": [{"val_accuracy": f["val_accuracy"], "epochs": f["epochs"], "seconds": f["seconds"]} for f in result["folds"]]}


CALLBACK_KEYS = ("early_stopping_patience", "reduce_lr_factor", "reduce_lr_patience", "reduce_lr_min_lr")


def run_ours_group(arrays: dict[str, Any], params: dict[str, Any], training: dict[str, Any], seed: int) -> dict[str, Any]:
    """The combination's whole group in the default grid (the 16 combinations that differ only
    in their callbacks) in one process, as hpo.train_combinations trains it; reports the
    combination's own folds (identical to ``ours``) and the group's time, to be shared by 16."""
    import itertools

    import yaml

    from workflow_scripts.search import hpo

    grid = yaml.safe_load((REPO / "config.yaml").read_text())["grid"]
    variants = [
        {**params, **dict(zip(CALLBACK_KEYS, values, strict=True))} for values in itertools.product(*(grid[k] for k in CALLBACK_KEYS))
    ]
    trainers: dict = {}
    results = hpo.train_combinations(arrays, variants, training, seed, trainers)
    mine = results[variants.index(params)]
    return {
        "combinations": len(variants),
        "epochs_computed": sum(t.epochs_run for t in trainers.values()),
        "epochs_of_the_combinations": sum(f["epochs"] for r in results for f in r["folds"]),
        "folds": [{"val_accuracy": f["val_accuracy"], "epochs": f["epochs"], "seconds": f["seconds"]} for f in mine["folds"]],
    }


def run_keras(arrays: dict[str, Any], params: dict[str, Any], training: dict[str, Any], seed: int) -> dict[str, Any]:
    from workflow_scripts.models import network as model

    folds = []
    for k in range(int(arrays["n_folds"])):
        start = time.perf_counter()
        network, history = fit_network_keras(
            params,
            arrays[f"X_fit_{k}"],
            arrays[f"y_fit_{k}"],
            arrays[f"X_es_{k}"],
            arrays[f"y_es_{k}"],
            len(arrays["classes"]),
            training,
            seed + k,
        )
        accuracy, _ = model.accuracy(network, arrays[f"X_val_{k}"], arrays[f"y_val_{k}"])
        folds.append({"val_accuracy": accuracy, "epochs": history["epochs"], "seconds": time.perf_counter() - start})
    return {"folds": folds}


def fit_network_keras(
    params: Mapping[str, Any],
    X_fit: np.ndarray,
    y_fit: np.ndarray,
    X_es: np.ndarray,
    y_es: np.ndarray,
    n_classes: int,
    training: Mapping[str, Any],
    seed: int,
):  # -> (keras.Model, dict)
    """The reference: the network and callbacks of ``model.fit_network`` trained by Keras'
    ``model.fit`` on arrays, with its defaults (``steps_per_execution=1``, validation batches
    of ``batch_size``); tests/test_model.py checks the fast path against it."""
    model_lib.load_backend()
    import keras

    start = time.perf_counter()
    keras.utils.set_random_seed(seed)
    model = model_lib.build_network(params, X_fit.shape[1], n_classes, float(training["learning_rate"]))
    history = model.fit(
        X_fit,
        keras.utils.to_categorical(y_fit, n_classes),
        validation_data=(X_es, keras.utils.to_categorical(y_es, n_classes)),
        epochs=int(training["max_epochs"]),
        batch_size=int(params["batch_size"]),
        callbacks=model_lib.callbacks(params),
        verbose=0,
        shuffle=True,
    )
    info: dict[str, Any] = {k: [float(v) for v in values] for k, values in history.history.items()}
    info["seconds"] = time.perf_counter() - start
    info["epochs"] = len(history.history["loss"])
    return model, info


def stacked(arrays: dict[str, Any]) -> tuple[Any, Any, list[tuple[Any, Any]], float]:
    """All folds' rows in one array (each fold has its own preprocessing), explicit splits whose
    training part ends with that fold's early-stopping rows, and the validation_split that cuts
    exactly those rows off in Keras (split at floor(n * (1 - validation_split)))."""
    import math

    import numpy as np

    X, y, splits, es_rows, offset = [], [], [], [], 0
    low, high = 0.0, 1.0
    for k in range(int(arrays["n_folds"])):
        parts = [arrays[f"X_fit_{k}"], arrays[f"X_es_{k}"], arrays[f"X_val_{k}"]]
        X += parts
        y += [arrays[f"y_fit_{k}"], arrays[f"y_es_{k}"], arrays[f"y_val_{k}"]]
        n_fit, n_es, n_val = (len(p) for p in parts)
        n = n_fit + n_es
        splits.append((np.arange(offset, offset + n), np.arange(offset + n, offset + n + n_val)))
        es_rows.append(n_es)
        low, high = max(low, (n - n_fit - 1) / n), min(high, (n - n_fit) / n)
        offset += n + n_val
    split = (low + high) / 2
    for (train, _), n_es in zip(splits, es_rows, strict=True):
        assert len(train) - math.floor(len(train) * (1.0 - split)) == n_es, "no validation_split fits every fold"
    return np.concatenate(X), np.concatenate(y), splits, split


EPOCHS: list[int] = []


def run_scikeras(arrays: dict[str, Any], params: dict[str, Any], training: dict[str, Any], seed: int) -> dict[str, Any]:
    import keras
    from scikeras.wrappers import KerasClassifier
    from sklearn.model_selection import GridSearchCV

    from workflow_scripts.models import network as model

    class CountEpochs(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.epochs = 0

        def on_epoch_end(self, epoch, logs=None):
            self.epochs += 1

        def on_train_end(self, logs=None):
            EPOCHS.append(self.epochs)

    def make_network(arch, meta):
        return model.build_network(arch, meta["n_features_in_"], meta["n_classes_"], float(training["learning_rate"]))

    X, y, splits, validation_split = stacked(arrays)
    arch = {
        k: params[k] for k in ("num_hidden_layers", "activation", "dropout_rate") + tuple(f"units_{i}" for i in range(1, 5)) if k in params
    }
    estimator = KerasClassifier(
        model=make_network,
        loss="categorical_crossentropy",
        epochs=int(training["max_epochs"]),
        callbacks=[*model.callbacks(params), CountEpochs()],
        validation_split=validation_split,
        shuffle=True,
        verbose=0,
        random_state=seed,
    )
    search = GridSearchCV(
        estimator,
        {"model__arch": [arch], "batch_size": [int(params["batch_size"])]},
        cv=splits,
        refit=False,
        n_jobs=1,
        error_score="raise",
    )
    EPOCHS.clear()
    search.fit(X, y)
    cv = search.cv_results_
    fit_seconds = float(cv["mean_fit_time"][0] + cv["mean_score_time"][0])
    return {
        "folds": [
            {"val_accuracy": float(cv[f"split{k}_test_score"][0]), "epochs": EPOCHS[k], "seconds": fit_seconds} for k in range(len(splits))
        ]
    }


METHODS = {"ours": run_ours, "ours-group": run_ours_group, "keras": run_keras, "scikeras": run_scikeras}


def main() -> None:
    method, arrays_path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    reply = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything printed (TensorFlow, Keras) goes to stderr, not into the replies
    start = time.perf_counter()
    from workflow_scripts.models.network import configure_threads, load_backend

    if threads > 0:
        configure_threads(threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    load_backend()
    if method == "scikeras":
        import scikeras
        import sklearn

        versions = {"scikeras": scikeras.__version__, "scikit-learn": sklearn.__version__}
    else:
        versions = {}
    import keras
    import numpy as np
    import tensorflow as tf

    with np.load(arrays_path) as data:
        arrays = {k: data[k] for k in data.files}
    versions.update({"tensorflow": tf.__version__, "keras": keras.__version__})
    reply.write(json.dumps({"ready": True, "startup_seconds": time.perf_counter() - start, "versions": versions}) + "\n")
    reply.flush()
    for line in sys.stdin:
        request = json.loads(line)
        start = time.perf_counter()
        result = METHODS[method](arrays, request["params"], request["training"], int(request["seed"]))
        result["wall_seconds"] = time.perf_counter() - start
        reply.write(json.dumps(result) + "\n")
        reply.flush()


if __name__ == "__main__":
    main()
