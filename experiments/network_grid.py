"""Network shapes for the artist-disjoint features, and the rule that picks one (issue 23).

Reads the outer folds' arrays of a finished artist-disjoint run and, on each of the 5 outer
folds, trains each network of :data:`SHAPES` as the workflow's grid does (its 3 inner
artist-grouped folds: fit, early-stopping and validation rows) and then on the whole training
part (the outer evaluation's fit and early-stopping rows), one seed:

    .venv/bin/snakemake --cores 2 --configfile configs/study.yaml configs/artist_disjoint.yaml \
        --config results_dir=/tmp/ad -- /tmp/ad/outer/{0,1,2,3,4}/metrics.json
    .venv/bin/python experiments/network_grid.py /tmp/ad

Prints, per fold, each shape's inner validation accuracy and train-validation gap and its test
accuracy, song by song and pooled over each test artist's songs; then the mean ± sample std
over the folds per shape (a shape read off this table is chosen on the test folds: an upper
bound, not a result) and per selection rule, which sees the inner figures only:

- ``gap_or_smallest``: ``search.hpo.choose``: the best validation accuracy among the shapes
  whose gap is at most ``max_gap``; when none is, the smallest gap.
- ``gap_band``: as above, but when none qualifies, the best validation accuracy among the
  shapes whose gap is within ``max_gap`` of the smallest.
- ``best_val``: the best validation accuracy, gaps ignored.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from experiments import fold_table  # noqa: E402
from workflow_scripts.evaluation import metrics  # noqa: E402
from workflow_scripts.features import pipeline as features  # noqa: E402
from workflow_scripts.models import network  # noqa: E402
from workflow_scripts.search import hpo  # noqa: E402

TRAINING = {"learning_rate": 0.001, "max_epochs": 200}
COMMON = {
    "activation": "LeakyReLU",
    "batch_size": 128,
    "early_stopping_patience": 20,
    "reduce_lr_factor": 0.5,
    "reduce_lr_patience": 5,
    "reduce_lr_min_lr": 1e-5,
}
SHAPES = {
    "study 128-256-512 d0.3": {"num_hidden_layers": 2, "units_1": 128, "units_2": 256, "units_3": 512, "dropout_rate": 0.3},
    "64-64 d0.3": {"num_hidden_layers": 1, "units_1": 64, "units_2": 64, "dropout_rate": 0.3},
    "128-128 d0.5": {"num_hidden_layers": 1, "units_1": 128, "units_2": 128, "dropout_rate": 0.5},
    "256-256-256 d0.5": {"num_hidden_layers": 2, "units_1": 256, "units_2": 256, "units_3": 256, "dropout_rate": 0.5},
    "512-512-512 d0.5 b256": {
        "num_hidden_layers": 2,
        "units_1": 512,
        "units_2": 512,
        "units_3": 512,
        "dropout_rate": 0.5,
        "batch_size": 256,
    },
    "128x4 d0.5": {"num_hidden_layers": 3, "units_1": 128, "units_2": 128, "units_3": 128, "units_4": 128, "dropout_rate": 0.5},
}
MAX_GAP = 0.05
SEED = 42


def rules(cv: pd.DataFrame) -> dict[str, str]:
    """The shape each selection rule picks from the inner figures (a CV table as the grid's:
    ``combo``, ``mean_val_accuracy``, ``std_val_accuracy``, ``mean_train_accuracy``, ``gap``,
    ``mean_epochs``), in the workflow's tie order (``search.hpo.ranked``)."""
    eligible = cv[cv["gap"] <= MAX_GAP]
    band = cv[cv["gap"] <= cv["gap"].min() + MAX_GAP]
    return {
        "gap_or_smallest": hpo.choose(cv, MAX_GAP)["combo"],
        "gap_band": hpo.ranked(eligible if len(eligible) else band)["combo"].iloc[0],
        "best_val": hpo.ranked(cv)["combo"].iloc[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, help="results_dir of a finished artist-disjoint run (outer folds)")
    args = parser.parse_args()
    network.configure_threads(1)
    artist_of_row = pd.read_parquet(args.results / "data" / "selected.parquet").set_index("row")["Artist"]
    scores: dict[str, list[tuple[float, ...]]] = {}
    for k in range(5):
        a = features.load_arrays(args.results / "outer" / str(k) / "arrays.npz")
        classes, n_classes = list(a["classes"]), len(a["classes"])
        test_artists = artist_of_row.loc[a["row_test"]].to_numpy()
        inner, test = {}, {}
        for name, shape in SHAPES.items():
            params = {**COMMON, **shape}
            train, val, epochs = [], [], []
            for j in range(int(a["n_folds"])):
                fit = [a[f"{s}_{j}"] for s in ("X_fit", "y_fit", "X_es", "y_es")]
                model, history = network.fit_network(params, *fit, n_classes, TRAINING, SEED)
                epochs.append(history["epochs"])
                train.append(network.accuracy(model, a[f"X_fit_{j}"], a[f"y_fit_{j}"])[0])
                val.append(network.accuracy(model, a[f"X_val_{j}"], a[f"y_val_{j}"])[0])
            model, _ = network.fit_network(params, a["X_fit"], a["y_fit"], a["X_es"], a["y_es"], n_classes, TRAINING, SEED)
            proba = network.predict_proba(model, a["X_test"])
            song = metrics.metrics(a["y_test"], proba, classes)
            pooled = metrics.metrics(a["y_test"], metrics.pool_by_artist(proba, test_artists), classes)
            inner[name] = {
                "combo": name,
                "mean_val_accuracy": float(np.mean(val)),
                "std_val_accuracy": float(np.std(val)),
                "mean_train_accuracy": float(np.mean(train)),
                "gap": float(np.mean(train) - np.mean(val)),
                "mean_epochs": float(np.mean(epochs)),
            }
            test[name] = (song["accuracy"], pooled["accuracy"], song["auc_pr_macro"])
            print(
                f"fold {k} {name:24s} val {inner[name]['mean_val_accuracy']:.4f} gap {inner[name]['gap']:.4f} "
                f"song {song['accuracy']:.4f} pooled {pooled['accuracy']:.4f} macro AUC-PR {song['auc_pr_macro']:.3f}",
                flush=True,
            )
            scores.setdefault(name, []).append((inner[name]["mean_val_accuracy"], inner[name]["gap"], *test[name]))
        for rule, name in rules(pd.DataFrame(list(inner.values()))).items():
            print(f"fold {k} rule {rule} picks {name}", flush=True)
            scores.setdefault(f"rule {rule}", []).append((inner[name]["mean_val_accuracy"], inner[name]["gap"], *test[name]))
    fold_table.print_table(scores, ["inner validation accuracy", "gap", "song accuracy", "pooled accuracy", "macro AUC-PR"])


if __name__ == "__main__":
    main()
