"""Rule train_network: the chosen network on the whole training set."""

import json
from pathlib import Path

from workflow_scripts.core.step import run_step
from workflow_scripts.models.network import configure_threads


def main(smk) -> None:
    configure_threads(smk.threads)
    from workflow_scripts.core.fileio import atomic_path, write_json_atomic
    from workflow_scripts.features import pipeline as features
    from workflow_scripts.models import network as model

    arrays = features.load_arrays(smk.input.arrays)
    chosen = json.loads(Path(smk.input.selection).read_text())
    training = smk.params.training
    network, history = model.fit_network(
        chosen["params"],
        arrays["X_fit"],
        arrays["y_fit"],
        arrays["X_es"],
        arrays["y_es"],
        len(arrays["classes"]),
        training,
        int(training["seed"]),
    )
    with atomic_path(smk.output.model) as tmp:
        network.save(tmp.with_suffix(".keras"))
        tmp.with_suffix(".keras").replace(tmp)
    write_json_atomic(smk.output.history, {"combo": chosen["combo"], "params": chosen["params"], **history})


run_step(main, snakemake)  # noqa: F821
