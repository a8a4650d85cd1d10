"""Benchmark: label all artists of the dataset against a local Oxigraph, cold and warm cache.

Each repeat runs the whole labelling as a separate process, as the workflow would
(interpreter start, imports, reading the CSV, queries, cache, writing the table)::

    python -m workflow_scripts.wikidata label ../shared/data/Spotify_Youtube.csv \\
        --output OUT.csv --endpoint http://127.0.0.1:PORT/query --cache-dir DIR --contact ...

* cold: a fresh, empty cache folder for each repeat (every artist is asked);
* warm: a cache folder filled by a previous run (no artist is asked; the proxy-free
  endpoint URL is the same, so every entry is valid).

Goals (issue #3): cold under 10 s, warm under 2 s, median of the repeats. Writes
``benchmarks/results/label_artists.json``. Usage::

    .venv/bin/python benchmarks/bench_label_artists.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.oxigraph_server import OxigraphServer  # noqa: E402

SHARED = Path(os.environ.get("GENRE_FACTOR_SHARED", REPO.parent / "shared"))
GOALS_S = {"cold": 10.0, "warm": 2.0}


def label_once(csv_path: Path, endpoint: str, cache_dir: Path, output: Path) -> float:
    """Run the labelling CLI once as a process; return its wall time in seconds."""
    command = [
        sys.executable,
        "-m",
        "workflow_scripts.wikidata",
        "label",
        str(csv_path),
        "--output",
        str(output),
        "--endpoint",
        endpoint,
        "--cache-dir",
        str(cache_dir),
        "--contact",
        "genre-factor benchmark <bench@example.org>",
        "--quiet",
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"labelling failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return elapsed


def summary(times: list[float], goal: float) -> dict[str, object]:
    median = statistics.median(times)
    return {
        "median_s": round(median, 3),
        "min_s": round(min(times), 3),
        "max_s": round(max(times), 3),
        "runs_s": [round(t, 3) for t in times],
        "goal_s": goal,
        "pass": median < goal,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--csv", type=Path, default=SHARED / "data" / "Spotify_Youtube.csv")
    parser.add_argument("--nt", type=Path, default=SHARED / "wikidata" / "wikidata-artists.nt.gz")
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "results" / "label_artists.json")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench-label-"))
    try:
        with OxigraphServer(args.nt, work / "server") as server:
            table = work / "artists.csv"
            label_once(args.csv, server.url, work / "warmup", table)  # page cache, .pyc files
            times: dict[str, list[float]] = {"cold": [], "warm": []}
            for i in range(args.repeats):
                times["cold"].append(label_once(args.csv, server.url, work / f"cold-{i}", table))
                times["warm"].append(label_once(args.csv, server.url, work / "warmup", table))
                print(f"repeat {i + 1}/{args.repeats}: cold {times['cold'][-1]:.2f} s, warm {times['warm'][-1]:.2f} s", flush=True)
            with open(table, encoding="utf-8") as handle:
                artists = sum(1 for _ in handle) - 1
    finally:
        shutil.rmtree(work, ignore_errors=True)

    result = {
        "benchmark": "label_artists",
        "what": "python -m workflow_scripts.wikidata label (whole process) on all artists, local Oxigraph",
        "artists": artists,
        "repeats": args.repeats,
        "cold": summary(times["cold"], GOALS_S["cold"]),
        "warm": summary(times["warm"], GOALS_S["warm"]),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": {"cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2), "python": platform.python_version()},
    }
    for kind in ("cold", "warm"):
        r = result[kind]
        verdict = "PASS" if r["pass"] else "FAIL"
        print(f"{kind}: median {r['median_s']:.2f} s (min {r['min_s']:.2f}, max {r['max_s']:.2f}), goal < {r['goal_s']:g} s: {verdict}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0 if result["cold"]["pass"] and result["warm"]["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
