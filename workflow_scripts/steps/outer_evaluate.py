"""Rule outer_evaluate: every model on one outer fold, over the configured seeds."""

import json
from pathlib import Path

from workflow_scripts.core.step import run_step
from workflow_scripts.models.network import configure_threads


def main(smk) -> None:
    configure_threads(smk.threads)
    import pandas as pd

    from workflow_scripts.core.fileio import write_json_atomic
    from workflow_scripts.evaluation import outer as outer_evaluation
    from workflow_scripts.evaluation import pooling
    from workflow_scripts.features import pipeline as features

    arrays = features.load_arrays(smk.input.arrays)
    chosen = json.loads(Path(smk.input.selection).read_text())
    artists = pd.read_parquet(smk.input.songs, columns=["row", "Artist"]).set_index("row")["Artist"]
    result = outer_evaluation.evaluate_fold(
        arrays, artists, chosen["params"], smk.params.training, smk.params.settings, smk.params.seeds, smk.params.ensemble
    )
    write_json_atomic(
        smk.output[0],
        {
            "outer_fold": int(smk.wildcards.outer),
            "n_test": int(len(arrays["y_test"])),
            "n_test_artists": int(artists.loc[arrays["row_test"]].nunique()),
            "network_params": chosen["params"],
            "tuned_params": result["tuned"],
            "models": result["models"],
            **{rule.key: result[rule.key] for rule in pooling.POOLINGS.values()},
        },
    )


run_step(main, snakemake)  # noqa: F821
