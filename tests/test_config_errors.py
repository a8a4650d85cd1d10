"""Bad config values and bad input files stop the workflow with a short message and a fix."""

from __future__ import annotations

import functools
import operator
from pathlib import Path

import pytest
import yaml

from tests.conftest import DATASET_CSV, REPO, SMALL_GRID, deep_update, default_config, planned_jobs, run_workflow, write_config
from tests.test_dataset import make_songs
from workflow_scripts.models import registry as models


def dry_run_error(tmp_path: Path, changes: dict) -> str:
    config = deep_update(default_config(), {"dataset": {"source": "path", "path": str(DATASET_CSV)}, **changes})
    result = run_workflow(tmp_path, write_config(tmp_path / "config.yaml", config), "--dry-run", check=False)
    assert result.returncode != 0
    return result.stdout + result.stderr


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"genres": {"keep": ["rock", "polka"]}}, "genres.keep lists unknown genre(s) 'polka'"),
        ({"split": {"test_size": 1.5}}, "config value split.test_size: 1.5 is greater than or equal to the maximum of 0.5"),
        ({"grid": {"activation": ["swish-ish"]}}, "config value grid.activation.0: 'swish-ish' is not one of"),
        ({"dataset": {"source": "ftp"}}, "config value dataset.source: 'ftp' is not one of"),
        (
            {"search": {"jobs": "per-network"}},
            "config value search.jobs: 'per-network' is not one of ['combination', 'family', 'architecture']",
        ),
        ({"training": {"max_epochs": "many"}}, "config value training.max_epochs: 'many' is not of type 'integer'"),
        (
            {"training": {"steps_per_execution": 32}},  # removed in issue 15: it reached no rule
            "config value training: Additional properties are not allowed ('steps_per_execution' was unexpected)",
        ),
        (
            {
                "genres": {
                    "super_genres": [{"name": "rock", "patterns": ["(rock"]}, {"name": "pop", "patterns": ["pop"]}],
                    "keep": ["rock", "pop"],
                }
            },
            "pattern '(rock' is not a valid regular expression",
        ),
        ({"genres": {"keep": ["rock", "polka"]}, "labels": {"source": "csv", "csv": ""}}, "labels.source is 'csv' but labels.csv is empty"),
        (
            {"search": {"strategy": "halving"}, "grid": {k: v[:1] for k, v in default_config()["grid"].items()}},
            "search.strategy is 'halving' but the grid has a single combination",
        ),
        ({"search": {"strategy": "halving", "halving": {"factor": 1}}}, "search.halving.factor is 1: a round must keep fewer"),
        (
            {"search": {"strategy": "halving", "halving": {"min_budget": 1.5}}},
            "search.halving.min_budget is 1.5, larger than the full budget",
        ),
    ],
)
def test_invalid_config_value(tmp_path: Path, changes: dict, expected: str) -> None:
    output = dry_run_error(tmp_path, changes)
    assert expected in output
    assert "Fix:" in output and "Traceback" not in output


@pytest.mark.integration
@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda f: f.drop(columns=["Energy"]), "lacks required column(s): Energy"),
        (lambda f: f.assign(Views=["lots"] + list(f["Views"][1:])), "column Views has 1 non-numeric value(s)"),
        (None, "is empty"),
    ],
)
def test_bad_dataset_stops_with_clear_error(tmp_path: Path, damage, expected: str) -> None:
    csv = tmp_path / "songs.csv"
    if damage is None:
        csv.write_text("")
    else:
        damage(make_songs()).to_csv(csv, index=False)
    config = deep_update(default_config(), {"dataset": {"source": "path", "path": str(csv)}})
    result = run_workflow(tmp_path, write_config(tmp_path / "config.yaml", config), "--until", "validate_dataset", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and expected in output and "Fix:" in output
    assert "site-packages/pandas" not in output
    assert not (tmp_path / "results/data/raw.parquet").exists()


def test_default_config_lists_the_whole_grid(tmp_path: Path, synthetic) -> None:
    config = deep_update(default_config(), {"dataset": {"source": "path", "path": str(synthetic.csv)}})
    result = run_workflow(tmp_path, write_config(tmp_path / "config.yaml", config), "--dry-run", "--quiet", "rules")
    assert planned_jobs(result)["hpo_combination"] == 6144


# Where config.yaml documents a value other than the schema's default on purpose.
DOCUMENTED_OTHERWISE = {("dataset", "path"), ("baselines", "hgb", "grid")}


def _schema_defaults(schema: dict, where: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    """Every property's path with a ``default`` in the schema, nested objects included."""
    out = []
    for name, sub in schema.get("properties", {}).items():
        if "default" in sub:
            out.append(((*where, name), sub["default"]))
        out += _schema_defaults(sub, (*where, name))
    return out


def test_schema_defaults_are_config_yaml_values() -> None:
    """Each default lives in the schema; Snakemake's validate fills it in where config.yaml's
    key is left out (nested objects too), with the value config.yaml documents."""
    from snakemake.utils import validate

    defaults = _schema_defaults(yaml.safe_load((REPO / "schemas" / "config.schema.yaml").read_text()))
    assert len(defaults) > 30
    assert dict(defaults)[("predict", "model_name")] == models.DEFAULT_MODEL  # the predict command's default
    for path, default in defaults:
        config = default_config()
        parent = functools.reduce(operator.getitem, path[:-1], config)
        documented = parent.pop(path[-1])
        validate(config, str(REPO / "schemas" / "config.schema.yaml"))
        filled = functools.reduce(operator.getitem, path, config)
        assert filled == default or default == {}, path  # an object's {} is filled with its own defaults
        if not any(other[: len(path)] == path for other in DOCUMENTED_OTHERWISE):
            assert filled == documented, path


def test_config_of_required_keys_only_plans_the_default_run(tmp_path: Path, synthetic) -> None:
    """A config that gives only the schema's required keys runs with the defaults filled in."""
    full = default_config()
    config = {
        "results_dir": "results",
        "dataset": {"source": "path", "path": str(synthetic.csv)},
        "labels": {"source": "wikidata"},
        "genres": {"super_genres": full["genres"]["super_genres"], "keep": full["genres"]["keep"]},
        "split": {k: full["split"][k] for k in ("test_size", "n_folds", "seed")},
        "features": {k: full["features"][k] for k in ("numeric", "categorical")},
        "training": {"max_epochs": full["training"]["max_epochs"]},
        "grid": SMALL_GRID,  # the grid's size does not matter here; a small one plans fast
        "selection": {},
        "baselines": {},
        "evaluation": {},
    }
    result = run_workflow(tmp_path, write_config(tmp_path / "config.yaml", config), "--dry-run", "--quiet", "rules")
    jobs = planned_jobs(result)
    assert jobs["hpo_combination"] == 4 and jobs["train_baseline"] == 3 and jobs["bundle_model"] == 1
