"""The dense network: built from a hyperparameter dict in one place, trained with early
stopping and learning-rate reduction. TensorFlow is imported lazily (it costs seconds).

:func:`fit_network` (and :class:`Trainer`, which keeps one traced network per architecture
for several fits, e.g. the k folds of a grid job) trains with one TensorFlow call per epoch.
The epoch's shuffle, every batch's ``train_step`` and the validation pass run in one traced
function; Keras' own ``EarlyStopping``, ``ReduceLROnPlateau`` and ``History`` callbacks run
between epochs, as in ``model.fit``. The batches, the last partial batch, the loss, Adam and
the callback decisions are those of ``model.fit``; only the Python round-trips are gone (each
batch, each validation batch, the data adapter's per-epoch set-up). :meth:`Trainer.fit_variants`
trains combinations that differ only in their callbacks together until their callbacks
disagree, each with exactly the result of its own fit.

The reference it is tested and benchmarked against, ``model.fit`` on the same network and
callbacks, is ``benchmarks/fit_worker.py``'s ``fit_network_keras``. Their random streams
(batch order, dropout) differ: the same seed gives the same result within one path, and the
same distribution of results across them.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

# Rows of the early-stopping set scored per step of the validation pass (one step for the
# study's ~700 rows). The loss and accuracy are means weighted by rows, as Keras' evaluate.
VALIDATION_CHUNK = 8192

_threads: int | None = None


def configure_threads(threads: int) -> None:
    """Size TensorFlow's thread pools for ``threads`` cores (call before the first import).

    One grid job per core wants one intra-op thread and one inter-op thread: the epoch runs
    as one chain of small ops, and a second pool thread only competes with the other jobs.
    """
    global _threads
    _threads = max(1, int(threads))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(_threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = str(max(1, min(2, _threads)))
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def load_backend() -> float:
    """Import TensorFlow and Keras now (thread pools as configured); the seconds it took.

    When nothing has imported scikit-learn yet, Keras' import is kept from importing it (for
    wrappers this workflow does not use: 0.6-0.9 CPU s of a grid job, benchmarks/bench_step.py; Keras copes with its
    absence): ``sys.modules["sklearn"] = None`` while Keras imports, Python's documented way
    to make an import fail. A later ``import sklearn`` works as usual.
    """
    start = time.perf_counter()
    block = "sklearn" not in sys.modules and "keras" not in sys.modules
    if block:
        sys.modules["sklearn"] = None  # type: ignore[assignment]
    try:
        _tensorflow()
        import keras  # noqa: F401
    finally:
        if block and sys.modules.get("sklearn", 0) is None:
            del sys.modules["sklearn"]
    return time.perf_counter() - start


def _tensorflow():  # -> the tensorflow module, thread pools sized as configured
    import tensorflow as tf

    if _threads is not None:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(_threads)
            tf.config.threading.set_inter_op_parallelism_threads(max(1, min(2, _threads)))
        except RuntimeError:  # the runtime is already up: the environment variables applied
            pass
    return tf


def build_network(params: Mapping[str, Any], n_features: int, n_classes: int, learning_rate: float):  # -> keras.Model
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


def architecture(params: Mapping[str, Any]) -> tuple[Any, ...]:
    """What fixes the network's graph (``grid.Role.ARCHITECTURE``): layers, widths, activation,
    dropout, the unused widths left out (not the batch size or the callbacks, which the traced
    epoch takes as inputs or leaves to Python)."""
    from workflow_scripts.search.grid import Role, canonical, with_role

    used = canonical({k: params[k] for k in with_role(Role.ARCHITECTURE) if k in params})
    return tuple((name, used[name]) for name in with_role(Role.ARCHITECTURE) if name in used)


class Trainer:
    """Trains networks of one architecture, one traced TensorFlow call per epoch.

    The graph is traced once (about a second) and reused by every later :meth:`fit`: each fit
    starts from the weights and dropout seeds of a freshly built network for its seed, a fresh
    Adam state and the initial learning rate, so a reused trainer gives exactly what a new one
    gives. The model returned by :meth:`fit` is the trainer's own and is overwritten by the
    next fit.
    """

    def __init__(self, params: Mapping[str, Any], n_features: int, n_classes: int, learning_rate: float):
        self.arch = architecture(params)
        self.n_features, self.n_classes, self.learning_rate = int(n_features), int(n_classes), float(learning_rate)
        self.model: Any = None
        self.epochs_run = 0  # epochs computed by this trainer, shared ones counted once
        self._epoch: Any = None
        self._shuffle_seed: Any = None

    def _trace(self, model: Any) -> None:
        import keras

        tf = _tensorflow()
        x_spec = tf.TensorSpec([None, self.n_features], tf.float32)
        y_spec = tf.TensorSpec([None, self.n_classes], tf.float32)
        # Build the optimizer and metric variables outside the traced function, as fit does.
        batch = (np.zeros((1, self.n_features), "float32"), np.zeros((1, self.n_classes), "float32"))
        if hasattr(model, "_symbolic_build"):  # what model.fit calls (Keras 3)
            model._symbolic_build(data_batch=batch)
        else:  # public route: one inference step builds the metrics; weights are untouched
            model.optimizer.build(model.trainable_variables)
            model.test_on_batch(*batch)
            model.reset_metrics()
        shuffle_seed = keras.random.SeedGenerator(0)

        @tf.function(input_signature=[x_spec, y_spec, x_spec, y_spec, tf.TensorSpec([], tf.int32)])
        def epoch(X, Y, X_es, Y_es, batch_size):
            # Training: one permutation per epoch, consecutive batches, the last one partial,
            # as model.fit(shuffle=True) on arrays; train_step is Keras' own.
            model.reset_metrics()
            n = tf.shape(X)[0]
            order = keras.random.shuffle(tf.range(n), seed=shuffle_seed)
            X, Y = tf.gather(X, order), tf.gather(Y, order)
            for start in tf.range(0, n, batch_size):
                stop = tf.minimum(start + batch_size, n)
                model.train_step((X[start:stop], Y[start:stop]))
            train = {name: tf.identity(value) for name, value in model.get_metrics_result().items()}
            # Validation, as evaluate(): metrics reset, then row-weighted means over the set.
            model.reset_metrics()
            n_es = tf.shape(X_es)[0]
            for start in tf.range(0, n_es, VALIDATION_CHUNK):
                stop = tf.minimum(start + VALIDATION_CHUNK, n_es)
                model.test_step((X_es[start:stop], Y_es[start:stop]))
            return train, model.get_metrics_result()

        self.model, self._epoch, self._shuffle_seed = model, epoch, shuffle_seed

    def _start(self, params: Mapping[str, Any], seed: int) -> None:
        """The network of a fresh build for ``seed``, Adam reset, the batch order seeded."""
        import keras

        if architecture(params) != self.arch:
            raise ValueError(f"this trainer trains {self.arch}, not {architecture(params)}")
        keras.utils.set_random_seed(seed)
        fresh = build_network(params, self.n_features, self.n_classes, self.learning_rate)
        if self.model is None:
            self._trace(fresh)
        else:
            for target, source in zip(self.model.variables, fresh.variables, strict=True):
                target.assign(source.value)
            optimizer = self.model.optimizer
            for variable in optimizer.variables:
                variable.assign(np.zeros(variable.shape, variable.dtype))
            optimizer.learning_rate = self.learning_rate
        self._shuffle_seed.state.assign(keras.random.SeedGenerator(seed).state.value)

    def fit(
        self,
        params: Mapping[str, Any],
        X_fit: np.ndarray,
        y_fit: np.ndarray,
        X_es: np.ndarray,
        y_es: np.ndarray,
        max_epochs: int,
        seed: int,
    ):  # -> (keras.Model, dict)
        """Train from scratch; the early-stopping set drives the callbacks. Model and history."""
        done: list[dict[str, Any]] = []
        self.fit_variants([params], X_fit, y_fit, X_es, y_es, max_epochs, seed, lambda index, model, history: done.append(history))
        return self.model, done[0]

    def fit_variants(
        self,
        variants: Sequence[Mapping[str, Any]],
        X_fit: np.ndarray,
        y_fit: np.ndarray,
        X_es: np.ndarray,
        y_es: np.ndarray,
        max_epochs: int,
        seed: int,
        on_done: Callable[[int, Any, dict[str, Any]], None],
    ) -> None:
        """Train several combinations that differ only in their callbacks (early-stopping
        patience, learning-rate factor, patience and floor), each exactly as :meth:`fit` would.

        Such combinations compute the same epochs, bit for bit, until their callbacks first
        disagree: one stops, or their learning rates part. They are trained once up to there;
        then the state (weights, Adam, dropout and shuffle seeds) is saved, each party continues
        from it in turn, and so on. ``on_done(index, model, history)`` is called once per variant
        with the model holding that variant's final (restored best) weights; the model is the
        trainer's own and changes after the call.
        """
        tf = _tensorflow()
        shared = {sharing_key(v) for v in variants}
        if len(shared) != 1:
            raise ValueError(f"variants must share architecture and batch size, got {sorted(shared)}")
        start = time.perf_counter()
        self._start(variants[0], seed)
        model = self.model
        X, Y = tf.constant(X_fit, tf.float32), tf.constant(_one_hot(y_fit, self.n_classes))
        X_val, Y_val = tf.constant(X_es, tf.float32), tf.constant(_one_hot(y_es, self.n_classes))
        batch_size = tf.constant(int(variants[0]["batch_size"]), tf.int32)
        branches = [_Branch(index, params, model, self.learning_rate, int(max_epochs)) for index, params in enumerate(variants)]
        for branch in branches:
            branch.hooks.on_train_begin()
        pending: list[tuple[Any, list[_Branch], int]] = [(None, branches, 0)]
        while pending:
            state, group, epoch = pending.pop()
            if state is not None:
                self._restore(state)
            while group:
                if epoch >= int(max_epochs):
                    self._finish(group, start, on_done, keep=False)
                    break
                model.optimizer.learning_rate = group[0].learning_rate
                for branch in group:
                    branch.hooks.on_epoch_begin(epoch)
                train, val = self._epoch(X, Y, X_val, Y_val, batch_size)
                self.epochs_run += 1
                logs = {name: float(value) for name, value in train.items()}
                logs.update({f"val_{name}": float(value) for name, value in val.items()})
                for branch in group:
                    branch.proxy.stop_training = False
                    branch.logs = dict(logs)
                    branch.hooks.on_epoch_end(epoch, branch.logs)
                epoch += 1
                stopped = [b for b in group if b.proxy.stop_training]
                group = [b for b in group if not b.proxy.stop_training]
                if stopped:
                    self._finish(stopped, start, on_done, keep=bool(group))
                rates = list(dict.fromkeys(b.learning_rate for b in group))
                if len(rates) > 1:  # learning rates part: the others continue later from here
                    state = self._snapshot()
                    for rate in rates[:0:-1]:
                        pending.append((state, [b for b in group if b.learning_rate == rate], epoch))
                    group = [b for b in group if b.learning_rate == rates[0]]

    def _finish(self, branches: list[_Branch], start: float, on_done: Callable[[int, Any, dict[str, Any]], None], keep: bool) -> None:
        """End of training for ``branches``, as model.fit ends it (best weights restored)."""
        state = self._snapshot() if keep or len(branches) > 1 else None
        for i, branch in enumerate(branches):
            if i and state is not None:
                self._restore(state)
            self.model.optimizer.finalize_variable_values(self.model.trainable_weights)
            branch.hooks.on_train_end(branch.logs)
            info: dict[str, Any] = {k: [float(v) for v in values] for k, values in branch.history.history.items()}
            info["seconds"] = time.perf_counter() - start
            info["epochs"] = len(info["loss"])
            on_done(branch.index, self.model, info)
        if keep:
            self._restore(state)

    def _snapshot(self) -> list[np.ndarray]:
        return [np.array(v.numpy()) for v in self._state_variables()]

    def _restore(self, state: list[np.ndarray]) -> None:
        for variable, value in zip(self._state_variables(), state, strict=True):
            variable.assign(value)

    def _state_variables(self) -> list[Any]:
        return [*self.model.variables, *self.model.optimizer.variables, self._shuffle_seed.state]


def sharing_key(params: Mapping[str, Any]) -> tuple[Any, ...]:
    """Combinations with equal keys compute the same first epochs: all but their callbacks."""
    from workflow_scripts.search.grid import Role, with_role

    return (architecture(params), *(params[name] for name in with_role(Role.BATCH)))


class _CallbackModel:
    """What Keras' EarlyStopping and ReduceLROnPlateau see of the model while several variants
    share it: its weights and metrics, a stop flag and a learning rate of the variant's own
    (kept in float32, as the optimizer's variable keeps it)."""

    class _Optimizer:
        def __init__(self, learning_rate: float):
            self.learning_rate = learning_rate

        @property
        def learning_rate(self) -> np.float32:
            return self._learning_rate

        @learning_rate.setter
        def learning_rate(self, value: Any) -> None:
            self._learning_rate = np.float32(value)

    def __init__(self, model: Any, learning_rate: float):
        self._model = model
        self.optimizer = self._Optimizer(learning_rate)
        self.stop_training = False

    @property
    def metrics(self) -> list[Any]:
        return self._model.metrics

    def get_weights(self) -> list[np.ndarray]:
        return self._model.get_weights()

    def set_weights(self, weights: list[np.ndarray]) -> None:
        self._model.set_weights(weights)


class _Branch:
    """One variant's callbacks (its own EarlyStopping, ReduceLROnPlateau and History)."""

    def __init__(self, index: int, params: Mapping[str, Any], model: Any, learning_rate: float, max_epochs: int):
        import keras

        self.index = index
        self.proxy = _CallbackModel(model, learning_rate)
        self.history = keras.callbacks.History()
        self.hooks = keras.callbacks.CallbackList([*callbacks(params), self.history], model=self.proxy, epochs=max_epochs, verbose=0)
        self.logs: dict[str, float] = {}

    @property
    def learning_rate(self) -> float:
        return float(self.proxy.optimizer.learning_rate)


def _one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    return np.eye(n_classes, dtype="float32")[np.asarray(y, dtype="int64")]


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
    """Train one network; the early-stopping set drives the callbacks. Returns model and history
    (per-epoch 'loss', 'accuracy', 'val_loss', 'val_accuracy', 'learning_rate'; 'seconds',
    'epochs'). The model is the caller's: no later fit touches it."""
    trainer = Trainer(params, X_fit.shape[1], n_classes, float(training["learning_rate"]))
    return trainer.fit(params, X_fit, y_fit, X_es, y_es, int(training["max_epochs"]), seed)


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
