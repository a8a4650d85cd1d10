"""The run cache (search/run_cache.py): its key covers what a run depends on and not the
packing; a job reuses only exact hits and trains the rest together, to the runs the whole
family gives; a job stopped part way keeps what it finished. Tiny random data: seconds."""

from __future__ import annotations

import json
import runpy
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import without_timing
from tests.test_model import fold_arrays, params
from workflow_scripts.search import hpo, run_cache

REPO = Path(__file__).resolve().parents[1]
STEP = str(REPO / "workflow_scripts" / "steps" / "hpo_combination.py")
TRAINING = {"max_epochs": 3, "learning_rate": 1e-3, "seed": 42}
DIGEST = "0" * 64
LIBRARIES = {"tensorflow-cpu": "2.21.0", "keras": "3.15.1", "numpy": "2.4.6"}


def key(**changes: Any) -> str:
    """The key of a base run with ``changes`` to its ingredients."""
    ingredients: dict[str, Any] = {"params": params(), "training": TRAINING, "budget": None, "digest": DIGEST, "libraries": LIBRARIES}
    ingredients.update(changes)
    return run_cache.run_key(**ingredients)


def test_the_key_changes_with_each_ingredient() -> None:
    base = key()
    changed = {
        "hyperparameter": key(params=params(dropout_rate=0.4)),
        "callback": key(params=params(early_stopping_patience=1)),
        **{f"training {name}": key(training={**TRAINING, name: TRAINING[name] * 2}) for name in TRAINING},
        "budget": key(budget={"resource": "epochs", "value": 2.0}),
        "another budget": key(budget={"resource": "rows", "value": 2.0}),
        "arrays": key(digest="1" * 64),
        "libraries": key(libraries={**LIBRARIES, "keras": "3.16.0"}),
    }
    assert base not in changed.values() and len(set(changed.values())) == len(changed)


def test_the_key_ignores_what_no_run_depends_on(monkeypatch: pytest.MonkeyPatch) -> None:
    base = key()
    # A width the network does not use (units_4 of a 2-hidden-layer network), the order of
    # the settings, an empty budget (the full one): the same run.
    assert key(params=params(units_4=8)) == base
    assert key(params=dict(reversed(params().items()))) == base
    assert key(training=dict(reversed(TRAINING.items()))) == base
    assert key(budget={}) == base
    monkeypatch.setattr(run_cache, "FORMAT", run_cache.FORMAT + 1)
    assert key() != base  # a new format retires every run


def test_the_arrays_digest_is_of_the_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    first.write_bytes(b"arrays")
    second.write_bytes(b"arrays!")
    assert run_cache.arrays_digest(first) != run_cache.arrays_digest(second)
    shutil.copy(first, second)
    assert run_cache.arrays_digest(first) == run_cache.arrays_digest(second)


