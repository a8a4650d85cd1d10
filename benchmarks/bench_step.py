"""What two start-up/exit measures save a grid job: the fast exit and scikit-learn kept out.

Issue 15 asked whether ``step.exit_now`` (``os._exit`` after a training job's output is
written, skipping the interpreter's teardown of TensorFlow) and ``model.load_backend``
keeping scikit-learn out of Keras' import earn their place. Two measurements, side by side,
interleaved, medians:

1. One small ``hpo_family`` job (4 callback variants of a 32-32-32 network, 3 folds of
   synthetic arrays, at most 20 epochs) through Snakemake (``--forcerun hpo_family``,
   ``--cores 1``), for copies of the repository's HEAD (``git archive``): ``now`` as it is,
   ``no-fast-exit`` (run_step without exit_now), ``no-sklearn-block`` (load_backend without
   the block). CPU = user + system of Snakemake and its job (``os.wait4``).
2. A fresh process loading TensorFlow + Keras: ``model.load_backend()`` against a plain
   ``import keras`` (which imports scikit-learn), CPU seconds.

    .venv/bin/python benchmarks/bench_step.py              # 3 runs of each (~10 min on 2 loaded cores)
    .venv/bin/python benchmarks/bench_step.py --repeats 5
Writes benchmarks/results/step.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

import common
import numpy as np
import yaml

GRID = {
    "num_hidden_layers": [2],
    "units_1": [32],
    "units_2": [32],
    "units_3": [32],
    "units_4": [64],
    "dropout_rate": [0.3],
    "activation": ["relu"],
    "batch_size": [128],
    "early_stopping_patience": [3, 5],
    "reduce_lr_factor": [0.5],
    "reduce_lr_patience": [2, 3],
    "reduce_lr_min_lr": [1e-5],
}
# The variants: (file, the text as it is, what replaces it).
EDITS = {
    "now": None,
    "no-fast-exit": ("workflow_scripts/steps/hpo_combination.py", 'fast_exit=__name__ == "__main__"', "fast_exit=False"),
    "no-sklearn-block": (
        "workflow_scripts/models/network.py",
        'block = "sklearn" not in sys.modules and "keras" not in sys.modules',
        "block = False",
    ),
}
IMPORTS = {
    "load_backend": "from workflow_scripts.models import network as model\nmodel.configure_threads(1)\nmodel.load_backend()",
    "import keras": "from workflow_scripts.models import network as model\nmodel.configure_threads(1)\nimport keras",
}


def arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    out: dict[str, np.ndarray] = {"classes": np.array(list("abcdef")), "n_folds": np.array(3)}
    for k in range(3):
        for part, n in (("fit", 480), ("es", 120), ("val", 200)):
            X = rng.normal(size=(n, 19)).astype("float32")
            out[f"X_{part}_{k}"], out[f"y_{part}_{k}"] = X, np.digitize(X[:, 0], [-1, -0.4, 0, 0.4, 1]).astype("int32")
    return out


def copy_of_head(target: Path, edit: tuple[str, str, str] | None) -> Path:
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=common.REPO, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    if edit:
        path, old, new = edit
        text = (target / path).read_text()
        if old not in text:
            raise SystemExit(f"{path} no longer has {old!r}: update EDITS")
        (target / path).write_text(text.replace(old, new))
    return target


def cpu_of(command: list[str], cwd: Path, **kwargs: Any) -> tuple[float, float]:
    """CPU (user + system, the process and its children) and wall seconds of a command."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, **kwargs)
    _, status, usage = os.wait4(process.pid, 0)
    if status:
        raise SystemExit(f"{command} failed")
    return usage.ru_utime + usage.ru_stime, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(common.REPO))
    from workflow_scripts.search import grid

    family = next(iter(grid.families(grid.expand(GRID))))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    with tempfile.TemporaryDirectory(prefix="bench-step-") as scratch:
        base = Path(scratch)
        repos = {name: copy_of_head(base / name / "repo", edit) for name, edit in EDITS.items()}
        jobs: dict[str, list[dict[str, float]]] = {name: [] for name in EDITS}
        imports: dict[str, list[float]] = {name: [] for name in IMPORTS}
        for repeat in range(args.repeats):
            for name, repo in repos.items():
                results = base / name / "results"
                (results / "features").mkdir(parents=True, exist_ok=True)
                np.savez(results / "features" / "arrays.npz", **arrays())
                config = yaml.safe_load((repo / "config.yaml").read_text())
                config.update(results_dir=str(results), grid=GRID, search={**config["search"], "jobs": "family"}, **common.STUDY_DATA)
                config["training"]["max_epochs"] = 20
                configfile = common.write_yaml(base / name / "config.yaml", config)
                target = results / "hpo" / "families" / f"{family}.json"
                target.unlink(missing_ok=True)
                command = [sys.executable, "-m", "snakemake", "--cores", "1", "--quiet", "--allowed-rules", "hpo_family"]
                command += ["--forcerun", "hpo_family", "--configfile", str(configfile), "--", str(target)]
                with open(base / name / "snakemake.log", "w") as log:
                    cpu, wall = cpu_of(command, repo, stderr=log)
                jobs[name].append({"cpu": cpu, "wall": wall})
                print(f"job {repeat} {name}: {cpu:.2f} CPU s, {wall:.1f} s wall", flush=True)
            for name, code in IMPORTS.items():
                cpu, _ = cpu_of([sys.executable, "-c", code], repos["now"], stderr=subprocess.DEVNULL, env=env)
                imports[name].append(cpu)
                print(f"import {repeat} {name}: {cpu:.2f} CPU s", flush=True)
    job_cpu = {name: common.median(r["cpu"] for r in runs) for name, runs in jobs.items()}
    import_cpu = {name: common.median(v) for name, v in imports.items()}
    print(common.table([[n, job_cpu[n], job_cpu[n] - job_cpu["now"]] for n in EDITS], ["hpo_family job", "CPU s (median)", "vs now"]))
    print(common.table([[n, import_cpu[n]] for n in IMPORTS], ["loading TensorFlow + Keras", "CPU s (median)"]))
    path = common.save(
        "step.json",
        {"command": " ".join(sys.argv), "jobs": jobs, "imports": imports, "medians": {"job_cpu": job_cpu, "import_cpu": import_cpu}},
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
