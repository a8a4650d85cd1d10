"""The whole workflow on a closed machine: no Kaggle, no Wikidata query service, one command.

    .venv/bin/python -m workflow_scripts.offline_demo            # writes results/offline/

It generates the test suite's small dataset in the Kaggle schema and its Wikidata-shaped
N-Triples (``tests/support/synthetic.py``: 365 songs of 43 artists, the six kept genres,
decoys and missing values), serves them with a local Oxigraph on 127.0.0.1 (the ``oxigraph``
package of ``requirements-dev.txt``), runs the real workflow on them into its own folder (the
dataset, SPARQL labelling, grid search of 4 networks, test evaluation, model bundle), renders
the report, stops Oxigraph and prints where the report and the model card are. Nothing leaves
the machine, and nothing outside the folder changes (its Wikidata cache is its own, so made-up
artists never reach ``resources/wikidata``). A second call reuses the finished run.

The numbers mean little (a made-up dataset): it shows what a run does and writes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
# Oxigraph's port when free: the endpoint is a parameter of label_artists, so a new port would
# make a second call relabel (from its cache) and rerun what follows.
PORT = 17878


def demo_config(folder: Path, endpoint: str) -> dict:
    """The keys the demo layers over config.yaml (paths relative to the repository)."""
    from tests.support.small_grid import SMALL_GRID

    return {
        "results_dir": folder.as_posix(),
        "dataset": {"source": "path", "path": (folder / "input" / "Spotify_Youtube.csv").as_posix()},
        "labels": {
            "source": "wikidata",
            "endpoint": endpoint,
            "contact": "genre-factor offline demo",
            "cache_dir": (folder / "wikidata-cache").as_posix(),
            "retry": {"backoff_base_s": 0.05, "backoff_max_s": 0.5},
        },
        "training": {"max_epochs": 20},
        "grid": SMALL_GRID,
    }


def write_inputs(folder: Path) -> tuple[Path, Path]:
    """Generate the dataset and its Wikidata file into ``folder`` (same bytes every time; a file
    already there with those bytes is left alone, so that a second run has nothing to redo)."""
    from tests.support.synthetic import write_fixture

    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        fixture = write_fixture(Path(scratch))
        for source in (fixture.csv, fixture.nt):
            target = folder / source.name
            if not target.exists() or target.read_bytes() != source.read_bytes():
                shutil.copyfile(source, target)
        return folder / fixture.csv.name, folder / fixture.nt.name


def snakemake(configfile: Path, *args: str) -> int:
    command = [sys.executable, "-m", "snakemake", "--configfile", str(configfile), *args]
    print("+", " ".join(command[1:]), flush=True)
    return subprocess.run(command, cwd=REPO, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}).returncode


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the whole workflow on generated data and a local Oxigraph (no network needed).")
    parser.add_argument(
        "--results-dir", type=Path, default=Path("results/offline"), help="where everything goes (default: results/offline)"
    )
    parser.add_argument("--cores", type=int, default=2, help="cores for snakemake (default: 2)")
    parser.add_argument("--no-report", action="store_true", help="skip snakemake --report")
    args = parser.parse_args(argv)
    folder = args.results_dir
    if folder.is_absolute() and folder.is_relative_to(REPO):
        folder = folder.relative_to(REPO)
    try:
        from tests.support.oxigraph_server import OxigraphServer, _port_is_free, find_free_port, find_oxigraph_binary

        find_oxigraph_binary()
    except (ImportError, FileNotFoundError) as error:
        print(
            f"offline_demo: {error}\nThe demo serves its Wikidata file with Oxigraph, from the development "
            "requirements: .venv/bin/pip install -r requirements-dev.txt",
            file=sys.stderr,
        )
        return 2
    absolute = folder if folder.is_absolute() else REPO / folder
    _, nt = write_inputs(absolute / "input")
    store = absolute / "oxigraph"
    shutil.rmtree(store, ignore_errors=True)
    port = PORT if _port_is_free("127.0.0.1", PORT) else find_free_port()
    with OxigraphServer(nt, store, port=port) as server:
        print(f"offline_demo: Oxigraph serves {nt.relative_to(REPO) if nt.is_relative_to(REPO) else nt} on {server.url}", flush=True)
        configfile = absolute / "config.yaml"
        configfile.write_text(
            "# Written by python -m workflow_scripts.offline_demo (layered over config.yaml; the endpoint is the demo's Oxigraph).\n"
            + yaml.safe_dump(demo_config(folder, server.url), sort_keys=False)
        )
        code = snakemake(configfile, "--cores", str(args.cores))
        if code == 0 and not args.no_report:
            code = snakemake(configfile, "--report", (folder / "report.html").as_posix())
    shutil.rmtree(store, ignore_errors=True)
    if code != 0:
        print(f"offline_demo: snakemake failed (exit {code}); the rules' logs are in {folder / 'logs'}", file=sys.stderr)
        return code
    model = folder / "model"
    print(
        "\noffline_demo: done. On generated data (365 songs of made-up artists): the numbers show what a run writes, not how well it works.\n"
        + ("" if args.no_report else f"  report:      {folder / 'report.html'}  (one file, opens offline)\n")
        + f"  model card:  {model / 'model_card.md'}\n"
        f"  metrics:     {folder / 'evaluation' / 'metrics.json'}\n"
        f"  predict:     .venv/bin/python -m workflow_scripts.predict --model {model} "
        f"--input {folder / 'input' / 'Spotify_Youtube.csv'} --output {folder / 'predictions.csv'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
