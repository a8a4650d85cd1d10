# What every stage needs: the validated config, where results go, wildcard constraints.
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

from workflow_scripts.core import config_checks, footprint  # noqa: E402
from workflow_scripts.data import dataset as dataset_lib  # noqa: E402
from workflow_scripts.models import registry as models_lib  # noqa: E402
from workflow_scripts.core.errors import UserError  # noqa: E402

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
# What a training job's result depends on in the training section (threads are run-time).
TRAINING = {key: config["training"][key] for key in ("max_epochs", "learning_rate", "seed")}


wildcard_constraints:
    combo="[0-9a-f]{12}",
    family="[0-9a-f]{12}",
    model="|".join(models_lib.ESTIMATORS),
    outer="[0-9]+",
    round="[0-9]+",
    members="[0-9a-f]{12}",
