"""The ``labels`` defaults, read from the config schema (the one place they are written)."""

from __future__ import annotations

from functools import cache
from typing import Any

from workflow_scripts.core import footprint


@cache
def labels() -> dict[str, Any]:
    """``labels.*`` defaults of ``schemas/config.schema.yaml`` (``retry`` as a nested dict)."""
    return footprint.defaults("labels")
