"""Callbacks of several variants on one shared model: what each variant's Keras callbacks
(EarlyStopping, ReduceLROnPlateau, History) see of the model, so that combinations differing
only in their callbacks can train together and each decide as its own ``model.fit`` would."""

from __future__ import annotations

from typing import Any

import numpy as np


class CallbackModel:
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


class VariantCallbacks:
    """One variant's callbacks (its own EarlyStopping, ReduceLROnPlateau and History)."""

    def __init__(self, index: int, callbacks: list[Any], model: Any, learning_rate: float, max_epochs: int):
        import keras

        self.index = index
        self.proxy = CallbackModel(model, learning_rate)
        self.history = keras.callbacks.History()
        self.hooks = keras.callbacks.CallbackList([*callbacks, self.history], model=self.proxy, epochs=max_epochs, verbose=0)
        self.logs: dict[str, float] = {}

    @property
    def learning_rate(self) -> float:
        return float(self.proxy.optimizer.learning_rate)
