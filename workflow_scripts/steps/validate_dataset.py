"""Rule validate_dataset: check the CSV's pin, schema, types and ranges; write typed parquet and
the dataset's provenance (source, SHA-256, rows)."""

from pathlib import Path

from workflow_scripts.core.fileio import write_json_atomic
from workflow_scripts.core.step import run_step
from workflow_scripts.data import dataset


def main(smk) -> None:
    # The pin is read from the config, not params: it decides whether the run goes on, not what
    # it makes, so a new pin reruns nothing (the workflow checks it whenever it is read).
    pin = smk.config["dataset"]["sha256"] or None
    frame, digest = dataset.csv_to_parquet(Path(smk.input.csv), Path(smk.output.parquet), expected_sha256=pin)
    write_json_atomic(
        smk.output.info,
        {"source": smk.params.source, "origin": smk.params.origin, "sha256": digest, "rows": int(len(frame)), "csv": str(smk.input.csv)},
    )


run_step(main, snakemake)  # noqa: F821
