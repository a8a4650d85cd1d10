"""The dense network: built from a hyperparameter dict in one place, trained with early
stopping and learning-rate reduction. TensorFlow is imported lazily (it costs seconds)."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

import numpy as np


def configure_threads(threads: int) -> None:
    """Size TensorFlow's thread pools for ``threads`` cores (call before the first import)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = str(max(1, min(2, threads)))
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def build_network(
    params: Mapping[str, Any], n_features: int, n_classes: int, learning_rate: float = 1e-3, steps_per_execution: int = 1
):  # -> keras.Model
    """Dense layers ``units_1`` .. ``units_{num_hidden_layers+1}``, each followed by dropout."""
    import keras

    layers: list[Any] = [keras.Input(shape=(n_features,))]
    for k in range(1, int(params["num_hidden_layers"]) + 2):
        if params["activation"] == "LeakyReLU":
            layers += [keras.layers.Dense(int(params[f"units_{k}"])), keras.layers.LeakyReLU()]
        else:
            layers.append(keras.layers.Dense(int(params[f"units_{k}"]), activation=params["activation"]))
        layers.append(keras.layers.Dropout(float(params["dropout_rate"])))
    layers.append(keras.layers.Dense(n_classes, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )
    return model


def callbacks(params: Mapping[str, Any]) -> list[Any]:
    """Early stopping (best weights restored) and learning-rate reduction on validation loss."""
    import keras

    return [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=int(params["early_stopping_patience"]), restore_best_weights=True),
        keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss",
            factor=float(params["reduce_lr_factor"]),
            patience=int(params["reduce_lr_patience"]),
            min_lr=float(params["reduce_lr_min_lr"]),
        ),
    ]


def fit_network(
    params: Mapping[str, Any],
    X_fit: np.ndarray,
    y_fit: np.ndarray,
    X_es: np.ndarray,
    y_es: np.ndarray,
    n_classes: int,
    training: Mapping[str, Any],
    seed: int,
):  # -> (keras.Model, dict)
    """Train one network; the early-stopping set drives the callbacks. Returns model and history."""
    import keras

    keras.utils.set_random_seed(seed)
    model = build_network(
        params, X_fit.shape[1], n_classes, float(training.get("learning_rate", 1e-3)), int(training.get("steps_per_execution", 1))
    )
    start = time.perf_counter()
    history = model.fit(
        X_fit,
        keras.utils.to_categorical(y_fit, n_classes),
        validation_data=(X_es, keras.utils.to_categorical(y_es, n_classes)),
        epochs=int(training["max_epochs"]),
        batch_size=int(params["batch_size"]),
        callbacks=callbacks(params),
        verbose=0,
        shuffle=True,
    )
    info = {k: [float(v) for v in values] for k, values in history.history.items()}
    info["seconds"] = time.perf_counter() - start
    info["epochs"] = len(history.history["loss"])
    return model, info


def predict_proba(model: Any, X: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """Class probabilities, without the per-call overhead of ``model.predict``."""
    return (
        np.concatenate([np.asarray(model(X[i : i + batch_size], training=False)) for i in range(0, len(X), batch_size)])
        if len(X)
        else np.zeros((0, model.output_shape[-1]))
    )


def accuracy(model: Any, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Accuracy and categorical cross-entropy of a model on (X, y)."""
    proba = predict_proba(model, X)
    eps = 1e-7
    loss = float(-np.mean(np.log(np.clip(proba[np.arange(len(y)), y], eps, 1.0))))
    return float(np.mean(proba.argmax(axis=1) == y)), loss
