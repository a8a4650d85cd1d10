"""The declared footprint of every config key (workflow_scripts.core.footprint) and the
search-strategy registry: what the walk in tests/test_workflow.py relies on, checked cheaply."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from tests.conftest import REPO, default_config
from workflow_scripts.core import footprint
from workflow_scripts.search import strategies
from workflow_scripts.search.random_search import RandomSearch, draw

RULES = {name for path in (REPO / "rules").glob("*.smk") for name in re.findall(r"^(?:rule|checkpoint) (\w+):", path.read_text(), re.M)}


def test_every_leaf_declares_a_footprint_of_real_rules() -> None:
    leaves = footprint.leaves()
    assert len(leaves) > 60 and len({leaf.name for leaf in leaves}) == len(leaves)
    assert list(footprint.by_path().values()) == leaves  # the cached map: the same leaves, in order
    for leaf in leaves:
        assert leaf.description, leaf.name
        assert leaf.reruns == ("*",) or set(leaf.reruns) <= RULES, (leaf.name, set(leaf.reruns) - RULES)
        for key in leaf.when:
            assert key in {other.name for other in leaves}, (leaf.name, key)
    runtime = {leaf.name for leaf in leaves if leaf.runtime}
    assert {"labels.contact", "labels.timeout_s", "labels.cache_dir", "training.threads"} <= runtime
    assert "selection.max_gap" not in runtime


def test_a_leaf_without_a_footprint_is_an_error() -> None:
    schema = {"properties": {"section": {"properties": {"new_key": {"type": "integer", "default": 1}}}}}
    with pytest.raises(KeyError, match="section.new_key declares no x-reruns"):
        footprint.leaves(schema)


def test_section_defaults_are_the_schemas_nested_as_in_the_config() -> None:
    config = default_config()  # config.yaml, whose values are the schema's defaults (test_config_errors)
    assert footprint.defaults("labels") == {key: value for key, value in config["labels"].items() if key != "source"}  # required
    hgb = footprint.defaults("baselines.hgb")
    assert hgb == {key: value for key, value in config["baselines"]["hgb"].items() if key != "grid"}  # grid: no defaults
    schema = {"properties": {"a": {"properties": {"b": {"default": 1, "x-reruns": []}, "c": {"$ref": "#/$defs/c"}}}}}
    schema["$defs"] = {"c": {"properties": {"d": {"default": [2], "x-reruns": []}}}}
    assert footprint.defaults("", schema) == {"a": {"b": 1, "c": {"d": [2]}}}
    for wrong in ("nothing", "a.b", "a.b.c"):
        with pytest.raises(KeyError, match=f"declares no section {wrong}"):
            footprint.defaults(wrong, schema)


def test_when_holds_for_values_lists_and_any_non_empty_value() -> None:
    config = default_config()
    leaves = {leaf.name: leaf for leaf in footprint.leaves()}
    assert not footprint.active(leaves["evaluation.seeds"], config)  # outer_folds off
    assert footprint.active(leaves["evaluation.seeds"], {**config, "evaluation": {**config["evaluation"], "outer_folds": True}})
    assert not footprint.active(leaves["predict.model_name"], config)  # no predict.input
    assert footprint.active(leaves["predict.model_name"], {**config, "predict": {"input": "songs.csv"}})
    sampling = leaves["genres.sampling.seed"]
    for method, expected in (("none", False), ("downsample", True), ("cap", True)):
        assert footprint.active(sampling, {"genres": {"sampling": {"method": method}}}) is expected


def test_params_carry_a_key_only_in_its_mode() -> None:
    config = default_config()
    assert footprint.in_effect(config, "genres.sampling") == {"method": "none", "cap": None, "seed": None}
    capped = {**config, "genres": {**config["genres"], "sampling": {"method": "cap", "cap": 100, "seed": 7}}}
    assert footprint.in_effect(capped, "genres.sampling") == {"method": "cap", "cap": 100, "seed": 7}
    features = footprint.in_effect(config, "features")
    assert features == {**config["features"], "context_augmentation": None}  # artist_context off
    with_context = {**config, "features": {**config["features"], "artist_context": True, "context_augmentation": True}}
    assert footprint.in_effect(with_context, "features")["context_augmentation"] is True
    # a leaf whose value is a mapping is carried whole; an unknown name is an error of the caller
    assert footprint.in_effect(config, "baselines")["hgb"]["grid"] == config["baselines"]["hgb"]["grid"]
    with pytest.raises(KeyError, match="no key or section features.nope"):
        footprint.in_effect(config, "features.nope")


def test_a_manifest_records_the_settings_of_the_mode_in_use() -> None:
    config = default_config()
    labels = config["labels"]
    wikidata = footprint.result_settings(config, "labels")
    assert wikidata == {k: labels[k] for k in ("source", "endpoint", "max_age_days", "refresh")}  # no run-time key, no csv
    as_csv = footprint.result_settings({**config, "labels": {**labels, "source": "csv", "csv": "my.csv"}}, "labels")
    assert as_csv == {"source": "csv", "csv": "my.csv"}
    assert footprint.result_settings({**config, "labels": {**labels, "contact": "me@example.org"}}, "labels") == wikidata
    with pytest.raises(KeyError, match="no section labels.source"):
        footprint.result_settings(config, "labels.source")


def test_the_model_digest_covers_result_keys_only() -> None:
    config = default_config()
    model = footprint.model_config(config)
    assert model["training"] == {k: config["training"][k] for k in ("max_epochs", "learning_rate", "early_stopping_fraction", "seed")}
    assert "contact" not in model["labels"] and "predict" not in model and "results_dir" not in model
    assert "seeds" not in model["evaluation"]  # inactive without outer folds
    changed = {**config, "labels": {**config["labels"], "contact": "me@example.org", "timeout_s": 5}}
    assert footprint.model_config(changed) == model
    assert footprint.model_config({**config, "baselines": {**config["baselines"], "knn": {"n_neighbors": 3}}}) != model
    # the search reaches the model through the chosen network, which the manifest records itself
    assert "grid" not in model and "search" not in model and "selection" not in model


def test_the_schema_offers_exactly_the_registered_strategies() -> None:
    enum = footprint.schema()["properties"]["search"]["properties"]["strategy"]["enum"]
    assert enum == list(strategies.STRATEGIES)
    for name, kind in strategies.STRATEGIES.items():
        assert kind.name == name


def test_random_search_draws_a_seeded_subset_in_grid_order() -> None:
    combos = [f"{i:012x}" for i in range(50)]
    first = draw(combos, 8, 42)
    assert len(set(first)) == 8 and first == sorted(first, key=combos.index)
    assert draw(combos, 8, 42) == first != draw(combos, 8, 43)
    assert draw(combos, 80, 1) == combos


def test_random_search_chooses_among_its_draw_only() -> None:
    """A family file also holds members a grid run trained beside the drawn ones: the table and
    the choice keep the draw (found by benchmarks/bench_random.py --check)."""
    combos = [f"{i:012x}" for i in range(20)]
    search = RandomSearch({"random": {"n": 5, "seed": 3}}, max_epochs=10, n_folds=3)
    record = search.aggregate_record(search.rounds(combos), combos)
    drawn = draw(combos, 5, 3)
    assert record["drawn"] == drawn and record["n_grid"] == 20
    cv = pd.DataFrame({"combo": combos, "mean_val_accuracy": [i / 100 for i in range(20)]})
    table, candidates, extra = search.annotate(cv, [], record)
    assert list(table["combo"]) == list(candidates["combo"]) == drawn
    assert extra["n_drawn"] == 5 and extra["strategy"] == "random"
