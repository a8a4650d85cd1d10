"""The tests' small grid, also the offline demo's: 4 networks, two pairs that differ only in
their activation; few epochs, as the data is small."""

SMALL_GRID = {
    "num_hidden_layers": [2],
    "units_1": [32],
    "units_2": [32],
    "units_3": [32, 64],
    "units_4": [64],
    "dropout_rate": [0.3],
    "activation": ["LeakyReLU", "relu"],
    "batch_size": [256],
    "early_stopping_patience": [3],
    "reduce_lr_factor": [0.5],
    "reduce_lr_patience": [2],
    "reduce_lr_min_lr": [1.0e-5],
}
