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
