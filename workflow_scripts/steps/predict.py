"""Rule predict: genres for predict.input from the bundle (the same code as the command)."""

from pathlib import Path

from workflow_scripts import predict
from workflow_scripts.core.step import run_step


def main(smk) -> None:
    p = smk.params
    predict.predict_file(Path(smk.input.bundle).parent, smk.input.songs, smk.output[0], p.model_name, p.all_models, p.pool_by_artist)


run_step(main, snakemake)  # noqa: F821
