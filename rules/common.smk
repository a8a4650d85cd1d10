import json
import os
import sys

import jsonschema
from snakemake.utils import min_version, validate

min_version("9.0")

# The modules under workflow_scripts/ are imported by the rule scripts and here.
sys.path.insert(0, workflow.basedir)
# (set, not read: jobs on other nodes get it through the exported environment)
os.environ.update(
    PYTHONPATH=os.pathsep.join(p for p in (workflow.basedir, os.environ.get("PYTHONPATH", "")) if p)
)

from workflow_scripts.core import config_checks  # noqa: E402
from workflow_scripts.core.errors import UserError  # noqa: E402
from workflow_scripts.models import registry as models_lib  # noqa: E402
from workflow_scripts.search import grid as grid_lib  # noqa: E402
from workflow_scripts.search import halving as halving_lib  # noqa: E402
from workflow_scripts.split import folds as split_lib  # noqa: E402

_SCHEMA = os.path.join(workflow.basedir, "schemas", "config.schema.yaml")
try:
    validate(config, _SCHEMA)
except WorkflowError:
    import yaml

    with open(_SCHEMA) as _handle:
        _error = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(yaml.safe_load(_handle)).iter_errors(config)
        )
    raise WorkflowError(
        f"Invalid config: {config_checks.schema_error_message(_error)}\n"
        "  Fix: correct that value in config.yaml (allowed values: schemas/config.schema.yaml)."
    ) from None
try:
    config_checks.check(config)
except UserError as _error:
    raise WorkflowError(f"Invalid config: {_error}") from None

RESULTS = config["results_dir"]
LOGS = f"{RESULTS}/logs"
BENCH = f"{RESULTS}/benchmarks"
COMBOS = grid_lib.expand(config["grid"])
SEARCH_JOBS = config["search"]["jobs"]
# The combinations each grid job of rule hpo_family trains together (search.jobs).
FAMILIES = {} if SEARCH_JOBS == "combination" else grid_lib.families(COMBOS, SEARCH_JOBS)
# The rounds of successive halving (search.strategy: halving); none for the grid.
_HALVING = config["search"]["halving"]
# The combinations each job of a round before the last trains together (search.halving.jobs).
ROUND_PACKS = (
    {} if _HALVING["jobs"] == "combination" else grid_lib.families(COMBOS, _HALVING["jobs"])
)
# Any packed job's members by its id (ids differ between kinds: the kind is hashed in).
PACKS = {**FAMILIES, **ROUND_PACKS}
ROUNDS = (
    halving_lib.plan(
        len(COMBOS),
        _HALVING["factor"],
        _HALVING["min_budget"],
        _HALVING["resource"],
        config["training"]["max_epochs"],
        config["split"]["n_folds"],
    )
    if config["search"]["strategy"] == "halving"
    else []
)


wildcard_constraints:
    combo="[0-9a-f]{12}",
    family="[0-9a-f]{12}",
    model="|".join(models_lib.ESTIMATORS),
    outer="[0-9]+",
    round="[0-9]+",
    members="[0-9a-f]{12}",


def raw_csv():
    """The CSV to validate: the configured path, or the downloaded copy."""
    if config["dataset"]["source"] == "path":
        return config["dataset"]["path"]
    return f"resources/dataset/{config['dataset']['source']}/Spotify_Youtube.csv"


def genre_source():
    """Artist genres from Wikidata, or the configured CSV of song labels."""
    if config["labels"]["source"] == "csv":
        return config["labels"]["csv"]
    return f"{RESULTS}/labels/artist_genres.csv"


def hpo_run_files(wildcards=None):
    """The grid search's results: one file per combination, or per family (search.jobs); with
    successive halving, those of its last round."""
    if ROUNDS:
        return halving_run_files(ROUNDS[-1].index)
    if SEARCH_JOBS == "combination":
        return expand(f"{RESULTS}/hpo/runs/{{combo}}.json", combo=COMBOS)
    return expand(f"{RESULTS}/hpo/families/{{family}}.json", family=FAMILIES)


def halving_summary(index):
    """The summary (checkpoint halving_round) of round ``index``: its table and survivors."""
    return f"{RESULTS}/hpo/halving/round{index}.json"


def halving_candidates(index):
    """The combinations round ``index`` trains: all of them, then the survivors of the round before."""
    if index == 0:
        return list(COMBOS)
    with open(checkpoints.halving_round.get(round=str(index - 1)).output[0]) as handle:
        return json.load(handle)["survivors"]


def round_pack_kind(wildcards):
    """How a job of hpo_round_family (halving) is packed: as the grid (search.jobs) in the
    last round, as search.halving.jobs before it."""
    return SEARCH_JOBS if ROUNDS[int(wildcards.round)].final else _HALVING["jobs"]


def halving_run_files(index):
    """The files of round ``index``'s jobs: packed as search.halving.jobs says, the last round
    as search.jobs packs the grid, in the grid's own files; a family of which only some
    members survived is trained as those members alone, unless the grid already trained it."""
    final = ROUNDS[index].final
    packs = FAMILIES if final else ROUND_PACKS
    jobs = halving_lib.round_jobs(halving_candidates(index), packs or None)
    if not packs:
        where = f"{RESULTS}/hpo/runs" if final else f"{RESULTS}/hpo/halving/round{index}/runs"
        return [f"{where}/{combo}.json" for combo in jobs]
    files = []
    for job, members in jobs.items():
        grid_file = f"{RESULTS}/hpo/families/{job}.json"
        if final and (len(members) == len(FAMILIES[job]) or os.path.exists(grid_file)):
            files.append(grid_file)
        else:
            files.append(
                f"{RESULTS}/hpo/halving/round{index}/families/{job}-{halving_lib.members_id(members)}.json"
            )
    return files


def final_targets():
    """What `snakemake` builds by default: the test metrics, and the outer summary if asked."""
    targets = [f"{RESULTS}/evaluation/metrics.json", f"{RESULTS}/hpo/selection.json"]
    if ROUNDS:
        targets.append(f"{RESULTS}/hpo/halving_rounds.png")
    if config["evaluation"]["outer_folds"]:
        targets.append(f"{RESULTS}/evaluation/outer_summary.md")
    return targets + MODEL_TARGETS  # rules/predict.smk: the bundle, and predictions when asked
