"""Rule train_network: the chosen network on the whole training set (copied from the network
cache, models/network_cache.py, when this very training was done before)."""

import json
import logging
from pathlib import Path

from workflow_scripts.core.step import run_step
from workflow_scripts.models.network import configure_threads

log = logging.getLogger(__name__)


def main(smk) -> None:
    configure_threads(smk.threads)
    from workflow_scripts.core.fileio import atomic_path, write_json_atomic
    from workflow_scripts.features import pipeline as features
    from workflow_scripts.models import network as model
    from workflow_scripts.models.network_cache import FOLDER, NetworkCache, network_key

    chosen = json.loads(Path(smk.input.selection).read_text())
    training = smk.params.training
    cache = NetworkCache(Path(smk.config["results_dir"]) / FOLDER)
    key = network_key(chosen["params"], training, smk.input.arrays)
    if cache.copy_to(key, smk.output.model, smk.output.history) is not None:
        log.info("network %s: trained before with these settings on these arrays; copied from %s", chosen["combo"], cache.folder)
        return
    arrays = features.load_arrays(smk.input.arrays)
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
    record = {"combo": chosen["combo"], "params": chosen["params"], **history}
    write_json_atomic(smk.output.history, record)
    cache.put(key, smk.output.model, record)


run_step(main, snakemake)  # noqa: F821
