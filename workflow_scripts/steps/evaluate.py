"""Rule evaluate: every model of the registry on the held-out test set; metrics and figures."""

import json
from pathlib import Path

from workflow_scripts.core.step import run_step
from workflow_scripts.models.network import configure_threads


def main(smk) -> None:
    configure_threads(1)
    import keras
    import numpy as np
    import pandas as pd

    from workflow_scripts.bundle import store as bundle
    from workflow_scripts.core.fileio import atomic_path, write_json_atomic
    from workflow_scripts.evaluation import evaluation_figures as figures
    from workflow_scripts.evaluation import metrics as evaluation
    from workflow_scripts.features import pipeline as features
    from workflow_scripts.models import registry as models

    arrays = features.load_arrays(smk.input.arrays)
    classes = [str(c) for c in arrays["classes"]]
    X_test, y_test = arrays["X_test"], arrays["y_test"]
    fitted = {"network": keras.models.load_model(smk.input.network, safe_mode=True)}
    fitted.update({name: bundle.load_skops(path) for name, path in zip(models.ESTIMATORS, smk.input.estimators, strict=True)})
    songs = pd.read_parquet(smk.input.songs, columns=["row", "Artist"]).set_index("row")["Artist"]
    train = features.training_set(arrays)
    fitted["artist lookup"] = models.fit_artist_lookup(songs, train.rows, train.y, len(classes))
    probas = models.probabilities(fitted, X_test, songs.loc[arrays["row_test"]], smk.params.ensemble)
    results = {name: evaluation.metrics(y_test, proba, classes) for name, proba in probas.items()}
    history = json.loads(Path(smk.input.history).read_text())
    write_json_atomic(
        smk.output.metrics,
        {
            "classes": classes,
            "n_test": int(len(y_test)),
            "n_train": train.n_songs,
            "network_combo": history["combo"],
            "network_params": history["params"],
            "ensemble": list(smk.params.ensemble),
            "models": results,
        },
    )
    table = pd.DataFrame([{"model": n, **{k: r[k] for k in ("accuracy", "auc_pr_macro", "auc_pr_micro")}} for n, r in results.items()])
    with atomic_path(smk.output.table) as tmp:
        table.to_csv(tmp, index=False)
    long = pd.concat(
        [
            pd.DataFrame({"row": arrays["row_test"], "model": name, "genre": np.asarray(classes)[y_test]}).join(
                pd.DataFrame(proba, columns=classes)
            )
            for name, proba in probas.items()
        ],
        ignore_index=True,
    )
    with atomic_path(smk.output.probabilities) as tmp:
        long.to_parquet(tmp, index=False)
    figures.confusion_matrices(results, classes, smk.output.confusion)
    figures.pr_curves(y_test, probas, classes, smk.output.pr_curves)
    figures.training_curves(history, smk.output.curves)
    figures.comparison(results, smk.output.comparison)


run_step(main, snakemake)  # noqa: F821
