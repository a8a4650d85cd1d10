"""The walk over every config key (tests/test_workflow.py): another valid value for each leaf
of the schema, and what Snakemake must plan for it, from the key's declared footprint
(``x-reruns``, ``x-when`` in schemas/config.schema.yaml, read by workflow_scripts.core.footprint).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from workflow_scripts.core.footprint import Footprint, active, value_at

# Keys whose generic new value would not be valid, or would not exercise them: the value (or a
# function of the finished run's workdir giving it), and companion changes the config checks
# require (``None``: no companion). Everything else gets a value made from its schema.
Special = Callable[[Any], Any] | Any


def set_at(config: dict[str, Any], path: Iterable[str], value: Any) -> None:
    """Set the config's value at ``path``, creating levels as needed."""
    *parents, last = list(path)
    node = config
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def new_item(items: Mapping[str, Any], existing: list[Any]) -> Any:
    """A valid array item not in ``existing``."""
    if "enum" in items:
        return next(v for v in items["enum"] if v not in existing)
    kinds = items.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    numbers = [v for v in existing if isinstance(v, int | float) and not isinstance(v, bool)]
    if "integer" in kinds:
        return int(max(numbers, default=items.get("minimum", 1)) + 1)
    if "number" in kinds:
        top = max(numbers, default=0.1)
        candidate = top / 2 if items.get("exclusiveMaximum") is not None or items.get("maximum") is not None else top * 1.5
        return candidate if candidate not in existing else candidate / 3
    return f"walk-{len(existing)}"


def other_value(leaf: Mapping[str, Any], current: Any) -> Any:
    """A valid value other than ``current``, from the leaf's schema (its ``$ref`` merged in, as
    ``footprint.schema_leaves`` gives it)."""
    if "enum" in leaf:
        return next(v for v in leaf["enum"] if v != current)
    kinds = leaf.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if current is None and "null" in kinds:
        kinds = [k for k in kinds if k != "null"]
    if "boolean" in kinds:
        return not current
    if "array" in kinds:
        items = leaf.get("items", {})
        current = list(current or [])
        if len(current) > max(1, leaf.get("minItems", 0)):
            return current[:-1]
        return [*current, new_item(items, current)]
    if "integer" in kinds:
        base = int(current if current is not None else leaf.get("minimum", 1))
        maximum = leaf.get("maximum")
        return base - 1 if maximum is not None and base + 1 > maximum else base + 1
    if "number" in kinds:
        base = float(current if current is not None else 1.0)
        limit = leaf.get("exclusiveMaximum", leaf.get("maximum"))
        new = base * 1.5 if base else 0.1
        return base * 0.75 if limit is not None and new >= limit else new
    if "string" in kinds:
        return f"{current}-walk" if current else "walk"
    raise ValueError(f"no other value for schema {leaf}")


def changed_config(base: dict[str, Any], footprint: Footprint, value: Any, companions: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with the key set to ``value`` and its companion changes."""
    config = copy.deepcopy(base)
    set_at(config, footprint.path, value)
    for key, companion in companions.items():
        set_at(config, key.split("."), companion)
    return config


def rule_edges(rulegraph_dot: str) -> set[tuple[str, str]]:
    """The (upstream, downstream) rule pairs of ``snakemake --rulegraph`` output."""
    names = dict(re.findall(r'^\s*(\d+)\[label = "([^"]+)"', rulegraph_dot, re.M))
    return {(names[a], names[b]) for a, b in re.findall(r"^\s*(\d+) -> (\d+)", rulegraph_dot, re.M)}


def downstream(rules: Iterable[str], edges: set[tuple[str, str]]) -> set[str]:
    """``rules`` and every rule after them."""
    out, todo = set(rules), list(rules)
    while todo:
        rule = todo.pop()
        for up, down in edges:
            if up == rule and down not in out:
                out.add(down)
                todo.append(down)
    return out


def violations(
    footprint: Footprint, config: Mapping[str, Any], planned: set[str], all_rules: set[str], edges: set[tuple[str, str]]
) -> list[str]:
    """What is wrong with ``planned`` (the rules a dry run plans after the key's change) for
    the key's declared footprint under ``config`` (the base config)."""
    if footprint.runtime or not active(footprint, config):
        why = "a run-time setting" if footprint.runtime else f"inactive here ({footprint.when})"
        return [f"{footprint.name} is {why} but planned {sorted(planned)}"] if planned else []
    declared = all_rules if footprint.reruns == ("*",) else set(footprint.reruns)
    allowed = downstream(declared, edges) | {"all"}
    problems = []
    if planned - allowed:
        problems.append(f"{footprint.name} planned {sorted(planned - allowed)}, outside its footprint {sorted(declared)} and what follows")
    if not planned & declared:
        problems.append(f"{footprint.name} planned none of its declared rules {sorted(declared)} (planned {sorted(planned)})")
    return problems


def values_of(config: Mapping[str, Any], footprint: Footprint) -> Any:
    """The key's value in the config (None when the config leaves it to the schema)."""
    return value_at(config, footprint.path)
