"""The conda environments (not runnable here: no conda channel) agree with requirements.txt."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def requirement_pins() -> dict[str, str | None]:
    pins: dict[str, str | None] = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.lower()] = version or None
    return pins


def env_pins(path: Path) -> dict[str, str | None]:
    pins: dict[str, str | None] = {}
    for dep in yaml.safe_load(path.read_text())["dependencies"]:
        entries = dep["pip"] if isinstance(dep, dict) else [dep]
        for entry in entries:
            name, version = re.split(r"==?", entry, maxsplit=1) if "=" in entry else (entry, None)
            pins[name.lower()] = version
    return pins


def test_every_env_package_is_pinned_as_in_requirements() -> None:
    wanted = requirement_pins()
    for env in sorted((REPO / "envs").glob("*.yaml")):
        for name, version in env_pins(env).items():
            if name in ("python", "pip"):
                continue
            assert name in wanted, f"{env.name}: {name} is not in requirements.txt"
            assert version == wanted[name], f"{env.name}: {name}={version}, requirements.txt has {wanted[name]}"


def test_every_rule_names_an_existing_env() -> None:
    for rules in [REPO / "Snakefile", *sorted((REPO / "rules").glob("*.smk"))]:
        for env in re.findall(r'conda:\s*\n\s*"([^"]+)"', rules.read_text()):
            assert (rules.parent / env).resolve().exists(), f"{rules.name} names missing {env}"


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module a Python file imports (absolute imports)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


# Commands no rule runs, which need the test requirements (offline_demo serves the tests'
# generated data with Oxigraph; README, "A closed machine").
RUN_FROM_A_CHECKOUT_ONLY = {"offline_demo.py"}


def test_imports_of_rule_scripts_are_covered_by_envs() -> None:
    covered = set().union(*(env_pins(e) for e in (REPO / "envs").glob("*.yaml")))
    aliases = {"sklearn": "scikit-learn", "yaml": "pyyaml", "SPARQLWrapper": "sparqlwrapper", "tensorflow": "tensorflow-cpu"}
    stdlib = set(sys.stdlib_module_names) | {"workflow_scripts"}
    for module in (REPO / "workflow_scripts").rglob("*.py"):
        if module.name in RUN_FROM_A_CHECKOUT_ONLY:
            continue
        for top in imported_modules(module):
            if top in stdlib:
                continue
            assert aliases.get(top, top).lower() in covered, f"{module.name} imports {top}, which no env provides"
