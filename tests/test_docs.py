"""The README and docs/ stay true: the generated configuration page, the schema's annotations,
the links, and every command in a ``sh`` block.

Commands are checked without running the workflow: Snakemake commands are dry-run in one
working directory (a mirror of the repository: symlinks to its files, ``../shared`` beside it);
``python -m workflow_scripts.X`` and ``python script.py`` have their arguments parsed by their
own argparse parser and stop there; ``docs/configuration.py`` runs. The few that cannot run
here are in ``NOT_RUN`` with what covers them. The closed-machine run itself runs in
tests/test_offline_demo.py.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SHARED

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# Written on another branch (issue: predict docs); linked before it lands. Empty this set once it has.
PENDING_PAGES: set[str] = set()


def load_generator():
    spec = importlib.util.spec_from_file_location("docs_configuration", REPO / "docs" / "configuration.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = load_generator()


# --- the configuration page -------------------------------------------------------------------


def test_configuration_page_is_what_the_generator_writes() -> None:
    page = REPO / "docs" / "configuration.md"
    assert page.read_text() == GENERATOR.render(), "run: python docs/configuration.py > docs/configuration.md"


def test_readme_says_what_a_change_reruns_from_the_schema() -> None:
    assert GENERATOR.readme_summary() in (REPO / "README.md").read_text(), "paste: python docs/configuration.py --readme"


def test_every_schema_leaf_has_a_description_and_x_reruns() -> None:
    missing = [
        f"{key}: {', '.join(field for field in ('description', 'x-reruns') if field not in node)}"
        for key, node in GENERATOR.leaves(GENERATOR.load_schema())
        if "description" not in node or "x-reruns" not in node
    ]
    assert missing == [], "schema leaves without description / x-reruns:\n" + "\n".join(missing)


def test_x_reruns_and_x_when_name_real_rules_and_keys() -> None:
    rules = set()
    for path in [REPO / "Snakefile", *(REPO / "rules").glob("*.smk")]:
        rules |= set(re.findall(r"^(?:rule|checkpoint)\s+(\w+)\s*:", path.read_text(), flags=re.M))
    schema = GENERATOR.load_schema()
    keys = {key for key, _ in GENERATOR.leaves(schema)}
    wrong = []
    for key, node in GENERATOR.leaves(schema):
        reruns = node.get("x-reruns", [])
        wrong += [f"{key}: x-reruns names no rule {rule!r}" for rule in ([] if reruns == "*" else reruns) if rule not in rules]
        wrong += [f"{key}: x-when names no key {other!r}" for other in node.get("x-when", {}) if other not in keys]
    assert wrong == []


def test_leaves_include_arrays_of_objects_and_nested_sections() -> None:
    keys = [key for key, _ in GENERATOR.leaves(GENERATOR.load_schema())]
    assert "genres.super_genres" in keys and "labels.retry.max_retries" in keys and "baselines.hgb.grid.max_depth" in keys
    assert "labels.retry" not in keys and "grid.units_1" in keys and "results_dir" in keys


def test_generator_shows_run_time_settings_and_conditions() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {
                "type": "object",
                "properties": {
                    "x": {"type": "integer", "default": 3, "description": "An x.", "x-reruns": []},
                    "y": {"enum": ["p", "q"], "description": "A y.", "x-reruns": ["r1", "r2"], "x-when": {"a.x": 4}},
                },
            }
        },
    }
    schema["properties"]["a"]["properties"]["z"] = {"type": "string", "description": "A z.", "x-reruns": "*", "x-when": {"a.y": ["p", "q"]}}
    page = GENERATOR.render(schema, {"a": {"y": "q"}})
    assert "| `a.x` | `3` | integer | An x. | nothing (run-time setting) |" in page
    assert "| `a.y` | `q` | one of `p`, `q` | A y. | `r1`, `r2`; only when `a.x: 4` |" in page
    assert "| `a.z` | not set | string | A z. | everything (every rule); only when `a.y` is one of `p`, `q` |" in page


# --- the README's first screen and the links --------------------------------------------------

TEST_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -q -r requirements-dev.txt && .venv/bin/python -m pytest"


def test_readme_starts_with_the_two_commands_and_fits_its_first_screen() -> None:
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 125, f"README.md has {len(lines)} lines: move detail to docs/"
    assert lines[2] == "```sh" and lines[3].endswith(".venv/bin/snakemake --cores 8") and lines[4] == TEST_COMMAND
    first_screen = "\n".join(lines[:40])
    for needed in (
        "**Needs**",
        "Python 3.11",
        "Kaggle",
        "Wikidata",
        "h on 8 cores",
        "min on 2 cores",
        "## Quick start",
        "configs/quick.yaml",
    ):
        assert needed in first_screen, f"the README's first 40 lines lack {needed!r}"
    assert TEST_COMMAND in (REPO / ".ci" / "run").read_text(), ".ci/run must run the README's test command"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_relative_links_point_to_files(page: Path) -> None:
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        if not path.exists() and path.relative_to(REPO).as_posix() not in PENDING_PAGES:
            broken.append(target)
    assert broken == []


REPO_PATH = re.compile(r"`((?:workflow_scripts|rules|tests|benchmarks|configs|schemas|profiles|report|envs|docs|experiments)/[^`\s]*)`")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_repository_paths_named_in_backticks_exist(page: Path) -> None:
    """A file or folder of the repository named in backticks (not a pattern) exists: moved code is followed."""
    named = {m for m in REPO_PATH.findall(page.read_text()) if not re.search(r"[<>{}*]", m)}
    assert sorted(m for m in named if not (REPO / m.rstrip("/")).exists()) == []


# --- every command in a sh block ---------------------------------------------------------------

# Commands not run here, and what covers them.
NOT_RUN = {
    "python3": "creates the venv: CI (.ci/run) runs the README's test command on a fresh machine",
    "pip": "installs requirements: CI runs the same install",
    "pytest": "the test suite itself",
    "bash": "bash .ci/run is CI itself",
    "echo": "a shell builtin",
    "kill": "process control: tests/test_interrupt.py and tests/test_slurm_workflow.py send SIGINT as documented",
    "sacct": "SLURM: tests/test_slurm_workflow.py reads sacct on a real cluster",
    "scancel": "SLURM: tests/test_slurm_workflow.py",
    "squeue": "SLURM: tests/test_slurm_workflow.py",
    "sinfo": "SLURM: site-specific",
}

PARSE_ONLY = """
import argparse, runpy, sys
kind, target, *args = sys.argv[1:]
original = argparse.ArgumentParser.parse_args
def parse_only(self, args=None, namespace=None):
    original(self, args, namespace)
    print("ARGUMENTS PARSED", flush=True)
    raise SystemExit(0)
