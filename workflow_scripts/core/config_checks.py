"""Config checks that a JSON schema cannot express, with messages a user understands."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from workflow_scripts.core.errors import UserError


def schema_error_message(error: Any) -> str:
    """One line from a jsonschema ValidationError: where, what, and the allowed values."""
    where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    message = error.message
    if len(message) > 200:
        message = message[:200] + "..."
    return f"config value {where}: {message}"


def check(config: Mapping[str, Any]) -> None:
    """Cross-field checks after the schema: sources present, genres known, patterns compile."""
    dataset = config["dataset"]
    if dataset["source"] in ("path", "url") and not dataset[dataset["source"]]:
        raise UserError(
            f"dataset.source is {dataset['source']!r} but dataset.{dataset['source']} is empty.",
            f"set dataset.{dataset['source']} in the config.",
        )
    labels = config["labels"]
    if labels["source"] == "csv" and not labels["csv"]:
        raise UserError("labels.source is 'csv' but labels.csv is empty.", "set labels.csv to a CSV with columns row, genre.")
    if labels["source"] == "wikidata":
        names = [sg["name"] for sg in config["genres"].get("super_genres", [])]
        unknown = [g for g in config["genres"]["keep"] if g not in names]
        if unknown:
            raise UserError(
                f"genres.keep lists unknown genre(s) {', '.join(map(repr, unknown))}.",
                f"use names from genres.super_genres: {', '.join(names)}.",
            )
        for sg in config["genres"]["super_genres"]:
            for pattern in sg["patterns"]:
                try:
                    re.compile(pattern)
                except re.error as error:
                    raise UserError(
                        f"genres.super_genres {sg['name']!r}: pattern {pattern!r} is not a valid regular expression ({error}).",
                        "fix the pattern (case-insensitive Python regular expression).",
                    ) from None
    sampling = config["genres"]["sampling"]
    if sampling["method"] == "cap" and not sampling["cap"]:
        raise UserError(
            "genres.sampling.method is 'cap' but genres.sampling.cap is not set.",
            "set genres.sampling.cap to the largest number of songs per genre.",
        )
    if config["split"]["group_by"] == "artist" and "Artist" in config["features"]["categorical"]:
        raise UserError(
            "features.categorical holds Artist while split.group_by is 'artist': an artist id carries nothing to unseen artists.",
            "remove Artist from features.categorical.",
        )
    if not config["features"]["numeric"] and not config["features"]["categorical"]:
        raise UserError("No features are configured.", "list columns in features.numeric or features.categorical.")
    _check_halving(config)


def _check_halving(config: Mapping[str, Any]) -> None:
    """search.strategy: halving needs several combinations, a factor above 1 and a smallest
    budget below the full one that leaves at least two rounds."""
    search = config["search"]
    if search["strategy"] != "halving":
        return
    from workflow_scripts.search import grid, halving

    settings = search["halving"]
    factor, min_budget, resource = settings["factor"], settings["min_budget"], settings["resource"]
    if grid.count_combinations(config["grid"]) < 2:
        raise UserError(
            "search.strategy is 'halving' but the grid has a single combination: there is nothing to halve.",
            "list more values in grid, or set search.strategy: grid.",
        )
    if factor <= 1:
        raise UserError(
            f"search.halving.factor is {factor}: a round must keep fewer combinations than it trains.",
            "set search.halving.factor above 1 (default 3: keep the best third).",
        )
    if min_budget > 1:
        raise UserError(
            f"search.halving.min_budget is {min_budget}, larger than the full budget (1 = all {resource}).",
            "set search.halving.min_budget to a share of the full budget between 0 and 1 (default 0.037).",
        )
    rounds = halving.plan(
        len(grid.expand(config["grid"])), factor, min_budget, resource, config["training"]["max_epochs"], config["split"]["n_folds"]
    )
    if len(rounds) < 2:
        raise UserError(
            f"search.halving leaves a single round (factor {factor}, min_budget {min_budget}, resource {resource}).",
            "lower search.halving.min_budget or search.halving.factor, or set search.strategy: grid.",
        )