def test_a_stored_run_is_reused_only_on_an_exact_key(tmp_path: Path) -> None:
    cache = run_cache.RunCache(tmp_path / "hpo/run_cache")
    run = {"params": params(), "folds": [{"fold": 0, "val_accuracy": 0.5}]}
    cache.put(key(), run)
    assert json.loads(cache.path(key()).read_text()) == {**run, "key": key()}  # the stored run records its key
    assert cache.get(key()) == run
    assert cache.get(key(budget={"resource": "epochs", "value": 2.0})) is None
    # A file under a name that is not its key, and one that is not JSON: misses.
    other = key(digest="1" * 64)
    shutil.copy(cache.path(key()), cache.path(other))
    assert cache.get(other) is None
    cache.path(other).write_text("{not json")
    assert cache.get(other) is None
    assert not [p for p in cache.folder.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_the_cache_folder_is_under_results_dir() -> None:
    assert run_cache.cache_folder("out") == Path("out/hpo/run_cache")


# Three callback variants (one family, sharing epochs) and another batch size (same graph).
COMBOS = {
    "a": params(batch_size=32),
    "b": params(batch_size=32, early_stopping_patience=1, reduce_lr_patience=1),
    "c": params(batch_size=32, early_stopping_patience=2, reduce_lr_factor=0.2),
    "d": params(batch_size=64),
}


@pytest.fixture(scope="module")
def arrays_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from workflow_scripts.features import pipeline as features

    path = tmp_path_factory.mktemp("arrays") / "arrays.npz"
    features.save_arrays(path, fold_arrays())
    return path


def run_step(arrays_path: Path, results_dir: Path, output: Path, family: dict[str, Any], **step_params: Any) -> dict[str, Any]:
    """hpo_combination.py as hpo_family runs it (one member: as hpo_combination), with its run
    cache under ``results_dir``; the output file's content."""
    if len(family) == 1 and not step_params.pop("as_family", False):
        (combo,) = family
        wildcards, step_params = {"combo": combo}, {**step_params, "hyperparameters": family[combo]}
    else:
        wildcards, step_params = {"family": "f"}, {**step_params, "family": family}
    smk = SimpleNamespace(
        input=[str(arrays_path)],
        output=[str(output)],
        log=[],
        rule="hpo_family" if "family" in step_params else "hpo_combination",
        threads=1,
        wildcards=SimpleNamespace(**wildcards),
        params=SimpleNamespace(training=TRAINING, **step_params),
        config={"results_dir": str(results_dir)},
    )
    runpy.run_path(STEP, init_globals={"snakemake": smk})  # not __main__: no fast exit here
    content = json.loads(output.read_text())
    assert set(content) == {"runs", "timing"} and list(content["runs"]) == list(family)
    return content


def keys(arrays_path: Path, family: dict[str, Any], budget: dict[str, Any] | None = None) -> dict[str, str]:
    """The members' keys in the run cache (the step's, with this environment's libraries)."""
    digest = run_cache.arrays_digest(arrays_path)
    return {combo: run_cache.run_key(p, TRAINING, budget, digest) for combo, p in family.items()}


def counts(content: dict[str, Any]) -> tuple[int, int, int]:
    timing = content["timing"]
    return timing["combinations_in_job"], timing["combinations_reused"], timing["combinations_trained"]


def test_a_job_trains_only_the_members_missing_from_the_cache(arrays_path: Path, tmp_path: Path) -> None:
    """As after a job stopped part way: some members' runs in the cache. The job trains the
    others together; every run equals the whole family's (the reused ones exactly)."""
    full = run_step(arrays_path, tmp_path / "full", tmp_path / "full.json", COMBOS)
    assert counts(full) == (4, 0, 4)
    cached, key_of = run_cache.cache_folder(tmp_path / "full"), keys(arrays_path, COMBOS)
    assert sorted(p.stem for p in cached.glob("*.json")) == sorted(key_of.values())
    for combo, k in key_of.items():  # each stored run is the job's, recording its key
        assert json.loads((cached / f"{k}.json").read_text()) == {**full["runs"][combo], "key": k}
    # Another results_dir holding the runs of a and d only.
    partial = run_cache.cache_folder(tmp_path / "partial")
    partial.mkdir(parents=True)
    for combo in ("a", "d"):
        shutil.copy(cached / f"{key_of[combo]}.json", partial)
    resumed = run_step(arrays_path, tmp_path / "partial", tmp_path / "resumed.json", COMBOS)
    assert counts(resumed) == (4, 2, 2)
    trained_epochs = sum(f["epochs"] for c in "bc" for f in resumed["runs"][c]["folds"])
    assert 0 < resumed["timing"]["epochs_computed"] < trained_epochs  # b and c shared their common epochs
    for combo in ("a", "d"):
        assert resumed["runs"][combo] == full["runs"][combo]  # as it is, timings included
    for combo in ("b", "c"):
        assert without_timing(resumed["runs"][combo]) == without_timing(full["runs"][combo]), combo
    assert len(list(partial.glob("*.json"))) == 4
    # Any packing of the same networks now trains nothing, without importing TensorFlow's training.
    for combo in COMBOS:
        alone = run_step(arrays_path, tmp_path / "partial", tmp_path / f"{combo}.json", {combo: COMBOS[combo]})
        assert counts(alone) == (1, 1, 0) and alone["timing"]["epochs_computed"] == 0
        assert alone["runs"][combo] == resumed["runs"][combo]


def test_a_changed_ingredient_trains_again(arrays_path: Path, tmp_path: Path) -> None:
    """The cache of another budget, or of other arrays' bytes, is not reused."""
    member = {"b": COMBOS["b"]}
    first = run_step(arrays_path, tmp_path, tmp_path / "first.json", member, as_family=True)
    assert counts(first) == (1, 0, 1) and "budget" not in first["runs"]["b"]
    budget = {"resource": "epochs", "value": 2.0}
    short = run_step(arrays_path, tmp_path, tmp_path / "short.json", member, budget=budget)
    assert counts(short) == (1, 0, 1) and short["runs"]["b"]["budget"] == budget
    assert all(fold["epochs"] <= 2 for fold in short["runs"]["b"]["folds"])
    assert counts(run_step(arrays_path, tmp_path, tmp_path / "again.json", member, budget=budget)) == (1, 1, 0)
    other = tmp_path / "other" / "arrays.npz"
    other.parent.mkdir()
    other.write_bytes(arrays_path.read_bytes() + b"\0")  # other bytes (np.load ignores the trailing byte)
    moved = run_step(other, tmp_path, tmp_path / "moved.json", member)
    assert counts(moved) == (1, 0, 1) and without_timing(moved["runs"]["b"]) == without_timing(first["runs"]["b"])
    stored = {p.stem for p in run_cache.cache_folder(tmp_path).glob("*.json")}
    assert stored == {*keys(arrays_path, member).values(), *keys(arrays_path, member, budget).values(), *keys(other, member).values()}


def test_train_combinations_hands_over_each_run_when_it_is_complete() -> None:
    """A job stopped after its first sharing group keeps that group's runs (the step stores
    each as ``on_run`` hands it over)."""
    arrays = fold_arrays()
    combos = [COMBOS["a"], COMBOS["d"], COMBOS["b"]]  # groups: (a, b), (d)
    handed: list[int] = []

    def stop_after_the_first_group(index: int, run: dict[str, Any]) -> None:
        assert len(run["folds"]) == 2
        handed.append(index)
        if index == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        hpo.train_combinations(arrays, combos, TRAINING, 42, on_run=stop_after_the_first_group)
    assert handed == [0, 2]  # the group of a and b, complete; d never trained
