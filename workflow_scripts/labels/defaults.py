"""The ``labels`` defaults, read from the config schema (the one place they are written)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"


def _defaults(schema: dict[str, Any]) -> dict[str, Any]:
    """The ``default`` of every property, nested objects as dicts of their own defaults."""
    out: dict[str, Any] = {}
    for name, sub in schema.get("properties", {}).items():
        if "properties" in sub:
            out[name] = _defaults(sub)
        elif "default" in sub:
            out[name] = sub["default"]
    return out


@cache
def labels() -> dict[str, Any]:
    """``labels.*`` defaults of ``schemas/config.schema.yaml`` (``retry`` as a nested dict)."""
    import yaml

    with open(SCHEMA, encoding="utf-8") as handle:
        schema = yaml.safe_load(handle)
    return _defaults(schema["properties"]["labels"])
