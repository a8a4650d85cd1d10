"""The registry of search strategies (config ``search.strategy``): one line a kind.

A new strategy is a module with a :class:`~workflow_scripts.search.strategy.SearchStrategy`
subclass, its line here, and its block in ``schemas/config.schema.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflow_scripts.search.halving import SuccessiveHalving
from workflow_scripts.search.random_search import RandomSearch
from workflow_scripts.search.strategy import SearchStrategy

STRATEGIES: dict[str, type[SearchStrategy]] = {
    "grid": SearchStrategy,
    "halving": SuccessiveHalving,
    "random": RandomSearch,
}


def create(config: Mapping[str, Any]) -> SearchStrategy:
    """The strategy ``config["search"]["strategy"]`` names, set up from the config."""
    search = config["search"]
    return STRATEGIES[search["strategy"]](search, config["training"]["max_epochs"], config["split"]["n_folds"])
