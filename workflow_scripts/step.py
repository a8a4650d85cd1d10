"""Glue between a Snakemake ``script:`` and the modules: logging and clean user errors."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from workflow_scripts.errors import UserError


def run_step(main: Callable[[Any], None], smk: Any) -> None:
    """Run ``main(snakemake)`` with logging to the rule's log; exit 1 on a UserError.

    A UserError prints its problem and fix (no traceback) to stderr and to the log.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if smk.log:
        handlers.append(logging.FileHandler(smk.log[0], mode="w", encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", handlers=handlers, force=True)
    try:
        main(smk)
    except UserError as error:
        logging.getLogger("genre_factor").error("ERROR in rule %s: %s", smk.rule, error)
        sys.exit(1)
