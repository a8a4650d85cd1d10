"""What each config key affects, as ``schemas/config.schema.yaml`` declares it.

Every leaf key of the schema carries ``x-reruns`` (the rules whose results it changes; ``[]``
for a run-time setting; ``"*"`` for every rule) and may carry ``x-when`` (``{other.key: value
or [values]}``, ``"*"`` meaning any non-empty value: the key has an effect only in that mode).
The rules' ``params:`` follow it (tests/test_workflow.py walks every key), the
configuration page is generated from it, and the bundle's config digest covers exactly the
keys that change a model.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"


@dataclass(frozen=True)
class Footprint:
    """One leaf key: its path, the rules it reruns (empty: none; ``("*",)``: all) and its mode."""

    path: tuple[str, ...]
    reruns: tuple[str, ...]
    when: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    @property
    def name(self) -> str:
        """The dotted key, as the docs and error messages write it."""
        return ".".join(self.path)

    @property
    def runtime(self) -> bool:
        """True for a run-time setting: it changes no result."""
        return not self.reruns


@functools.cache
def schema() -> dict[str, Any]:
    """The config schema (read once)."""
    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def schema_leaves(document: Mapping[str, Any] | None = None) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    """(path, node) of every leaf of the schema, in order: a property that is not an object with
    properties (an array of objects is a leaf), with its local ``$ref`` (``#/$defs/...``)
    merged in, its own keys winning. The one walk over the schema: ``leaves`` and the
    configuration page (docs/configuration.py) both read it."""
    document = schema() if document is None else document

    def resolve(node: Mapping[str, Any]) -> dict[str, Any]:
        ref = node.get("$ref")
        if not ref:
            return dict(node)
        target: Any = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        return {**resolve(target), **{k: v for k, v in node.items() if k != "$ref"}}

    def walk(node: Mapping[str, Any], where: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
        for name, sub in node.get("properties", {}).items():
            sub = resolve(sub)
            if "properties" in sub:
                yield from walk(sub, (*where, name))
            else:
                yield (*where, name), sub

    yield from walk(document, ())


def defaults(section: str = "", document: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The schema's defaults under a dotted section (``"labels"``, ``"baselines.hgb"``; ``""``:
    all), nested as in the config; leaves without a default are left out."""
    prefix = tuple(section.split(".")) if section else ()
    inside = [(path[len(prefix) :], node) for path, node in schema_leaves(document) if path[: len(prefix)] == prefix]
    if not inside or inside[0][0] == ():
        raise KeyError(f"schemas/config.schema.yaml declares no section {section}")
    out: dict[str, Any] = {}
    for path, node in inside:
        if "default" in node:
            level = out
            for part in path[:-1]:
                level = level.setdefault(part, {})
            level[path[-1]] = node["default"]
    return out


def leaves(document: Mapping[str, Any] | None = None) -> list[Footprint]:
    """Every leaf key of the schema as a Footprint, in order.

    A leaf without ``x-reruns`` is an error of the schema: its footprint would be unknown.
    """
    out: list[Footprint] = []
    for path, node in schema_leaves(document):
        if "x-reruns" not in node:
            raise KeyError(f"schemas/config.schema.yaml: {'.'.join(path)} declares no x-reruns")
        reruns = node["x-reruns"]
        out.append(Footprint(path, ("*",) if reruns == "*" else tuple(reruns), node.get("x-when", {}), node.get("description", "")))
    return out


@functools.cache
def by_path() -> Mapping[tuple[str, ...], Footprint]:
    """Every leaf key of the schema by its path, in order (walked once per process)."""
    return MappingProxyType({footprint.path: footprint for footprint in leaves()})


def value_at(config: Mapping[str, Any], dotted: str | tuple[str, ...]) -> Any:
    """The config's value at a dotted key (None where a level is missing)."""
    value: Any = config
    for part in dotted.split(".") if isinstance(dotted, str) else dotted:
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def active(footprint: Footprint, config: Mapping[str, Any]) -> bool:
    """Whether the key has an effect under ``config`` (its ``x-when`` holds)."""
    for key, expected in footprint.when.items():
        value = value_at(config, key)
        if expected == "*":
            if not value:
                return False
        elif isinstance(expected, list):
            if value not in expected:
                return False
        elif value != expected:
            return False
    return True


def in_effect(config: Mapping[str, Any], dotted: str) -> Any:
    """What a rule's ``params:`` carry of a key or a section: its value where its ``x-when``
    holds under ``config``, else None (a key out of its mode changes nothing, so setting it
    reruns nothing); in a section, each leaf key so, at any depth."""
    path = tuple(dotted.split("."))
    footprints = by_path()
    if path in footprints:
        return value_at(config, path) if active(footprints[path], config) else None
    section = value_at(config, path)
    if not isinstance(section, Mapping) or not any(f[: len(path)] == path for f in footprints):
        raise KeyError(f"schemas/config.schema.yaml declares no key or section {dotted}")
    return {name: in_effect(config, f"{dotted}.{name}") for name in section}


def result_settings(config: Mapping[str, Any], dotted: str) -> dict[str, Any]:
    """The keys of a section that change a result under ``config``, nested as in the config:
    its keys without run-time ones and keys out of their mode (what a manifest records as a
    result's provenance)."""
    path = tuple(dotted.split("."))
    inside = [f for f in by_path().values() if f.path[: len(path)] == path and f.path != path]
    if not inside:
        raise KeyError(f"schemas/config.schema.yaml declares no section {dotted}")
    return _nested(config, [f for f in inside if not f.runtime and active(f, config)], len(path))


def _nested(config: Mapping[str, Any], footprints: list[Footprint], depth: int = 0) -> dict[str, Any]:
    """The config's values at these keys, nested by their paths less the first ``depth`` parts."""
    out: dict[str, Any] = {}
    for footprint in footprints:
        node = out
        for part in footprint.path[depth:-1]:
            node = node.setdefault(part, {})
        node[footprint.path[-1]] = value_at(config, footprint.path)
    return out


# Rules whose results reach a model only through the choice of network (selection.json, which
# the bundle's manifest records itself), and rules after the model.
_NOT_THE_MODEL = {
    "write_grid",
    "hpo_combination",
    "hpo_family",
    "hpo_round_combination",
    "hpo_round_family",
    "halving_round",
    "aggregate_hpo",
    "plot_halving",
    "predict",
}


def model_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings that change a trained model directly under ``config``, nested: every
    active key whose footprint reaches beyond the search (which acts through the chosen
    network) and the predictions; run-time settings and ``results_dir`` are left out."""
    return _nested(
        config,
        [f for f in by_path().values() if not (f.runtime or f.reruns == ("*",) or set(f.reruns) <= _NOT_THE_MODEL) and active(f, config)],
    )
