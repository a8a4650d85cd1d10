"""The network's hyperparameters and what each changes in training (its role): the layout
(layers, widths, activation, dropout) fixes the traced graph, the batch size is an input of the
traced epoch, the callbacks' settings act only between epochs. The search grid (search.grid)
varies these; the network and its trainer depend on nothing of the search.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any


class Role(Enum):
    """What a hyperparameter changes in training, which decides what can be shared."""

    ARCHITECTURE = "architecture"  # the network's graph: layers, widths, activation, dropout
    BATCH = "batch"  # an input of the traced epoch: one graph serves every batch size
    CALLBACK = "callback"  # acts only between epochs (Keras callbacks)


# The network's hyperparameters, in the config's order, and their roles: the one definition that
# the network (the traced graph, shared epochs), the search grid (job packing) and hpo rely on.
ROLES: dict[str, Role] = {
    "num_hidden_layers": Role.ARCHITECTURE,
    "units_1": Role.ARCHITECTURE,
    "units_2": Role.ARCHITECTURE,
    "units_3": Role.ARCHITECTURE,
    "units_4": Role.ARCHITECTURE,
    "dropout_rate": Role.ARCHITECTURE,
    "activation": Role.ARCHITECTURE,
    "batch_size": Role.BATCH,
    "early_stopping_patience": Role.CALLBACK,
    "reduce_lr_factor": Role.CALLBACK,
    "reduce_lr_min_lr": Role.CALLBACK,
    "reduce_lr_patience": Role.CALLBACK,
}
HYPERPARAMETERS = tuple(ROLES)


def with_role(*roles: Role) -> tuple[str, ...]:
    """The hyperparameters of the given roles, in the config's order."""
    return tuple(name for name, role in ROLES.items() if role in roles)


def canonical(params: Mapping[str, Any]) -> dict[str, Any]:
    """The combination with unused width settings removed.

    The network has a first layer (``units_1``) and ``num_hidden_layers`` more
    (``units_2`` ...), so ``units_k`` for ``k > num_hidden_layers + 1`` changes nothing.
    """
    used = int(params["num_hidden_layers"]) + 1
    return {k: v for k, v in params.items() if not (k.startswith("units_") and int(k.split("_")[1]) > used)}


def architecture(params: Mapping[str, Any]) -> tuple[Any, ...]:
    """What fixes the network's graph (``Role.ARCHITECTURE``): layers, widths, activation,
    dropout, the unused widths left out (not the batch size or the callbacks, which the traced
    epoch takes as inputs or leaves to Python)."""
    used = canonical({k: params[k] for k in with_role(Role.ARCHITECTURE) if k in params})
    return tuple((name, used[name]) for name in with_role(Role.ARCHITECTURE) if name in used)


def sharing_key(params: Mapping[str, Any]) -> tuple[Any, ...]:
    """Combinations with equal keys compute the same first epochs: all but their callbacks."""
    return (architecture(params), *(params[name] for name in with_role(Role.BATCH)))
