"""One epoch of training as one traced TensorFlow function: the epoch's shuffle, every batch's
Keras ``train_step`` and the validation pass, with ``model.fit``'s batches (the last one
partial), loss, optimizer and metrics, without its Python round-trips."""

from __future__ import annotations

from typing import Any

import numpy as np

# Rows of the early-stopping set scored per step of the validation pass (one step for the
# study's ~700 rows). The loss and accuracy are means weighted by rows, as Keras' evaluate.
VALIDATION_CHUNK = 8192


def trace_epoch(model: Any, n_features: int, n_classes: int, tf: Any) -> tuple[Any, Any]:
    """The traced epoch of compiled ``model`` (``tf``: the TensorFlow module, its thread pools
    sized) and the seed generator of its batch order. ``epoch(X, Y, X_es, Y_es, batch_size)``
    returns the training and validation metrics."""
    import keras

    x_spec = tf.TensorSpec([None, n_features], tf.float32)
    y_spec = tf.TensorSpec([None, n_classes], tf.float32)
    # Build the optimizer and metric variables outside the traced function, as fit does.
    batch = (np.zeros((1, n_features), "float32"), np.zeros((1, n_classes), "float32"))
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

    return epoch, shuffle_seed