argparse.ArgumentParser.parse_args = parse_only
sys.argv = [target, *args]
if kind == "module":
    runpy.run_module(target, run_name="__main__", alter_sys=True)
else:
    runpy.run_path(target, run_name="__main__")
"""


def sh_commands(page: Path) -> list[list[str]]:
    """The commands of a page's ``sh`` blocks as argument lists: continuation lines joined,
    comments and blank lines dropped."""
    commands: list[list[str]] = []
    block: list[str] | None = None
    for line in page.read_text().splitlines():
        stripped = line.strip()
        if block is None:
            if stripped == "```sh":
                block = []
            continue
        if stripped == "```":
            text = "\n".join(block).replace("\\\n", " ")
            commands += [tokens for tokens in (shlex.split(line, comments=True) for line in text.splitlines()) if tokens]
            block = None
        else:
            block.append(stripped)
    return commands


def simple_commands(tokens: list[str]) -> list[list[str]]:
    """``a && b`` as [a, b], each without nohup/setsid, redirections and a trailing ``&``."""
    out, current = [], []
    for token in [*tokens, "&&"]:
        if token != "&&":
            current.append(token)
            continue
        while current and current[0] in ("nohup", "setsid"):
            current.pop(0)
        if current and current[-1] == "&":
            current.pop()
        cleaned, skip = [], False
        for t in current:
            if skip:
                skip = False
            elif t in (">", ">>", "2>"):
                skip = True
            elif not re.match(r"^\d?>", t):
                cleaned.append(t)
        if cleaned:
            out.append(cleaned)
        current = []
    return out


def program(argv: list[str]) -> str:
    name = Path(argv[0]).name
    return "pytest" if name == "python" and argv[1:3] == ["-m", "pytest"] else name


def check_command(argv: list[str]) -> list[str] | None:
    """The command that checks ``argv`` (run in the mirror), or None when it is not run here."""
    prog = program(argv)
    if prog in NOT_RUN:
        return None
    if prog == "snakemake":
        args = argv[1:]
        if "--report" in args:  # the report needs a finished run: dry-run the same configuration
            i = args.index("--report")
            args = args[:i] + args[i + 2 :]
        return [sys.executable, "-m", "snakemake", *args, "--dry-run", "--quiet"]
    if argv[1:2] == ["-m"]:
        return [sys.executable, "-c", PARSE_ONLY, "module", argv[2], *argv[3:]]
    if argv[1] == "docs/configuration.py":
        return [sys.executable, *argv[1:]]
    return [sys.executable, "-c", PARSE_ONLY, "path", argv[1], *argv[2:]]


def all_commands() -> list[tuple[str, list[str]]]:
    """(page: command, argv) of every distinct command; two that check the same way are one
    (a Snakemake command with ``--report`` or another ``--cores`` is the same dry run)."""
    seen, out = set(), []
    for page in PAGES:
        for tokens in sh_commands(page):
            for argv in simple_commands(tokens):
                check = check_command(argv)
                key = tuple(check) if check is not None else tuple(argv)
                if program(argv) == "snakemake" and "--cores" in key:  # a dry run is the same on any number of cores
                    i = key.index("--cores")
                    key = key[:i] + key[i + 2 :]
                if key not in seen:
                    seen.add(key)
                    out.append((f"{page.relative_to(REPO)}: {shlex.join(argv)}", argv))
    return out


COMMANDS = all_commands()


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One working directory for every dry run: the repository's files as symlinks, ../shared beside it."""
    root = tmp_path_factory.mktemp("docs-commands")
    work = root / "genre-factor"
    work.mkdir()
    for entry in REPO.iterdir():
        if entry.name not in {".git", ".snakemake", ".venv", "results", "resources", ".pytest_cache", ".ruff_cache"}:
            (work / entry.name).symlink_to(entry)
    if SHARED.exists():
        (root / "shared").symlink_to(SHARED)
    else:  # what the dry runs of configs/study.yaml need to exist (they are not read)
        for name in ("data/Spotify_Youtube.csv", "reference/seed_selection.csv"):
            (root / "shared" / name).parent.mkdir(parents=True, exist_ok=True)
            (root / "shared" / name).write_text("")
    return work


def test_every_command_is_checked_somehow() -> None:
    assert len(COMMANDS) > 10
    known = {"snakemake", "python", *NOT_RUN}
    assert [name for name, argv in COMMANDS if program(argv) not in known] == []


@pytest.mark.parametrize(("name", "argv"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_command_runs_as_written(name: str, argv: list[str], mirror: Path) -> None:
    command = check_command(argv)
    if command is None:
        pytest.skip(f"not run here: {NOT_RUN[program(argv)]}")
    result = subprocess.run(command, cwd=mirror, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{name}\n{output[-4000:]}"
    if command[1] == "-c":
        assert "ARGUMENTS PARSED" in result.stdout, f"{name}: never reached its argument parser\n{output[-2000:]}"
