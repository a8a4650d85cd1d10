"""The model registry (workflow_scripts/models/registry.py) is the one list of models: the config
schema's lists of names, the estimators' factories and the config's settings follow it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import yaml

from tests.conftest import REPO, default_config
from workflow_scripts.models import estimators
from workflow_scripts.models import registry as models


def schema_properties() -> dict:
    return yaml.safe_load((REPO / "schemas/config.schema.yaml").read_text())["properties"]


def test_registry_matches_the_config_schema() -> None:
    schema = schema_properties()
    assert schema["evaluation"]["properties"]["ensemble"]["items"]["enum"] == list(models.MEMBERS)
    assert schema["predict"]["properties"]["model_name"]["enum"] == [m.name for m in models.REGISTRY if m.in_bundle]
    assert models.ESTIMATORS == ("knn", "svm", "hgb") and models.spec("artist lookup").file == "artist_lookup.json"


def test_every_estimator_has_a_factory_and_settings() -> None:
    assert tuple(estimators.FACTORIES) == models.ESTIMATORS
    assert tuple(schema_properties()["baselines"]["properties"]) == models.ESTIMATORS
    assert tuple(default_config()["baselines"]) == models.ESTIMATORS
    assert models.IN_BUNDLE == tuple(m.name for m in models.REGISTRY if m.in_bundle)


def test_stored_for_gives_the_ensemble_its_members() -> None:
    assert models.stored_for(["ensemble"], ["network", "svm"]) == ["network", "svm"]
    assert models.stored_for(["knn", "ensemble", "artist lookup"], ["network", "knn"]) == ["knn", "network", "artist lookup"]
    assert [m.name for m in models.REGISTRY if m.stored] == ["network", "knn", "svm", "hgb", "artist lookup"]


def test_artist_lookup_round_trips_through_json(tmp_path) -> None:
    artists = pd.Series(["a", "a", "b", "c"], index=[10, 11, 12, 13])
    lookup = models.fit_artist_lookup(artists, np.array([10, 11, 12]), np.array([0, 1, 1]), 3)
    models.save("artist lookup", lookup, tmp_path / "lookup.json")
    again = models.load("artist lookup", tmp_path / "lookup.json")
    songs = pd.Series(["a", "b", "unknown"])
    assert np.array_equal(again.predict_proba(songs), lookup.predict_proba(songs))
    assert lookup.predict_proba(songs)[2].tolist() == [1 / 3, 2 / 3, 0.0]  # an unseen artist gets the prior


def test_the_ensemble_is_the_soft_vote_of_its_members() -> None:
    rng = np.random.default_rng(0)
    members = {"knn": rng.random((4, 3)), "svm": rng.random((4, 3))}

    class Fixed:
        def __init__(self, proba):
            self.proba = proba

        def predict_proba(self, X):
            return self.proba

    fitted = {name: Fixed(proba) for name, proba in members.items()}
    out = models.probabilities(fitted, np.zeros((4, 2)), None, ["knn", "svm"], only=["ensemble"])
    assert list(out) == ["ensemble"] and np.array_equal(out["ensemble"], estimators.soft_vote(members, ["knn", "svm"]))


def _boosting_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(450, 6))
    y = (X[:, 0] + rng.normal(scale=0.5, size=450) > 0).astype(int) + (X[:, 1] > 0.8)
    return X, y, np.arange(450) % 3


def test_a_searched_estimator_is_fit_with_the_grids_choice_as_a_refit_search_would() -> None:
    from sklearn.model_selection import GridSearchCV, PredefinedSplit

    X, y, folds = _boosting_data()
    settings = {**default_config()["baselines"]["hgb"], "max_iter": 40, "grid": {"max_leaf_nodes": [3, 15]}}
    fitted = models.fit_estimator("hgb", settings, 7, X, y, folds)
    plain = estimators.make("hgb", {**settings, "grid": {}}, 7)
    refit = GridSearchCV(plain, {"max_leaf_nodes": [3, 15]}, cv=PredefinedSplit(folds), scoring="accuracy").fit(X, y)
    assert fitted.max_leaf_nodes == refit.best_params_["max_leaf_nodes"]
    assert np.array_equal(fitted.predict_proba(X), refit.best_estimator_.predict_proba(X))


def test_boosting_as_a_bag_averages_boosters_of_their_own_seeds_and_loads_without_pickle(tmp_path) -> None:
    from workflow_scripts.bundle import store

    X, y, folds = _boosting_data()
    settings = {**default_config()["baselines"]["hgb"], "max_iter": 40, "max_features": 0.5, "bag": 3, "grid": {"max_leaf_nodes": [3, 15]}}
    bag = models.fit_estimator("hgb", settings, 7, X, y, folds)
    members = bag.estimators_
    assert len(members) == 3 and len({m.random_state for m in members}) == 3
    assert {m.max_features for m in members} == {0.5} and len({m.max_leaf_nodes for m in members}) == 1
    assert np.allclose(bag.predict_proba(X), np.mean([m.predict_proba(X) for m in members], axis=0))
    assert not np.allclose(members[0].predict_proba(X), members[1].predict_proba(X))
    store.save_skops(bag, tmp_path / "hgb.skops")
    assert np.array_equal(store.load_skops(tmp_path / "hgb.skops").predict_proba(X), bag.predict_proba(X))
    single = models.fit_estimator("hgb", {**settings, "bag": 1}, 7, X, y, folds)
    assert type(single).__name__ == "HistGradientBoostingClassifier"
