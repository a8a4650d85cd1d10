"""``python -m workflow_scripts.wikidata {label,forget} ...``: label from the command line, manage the cache.

``label INPUT --output CSV --endpoint URL --contact WHO`` runs the whole labelling (used by
``benchmarks/bench_label_artists.py``); ``forget ARTIST...`` deletes cache entries so the
next run asks these artists again. Option defaults are the schema's ``labels.*`` defaults.
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from workflow_scripts.core.errors import UserError
from workflow_scripts.labels import defaults
from workflow_scripts.labels.cache import ArtistCache
from workflow_scripts.labels.client import RetryPolicy
from workflow_scripts.labels.labelling import label_artists
from workflow_scripts.labels.tables import write_table


def read_artists(path: str | Path, column: str = "Artist") -> list[str]:
    """The non-empty values of ``column`` in a CSV or Parquet file (CSV is read without pandas)."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pandas as pd

        return pd.read_parquet(path, columns=[column])[column].dropna().astype(str).tolist()
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or column not in reader.fieldnames:
            raise UserError(f"{path} has no column {column!r}.", "name the artist column with --column.")
        return [row[column] for row in reader if row[column]]


def parser() -> argparse.ArgumentParser:
    """The command line; every default is the schema's (``labels.*``)."""
    d = defaults.labels()
    r = d["retry"]
    top = argparse.ArgumentParser(
        prog="python -m workflow_scripts.wikidata", description="Label artists with Wikidata genres; manage the cache."
    )
    sub = top.add_subparsers(dest="command", required=True)
    forget = sub.add_parser("forget", help="delete cache entries so the next run asks these artists again")
    forget.add_argument("--cache-dir", default=d["cache_dir"])
    forget.add_argument("artists", nargs="+", help="artist names, exactly as in the data")
    label = sub.add_parser("label", help="label the artists of a CSV or Parquet file and write the artist table")
    label.add_argument("input", help="CSV or .parquet file with an artist column")
    label.add_argument("--output", required=True, help="the artist table (CSV)")
    label.add_argument("--column", default="Artist")
    label.add_argument("--endpoint", required=True)
    label.add_argument("--cache-dir", default=d["cache_dir"])
    label.add_argument("--contact", required=True, help="who to contact about this client (goes into the User-Agent)")
    label.add_argument("--batch-size", type=int, default=d["batch_size"])
    label.add_argument("--concurrency", type=int, default=d["concurrency"])
    label.add_argument("--timeout-s", type=float, default=d["timeout_s"])
    label.add_argument("--max-retries", type=int, default=r["max_retries"])
    label.add_argument("--backoff-base-s", type=float, default=r["backoff_base_s"])
    label.add_argument("--backoff-max-s", type=float, default=r["backoff_max_s"])
    label.add_argument("--retry-after-max-s", type=float, default=r["retry_after_max_s"])
    label.add_argument("--max-age-days", type=float, default=d["max_age_days"])
    label.add_argument("--refresh", action="append", default=[], metavar="ARTIST", help="ask this artist again (repeatable)")
    label.add_argument("--quiet", action="store_true", help="log warnings only")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (1 on a UserError, which is printed without a traceback)."""
    args = parser().parse_args(argv)
    if args.command == "forget":
        cache = ArtistCache(args.cache_dir, endpoint="")
        for artist in args.artists:
            print(("forgot " if cache.forget(artist) else "not cached: ") + artist)
        return 0
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    policy = RetryPolicy(args.max_retries, args.backoff_base_s, args.backoff_max_s, args.retry_after_max_s, args.timeout_s)
    try:
        entries, _ = label_artists(
            read_artists(args.input, args.column),
            args.endpoint,
            args.cache_dir,
            args.contact,
            batch_size=args.batch_size,
            policy=policy,
            concurrency=args.concurrency,
            max_age_days=args.max_age_days,
            refresh=args.refresh,
        )
    except UserError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    write_table(entries, args.output)
    return 0
