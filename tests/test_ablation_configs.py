"""The ablation rows as workflow configs (configs/ablation/): the retired experiment's feature
ablation (fixed boosting, one seed) and the accuracy rows of docs/results.md (tuned, 3 seeds)."""

from __future__ import annotations

import math
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.conftest import REPO, deep_update, default_config

ABLATION = sorted((REPO / "configs" / "ablation").glob("*.yaml"))
# The rows of experiments/README.md's ablation table: (engineered, flags, text).
FEATURE_ROWS = {
    "base": (False, False, []),
    "eng": (True, False, []),
    "eng_flags": (True, True, []),
    "eng_flags_song": (True, True, ["song"]),
    "eng_flags_song_desc": (True, True, ["song", "description"]),
    "all": (True, True, ["song", "description", "channel"]),
    "all_minus_flags": (True, False, ["song", "description", "channel"]),
}
# The rows of docs/results.md's table on unseen artists: the headline recipe, with and without
# artist context (features.artist_context), with it augmented in training (features.context_augmentation),
# with it and a grid of networks for its columns, and without it with boosting as a bag.
ACCURACY_ROWS = {
    "recipe": (False, False),
    "recipe_boosting_bag": (False, False),
    "recipe_context": (True, False),
    "recipe_context_augmented": (True, True),
    "recipe_context_network_grid": (True, False),
}
# The rows that search a grid of networks; the others compare features with one network.
NETWORK_GRID_ROWS = {"recipe_context_network_grid"}
# The rows whose boosting differs from the headline's, and how (``baselines.hgb``).
BOOSTING_ROWS = {"recipe_boosting_bag": {"max_features": 0.5, "bag": 8}}


def layered(path: Path) -> dict:
    config = default_config()
    for name in ("configs/study.yaml", "configs/artist_disjoint.yaml"):
        config = deep_update(config, yaml.safe_load((REPO / name).read_text()))
    return deep_update(config, yaml.safe_load(path.read_text()))


def test_one_config_per_row() -> None:
    assert sorted(p.stem for p in ABLATION) == sorted([*FEATURE_ROWS, *ACCURACY_ROWS])


@pytest.mark.parametrize("path", ABLATION, ids=lambda p: p.stem)
def test_ablation_config_is_valid_and_is_its_row(path: Path) -> None:
    config = layered(path)
    schema = yaml.safe_load((REPO / "schemas" / "config.schema.yaml").read_text())
    jsonschema.Draft202012Validator(schema).validate(config)
    features = config["features"]
    assert features["categorical"] == ["Album_type", "Licensed", "official_video"] and config["split"]["group_by"] == "artist"
    assert config["evaluation"]["outer_folds"] and config["results_dir"] == f"results/ablation/{path.stem}"
    networks = math.prod(len(v) for v in config["grid"].values())
    assert networks > 1 if path.stem in NETWORK_GRID_ROWS else networks == 1
    if path.stem in FEATURE_ROWS:
        assert (features["engineered"], features["flags"], features["text"]) == FEATURE_ROWS[path.stem]
        assert not features["artist_context"] and not features["context_augmentation"]
        assert all(len(v) == 1 for v in config["baselines"]["hgb"]["grid"].values())
    else:  # the headline's features, tuning and seeds; only the artist context (or boosting) differs
        headline = layered(REPO / "configs" / "artist_disjoint.yaml")
        context = {key: headline["features"][key] for key in ("artist_context", "context_augmentation")}
        assert {**features, **context} == headline["features"]
        assert (features["artist_context"], features["context_augmentation"]) == ACCURACY_ROWS[path.stem]
        boosting = {**headline["baselines"]["hgb"], **BOOSTING_ROWS.get(path.stem, {})}
        assert config["baselines"] == {**headline["baselines"], "hgb": boosting} and config["evaluation"]["seeds"] == [42, 43, 44]
        assert (config["baselines"]["hgb"] != headline["baselines"]["hgb"]) == (path.stem in BOOSTING_ROWS)
