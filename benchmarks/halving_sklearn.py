"""scikit-learn's HalvingGridSearchCV over the benchmark grid, for bench_halving.py.

Run with .venv-bench (scikeras 0.13.0, scikit-learn 1.5.2; benchmarks/README.md):
``halving_sklearn.py request.json result.json``. The candidates are the workflow's
combinations (one KerasClassifier setting each: architecture, batch size, the two callbacks);
the resource is ``epochs`` (as ``search.halving.resource: epochs``) from ``min_epochs`` to
``max_epochs`` with the same factor; the folds are the workflow's, passed explicitly
(``fit_worker.stacked``: each split trains on the fold's fit rows, ``validation_split`` cuts
off exactly its early-stopping rows, scored on its validation fold), so the stratification
question of FACTS.md does not arise. One TensorFlow thread, as a grid job.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def main() -> None:
    request = json.loads(Path(sys.argv[1]).read_text())
    from workflow_scripts.models.network import configure_threads

    configure_threads(1)
    import keras
    import numpy as np
    from fit_worker import stacked
    from scikeras.wrappers import KerasClassifier
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    from workflow_scripts.models import network as model

    with np.load(request["arrays"]) as data:
        arrays = {k: data[k] for k in data.files}
    X, y, splits, validation_split = stacked(arrays)

    def make_network(arch, meta):
        return model.build_network(arch, meta["n_features_in_"], meta["n_classes_"], 1e-3)

    grid, owners = [], {}
    for combo, params in request["combos"].items():
        arch = {k: v for k, v in params.items() if k in ("num_hidden_layers", "activation", "dropout_rate") or k.startswith("units_")}
        callbacks = model.callbacks(params)
        owners[id(callbacks)] = combo
        grid.append({"model__arch": [arch], "batch_size": [int(params["batch_size"])], "callbacks": [callbacks]})
    keras.utils.set_random_seed(int(request["seed"]))
    estimator = KerasClassifier(
        model=make_network,
        loss="categorical_crossentropy",
        epochs=int(request["max_epochs"]),
        validation_split=validation_split,
        shuffle=True,
        verbose=0,
        random_state=int(request["seed"]),
    )
    search = HalvingGridSearchCV(
        estimator,
        grid,
        factor=request["factor"],
        resource="epochs",
        min_resources=int(request["min_epochs"]),
        max_resources=int(request["max_epochs"]),
        cv=splits,
        scoring="accuracy",
        refit=False,
        n_jobs=1,
        error_score="raise",
    )
    start = time.perf_counter()
    search.fit(X, y)
    cv = search.cv_results_
    best = int(search.best_index_)
    chosen = owners[id(cv["params"][best]["callbacks"])]
    rounds = [
        {"iter": int(i), "n_resources": int(n), "candidates": int((cv["iter"] == i).sum())}
        for i, n in zip(sorted(set(cv["iter"])), search.n_resources_, strict=True)
    ]
    Path(sys.argv[2]).write_text(
        json.dumps(
            {
                "chosen": request["combos"][chosen],
                "best_score": float(search.best_score_),
                "best_n_resources": int(cv["n_resources"][best]),
                "rounds": rounds,
                "fit_seconds": time.perf_counter() - start,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
