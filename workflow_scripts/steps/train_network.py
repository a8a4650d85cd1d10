"""Rule train_network: the chosen network on the whole training set."""

import json
from pathlib import Path

from workflow_scripts.model import configure_threads
from workflow_scripts.step import run_step


def main(smk) -> None:
    configure_threads(smk.threads)
    from workflow_scripts import features, model
    from workflow_scripts.fileio import atomic_path, write_json_atomic

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
