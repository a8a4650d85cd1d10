"""The network and its trainers: layer sizes, early stopping, what the fast path keeps equal to
model.fit (the reference of benchmarks/fit_worker.py), and the grid job's output. Tiny random
data, a few epochs: seconds, not minutes."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from benchmarks.fit_worker import fit_network_keras
from tests.conftest import without_timing
from workflow_scripts.models import network as model
from workflow_scripts.search import hpo

REPO = Path(__file__).resolve().parents[1]
N_FEATURES, N_CLASSES = 5, 3


def params(**changes: Any) -> dict[str, Any]:
    base = {
        "num_hidden_layers": 2,
        "units_1": 8,
        "units_2": 16,
        "units_3": 12,
        "units_4": 64,
        "dropout_rate": 0.3,
        "activation": "LeakyReLU",
        "batch_size": 16,
        "early_stopping_patience": 3,
        "reduce_lr_factor": 0.5,
        "reduce_lr_patience": 1,
        "reduce_lr_min_lr": 1e-4,
    }
    return {**base, **changes}


def data(n: int = 120, seed: int = 0, flip_es: bool = False) -> tuple[np.ndarray, ...]:
    """Separable classes; with ``flip_es`` the early-stopping labels are shifted, so that the
    validation loss rises while the network learns: a plateau for the callbacks, by design."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, N_FEATURES)).astype("float32")
    y = (np.digitize(X[:, 0], [-0.4, 0.4])).astype("int32")
    X_es = rng.normal(size=(n // 3, N_FEATURES)).astype("float32")
    y_es = np.digitize(X_es[:, 0], [-0.4, 0.4]).astype("int32")
    if flip_es:
        y_es = (y_es + 1) % N_CLASSES
    return X, y, X_es, y_es


def fold_arrays(n_folds: int = 2) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {"classes": np.array(["a", "b", "c"]), "n_folds": np.array(n_folds)}
    for k in range(n_folds):
        X, y, X_es, y_es = data(seed=k)
        X_val, y_val, _, _ = data(n=40, seed=10 + k)
        arrays.update({f"X_fit_{k}": X, f"y_fit_{k}": y, f"X_es_{k}": X_es, f"y_es_{k}": y_es, f"X_val_{k}": X_val, f"y_val_{k}": y_val})
    return arrays


def dense_units(network: Any) -> list[int]:
    return [layer.units for layer in network.layers if type(layer).__name__ == "Dense"]


@pytest.mark.parametrize(
    ("changes", "units"),
    [({"num_hidden_layers": 2}, [8, 16, 12, N_CLASSES]), ({"num_hidden_layers": 3}, [8, 16, 12, 64, N_CLASSES])],
)
def test_network_has_the_layer_sizes_of_its_params(changes: dict[str, Any], units: list[int]) -> None:
    network = model.build_network(params(**changes), N_FEATURES, N_CLASSES, 1e-3)
    assert dense_units(network) == units
    dropouts = [layer.rate for layer in network.layers if type(layer).__name__ == "Dropout"]
    assert dropouts == [0.3] * (len(units) - 1)
    assert sum(type(layer).__name__ == "LeakyReLU" for layer in network.layers) == len(units) - 1
    assert network.layers[-1].activation.__name__ == "softmax"
    relu = model.build_network(params(activation="relu", **changes), N_FEATURES, N_CLASSES, 1e-3)
    assert dense_units(relu) == units
    assert [layer.activation.__name__ for layer in relu.layers if type(layer).__name__ == "Dense"][:-1] == ["relu"] * (len(units) - 1)


def test_architecture_ignores_what_the_graph_does_not_depend_on() -> None:
    assert model.architecture(params()) == model.architecture(params(units_4=1024, batch_size=512, early_stopping_patience=20))
    assert model.architecture(params()) != model.architecture(params(num_hidden_layers=3))
    assert model.architecture(params()) != model.architecture(params(dropout_rate=0.5))


@pytest.mark.parametrize("fit", [model.fit_network, fit_network_keras], ids=["fast", "keras"])
def test_fit_stops_early_on_a_plateau_and_reduces_the_learning_rate(fit: Any) -> None:
    X, y, X_es, y_es = data(flip_es=True)
    training = {"max_epochs": 40, "learning_rate": 0.01}
    _, history = fit(params(), X, y, X_es, y_es, N_CLASSES, training, 1)
    assert 1 <= history["epochs"] < training["max_epochs"]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"):
        assert len(history[key]) == history["epochs"], key
    assert history["learning_rate"][0] == pytest.approx(0.01)
    assert min(history["learning_rate"]) < 0.01
    assert min(history["learning_rate"]) >= 1e-4 * (1 - 1e-6)
    assert history["seconds"] > 0


@pytest.mark.parametrize("fit", [model.fit_network, fit_network_keras], ids=["fast", "keras"])
def test_fit_runs_at_most_max_epochs(fit: Any) -> None:
    X, y, X_es, y_es = data()
    _, history = fit(params(early_stopping_patience=100), X, y, X_es, y_es, N_CLASSES, {"max_epochs": 4, "learning_rate": 1e-3}, 2)
    assert history["epochs"] == 4 and len(history["val_loss"]) == 4


def test_without_learning_the_fit_stops_after_patience_plus_one_epochs() -> None:
    """A learning rate of 0 leaves the validation loss flat: both paths stop at the same epoch."""
    X, y, X_es, y_es = data()
    for fit in (model.fit_network, fit_network_keras):
        _, history = fit(params(early_stopping_patience=2), X, y, X_es, y_es, N_CLASSES, {"max_epochs": 20, "learning_rate": 0.0}, 3)
        assert history["epochs"] == 3, fit.__name__


def test_fast_path_computes_what_model_fit_computes() -> None:
    """Without dropout and with one full batch per epoch, batch order cannot matter: the fast
    path and model.fit then compute the same numbers (up to summation order), make the same
    early-stopping and learning-rate decisions, and restore the same best weights. (With
    several batches they draw different batch orders, as model.fit does for different
    steps_per_execution: that is not invariant, and not tested.)"""
    X, y, X_es, y_es = data(flip_es=True)
    p = params(dropout_rate=0.0, batch_size=len(X))
    training = {"max_epochs": 30, "learning_rate": 0.01}
    fast_model, fast = model.fit_network(p, X, y, X_es, y_es, N_CLASSES, training, 7)
    keras_model, plain = fit_network_keras(p, X, y, X_es, y_es, N_CLASSES, training, 7)
    assert fast["epochs"] == plain["epochs"] < training["max_epochs"]
    assert fast["learning_rate"] == pytest.approx(plain["learning_rate"], rel=1e-6)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(fast[key], plain[key], rtol=2e-4, atol=1e-5, err_msg=key)
    np.testing.assert_allclose(model.predict_proba(fast_model, X_es), model.predict_proba(keras_model, X_es), atol=1e-4)


def test_a_reused_trainer_gives_exactly_what_a_fresh_one_gives() -> None:
    X, y, X_es, y_es = data()
    p = params(batch_size=32, early_stopping_patience=2)
    trainer = model.Trainer(p, N_FEATURES, N_CLASSES, 0.01)
    trainer.fit(p, *data(seed=5), max_epochs=5, seed=99)  # leaves weights, Adam state, seeds behind
    _, reused = trainer.fit(p, X, y, X_es, y_es, max_epochs=12, seed=4)
    reused_proba = model.predict_proba(trainer.model, X_es)
    fresh_model, fresh = model.fit_network(p, X, y, X_es, y_es, N_CLASSES, {"max_epochs": 12, "learning_rate": 0.01}, 4)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"):
        assert reused[key] == fresh[key], key
    np.testing.assert_array_equal(reused_proba, model.predict_proba(fresh_model, X_es))
    with pytest.raises(ValueError, match="trains"):
        trainer.fit(params(num_hidden_layers=3), X, y, X_es, y_es, max_epochs=1, seed=1)


def test_same_seed_same_result_and_another_seed_another() -> None:
    X, y, X_es, y_es = data()
    training = {"max_epochs": 5, "learning_rate": 0.01}
    first = model.fit_network(params(), X, y, X_es, y_es, N_CLASSES, training, 11)[1]
    again = model.fit_network(params(), X, y, X_es, y_es, N_CLASSES, training, 11)[1]
    other = model.fit_network(params(), X, y, X_es, y_es, N_CLASSES, training, 12)[1]
    assert first["val_loss"] == again["val_loss"]
    assert first["val_loss"] != other["val_loss"]


FOLD_FIELDS = {"fold", "train_accuracy", "train_loss", "val_accuracy", "val_loss", "epochs", "fit_seconds", "seconds"}


def train_one(arrays: dict[str, np.ndarray], p: dict[str, Any], training: dict[str, Any], seed: int, **kwargs: Any) -> dict[str, Any]:
    [result] = hpo.train_combinations(arrays, [p], training, seed, **kwargs)
    return result


def test_train_combinations_returns_the_documented_fields() -> None:
    arrays, p = fold_arrays(), params(batch_size=32)
    training = {"max_epochs": 4, "learning_rate": 0.01}
    result = train_one(arrays, p, training, 42)
    assert result["params"] == p
    assert [fold["fold"] for fold in result["folds"]] == [0, 1]
    for fold in result["folds"]:
        assert set(fold) == FOLD_FIELDS
        assert 0.0 <= fold["train_accuracy"] <= 1.0 and 0.0 <= fold["val_accuracy"] <= 1.0
        assert fold["train_loss"] > 0 and fold["val_loss"] > 0
        assert 1 <= fold["epochs"] <= 4 and fold["seconds"] >= fold["fit_seconds"] > 0
    # Fold k is fit_network with seed + k; sharing traced networks across calls changes nothing.
    _, history = model.fit_network(p, arrays["X_fit_1"], arrays["y_fit_1"], arrays["X_es_1"], arrays["y_es_1"], N_CLASSES, training, 43)
    assert result["folds"][1]["epochs"] == history["epochs"]
    trainers: dict = {}
    train_one(arrays, params(batch_size=64, dropout_rate=0.3), training, 7, trainers=trainers)
    shared = train_one(arrays, p, training, 42, trainers=trainers)
    assert len(trainers) == 1
    assert without_timing(shared["folds"]) == without_timing(result["folds"])


def test_the_grid_step_writes_its_runs(tmp_path: Path) -> None:
    """hpo_combination and hpo_family write one format, {"runs": {id: run}, "timing": ...}:
    hpo_combination one run, hpo_family a run per combination, each what hpo_combination gives
    it alone (callback variants share their common epochs)."""
    from workflow_scripts.features import pipeline as features

    arrays_path = tmp_path / "arrays.npz"
    features.save_arrays(arrays_path, fold_arrays())
    combos = {
        "a": params(batch_size=32),
        "b": params(batch_size=32, early_stopping_patience=1, reduce_lr_patience=1),
        "c": params(batch_size=64),  # same architecture: shares the traced graph, not epochs
    }
    training = {"max_epochs": 3, "learning_rate": 1e-3, "seed": 42}
    step = str(REPO / "workflow_scripts" / "steps" / "hpo_combination.py")

    def run_step(output: Path, wildcards: dict[str, str], **step_params: Any) -> dict[str, Any]:
        rule = "hpo_family" if "family" in step_params else "hpo_combination"
        smk = SimpleNamespace(
            input=[str(arrays_path)],
            output=[str(output)],
            log=[],
            rule=rule,
            threads=1,
            wildcards=SimpleNamespace(**wildcards),
            params=SimpleNamespace(training=training, **step_params),
        )
        runpy.run_path(step, init_globals={"snakemake": smk})  # not __main__: no fast exit here
        content = json.loads(output.read_text())
        assert set(content) == {"runs", "timing"}
        assert hpo.read_runs([output]) == content["runs"]
        return content

    alone = {}
    for name, p in combos.items():
        content = run_step(tmp_path / f"{name}.json", {"combo": name}, hyperparameters=p)
        assert list(content["runs"]) == [name]
        run, timing = content["runs"][name], content["timing"]
        assert run["params"] == combos[name] and len(run["folds"]) == 2
        assert set(run["folds"][0]) == FOLD_FIELDS
        assert timing["combinations_in_job"] == 1
        assert timing["train"] > 0 and timing["read"] >= 0 and timing["imports"] >= 0
        assert timing["job_seconds"] >= timing["train"]
        assert timing["cpu"]["total"] >= timing["cpu"]["train"] > 0
        alone[name] = run
    family = run_step(tmp_path / "family.json", {"family": "f"}, family=combos)
    assert list(family["runs"]) == ["a", "b", "c"] and family["timing"]["combinations_in_job"] == 3
    assert family["timing"]["epochs_computed"] < sum(f["epochs"] for r in family["runs"].values() for f in r["folds"])
    for name, run in family["runs"].items():
        assert run["params"] == combos[name]
        assert without_timing(run["folds"]) == without_timing(alone[name]["folds"])


def test_read_runs_names_a_file_of_another_format(tmp_path: Path) -> None:
    from workflow_scripts.core.errors import UserError

    old = tmp_path / "abc.json"
    old.write_text(json.dumps({"params": params(), "folds": []}))  # a run, as older versions wrote it
    with pytest.raises(UserError, match=r"abc\.json is not a grid-search job's output"):
        hpo.read_runs([old])


def test_load_backend_keeps_scikit_learn_out_of_keras_import() -> None:
    """In a fresh process (as a grid job): Keras imports without scikit-learn, which still
    imports afterwards."""
    code = (
        "import sys\n"
        "from workflow_scripts.models import network as model\n"
        "model.load_backend()\n"
        "assert 'keras' in sys.modules and 'sklearn' not in sys.modules, sorted(m for m in sys.modules if 'sklearn' in m)\n"
        "import sklearn.base\n"
        "print('ok', sklearn.__version__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.startswith("ok"), done.stderr[-2000:]


CALLBACK_VARIANTS = [
    {"early_stopping_patience": p, "reduce_lr_factor": f, "reduce_lr_patience": rp, "reduce_lr_min_lr": m}
    for p in (3, 5)
    for f in (0.5, 0.1)
    for rp in (1, 2)
    for m in (1e-3, 1e-5)
]


def test_variants_trained_together_give_exactly_what_each_gives_alone() -> None:
    """Combinations that differ only in their callbacks share their common epochs; each still
    gets the history and the final weights of its own fit, bit for bit."""
    X, y, X_es, y_es = data(flip_es=True)
    variants = [params(batch_size=32, **changes) for changes in CALLBACK_VARIANTS]
    together = model.Trainer(variants[0], N_FEATURES, N_CLASSES, 0.01)
    results: dict[int, tuple[dict[str, Any], np.ndarray]] = {}
    together.fit_variants(
        variants, X, y, X_es, y_es, 25, 5, lambda i, network, history: results.update({i: (history, model.predict_proba(network, X_es))})
    )
    assert sorted(results) == list(range(len(variants)))
    alone = model.Trainer(variants[0], N_FEATURES, N_CLASSES, 0.01)
    for i, variant in enumerate(variants):
        network, history = alone.fit(variant, X, y, X_es, y_es, 25, 5)
        for key in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"):
            assert results[i][0][key] == history[key], (i, key)
        np.testing.assert_array_equal(results[i][1], model.predict_proba(network, X_es))
    assert together.epochs_run < alone.epochs_run  # the shared epochs were computed once
    with pytest.raises(ValueError, match="share"):
        together.fit_variants([params(), params(batch_size=64)], X, y, X_es, y_es, 2, 1, lambda *_: None)


def test_train_combinations_equals_one_combination_at_a_time() -> None:
    arrays, training = fold_arrays(), {"max_epochs": 6, "learning_rate": 0.01}
    combos = [params(batch_size=32, **CALLBACK_VARIANTS[i]) for i in (0, 5, 10)] + [params(batch_size=64)]
    together = hpo.train_combinations(arrays, combos, training, 3)
    for combo, result in zip(combos, together, strict=True):
        alone = train_one(arrays, combo, training, 3)
        assert result["params"] == combo
        assert without_timing(result["folds"]) == without_timing(alone["folds"])


def test_a_fitted_network_saves_and_loads(tmp_path: Path) -> None:
    """train_network saves what fit_network returns; evaluate loads it."""
    import keras

    X, y, X_es, y_es = data()
    network, _ = model.fit_network(params(), X, y, X_es, y_es, N_CLASSES, {"max_epochs": 2, "learning_rate": 1e-3}, 1)
    network.save(tmp_path / "network.keras")
    loaded = keras.models.load_model(tmp_path / "network.keras")
    np.testing.assert_array_equal(model.predict_proba(loaded, X_es), model.predict_proba(network, X_es))
