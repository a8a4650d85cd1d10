TRAINING = config["training"]
# Minutes a grid job may take: measured at most ~3 min a family, ~11 min an architecture.
PACK_RUNTIME = {"combination": 10, "family": 30, "architecture": 90}
FAMILY_RUNTIME = PACK_RUNTIME[SEARCH_JOBS]


rule prepare_features:
    input:
        songs=f"{RESULTS}/data/selected.parquet",
        split=f"{RESULTS}/data/split.parquet",
    output:
        f"{RESULTS}/features/arrays.npz",
    log:
        f"{LOGS}/prepare_features.log",
    benchmark:
        f"{BENCH}/prepare_features.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        features=config["features"],
        early_stopping_fraction=TRAINING["early_stopping_fraction"],
        seed=TRAINING["seed"],
    script:
        "../workflow_scripts/steps/prepare_features.py"


rule hpo_combination:
    input:
        f"{RESULTS}/features/arrays.npz",
    output:
        f"{RESULTS}/hpo/runs/{{combo}}.json",
    log:
        f"{LOGS}/hpo/{{combo}}.log",
    benchmark:
        f"{BENCH}/hpo/{{combo}}.tsv"
    group:
        "hpo"
    conda:
        "../envs/train.yaml"
    threads: TRAINING["threads"]
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        hyperparameters=lambda wildcards: COMBOS[wildcards.combo],
        training=TRAINING,
    script:
        "../workflow_scripts/steps/hpo_combination.py"


rule hpo_family:
    input:
        f"{RESULTS}/features/arrays.npz",
    output:
        f"{RESULTS}/hpo/families/{{family}}.json",
    log:
        f"{LOGS}/hpo/families/{{family}}.log",
    benchmark:
        f"{BENCH}/hpo/families/{{family}}.tsv"
    group:
        f"hpo_{SEARCH_JOBS}"
    conda:
        "../envs/train.yaml"
    threads: TRAINING["threads"]
    resources:
        mem_mb=2000,
        runtime=FAMILY_RUNTIME,
    params:
        family=lambda wildcards: {combo: COMBOS[combo] for combo in FAMILIES[wildcards.family]},
        training=TRAINING,
    script:
        "../workflow_scripts/steps/hpo_combination.py"


rule hpo_round_combination:
    input:
        f"{RESULTS}/features/arrays.npz",
    output:
        f"{RESULTS}/hpo/halving/round{{round}}/runs/{{combo}}.json",
    log:
        f"{LOGS}/hpo/halving/round{{round}}/{{combo}}.log",
    benchmark:
        f"{BENCH}/hpo/halving/round{{round}}/{{combo}}.tsv"
    group:
        "hpo"
    conda:
        "../envs/train.yaml"
    threads: TRAINING["threads"]
    resources:
        mem_mb=1500,
        runtime=10,
    params:
        hyperparameters=lambda wildcards: COMBOS[wildcards.combo],
        training=TRAINING,
        budget=lambda wildcards: ROUNDS[int(wildcards.round)].budget_spec(),
    script:
        "../workflow_scripts/steps/hpo_combination.py"


rule hpo_round_family:
    input:
        arrays=f"{RESULTS}/features/arrays.npz",
        # which members survived (the file's name holds their hash, so its time may be ignored)
        survivors=lambda wildcards: (
            ancient(halving_summary(int(wildcards.round) - 1)) if int(wildcards.round) else []
        ),
    output:
        f"{RESULTS}/hpo/halving/round{{round}}/families/{{family}}-{{members}}.json",
    log:
        f"{LOGS}/hpo/halving/round{{round}}/families/{{family}}-{{members}}.log",
    benchmark:
        f"{BENCH}/hpo/halving/round{{round}}/families/{{family}}-{{members}}.tsv"
    conda:
        "../envs/train.yaml"
    threads: TRAINING["threads"]
    resources:
        mem_mb=2000,
        runtime=lambda wildcards: PACK_RUNTIME[round_pack_kind(wildcards)],
    params:
        family=lambda wildcards: {combo: COMBOS[combo] for combo in PACKS[wildcards.family]},
        training=TRAINING,
        budget=lambda wildcards: ROUNDS[int(wildcards.round)].budget_spec(),
    script:
        "../workflow_scripts/steps/hpo_combination.py"


checkpoint halving_round:
    input:
        runs=lambda wildcards: halving_run_files(int(wildcards.round)),
        previous=lambda wildcards: (
            halving_summary(int(wildcards.round) - 1) if int(wildcards.round) else []
        ),
    output:
        f"{RESULTS}/hpo/halving/round{{round}}.json",
    log:
        f"{LOGS}/hpo/halving/round{{round}}.log",
    benchmark:
        f"{BENCH}/hpo/halving/round{{round}}.tsv"
    localrule: True
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        round=lambda wildcards: {
            "round": int(wildcards.round),
            "resource": ROUNDS[int(wildcards.round)].resource,
            "budget": ROUNDS[int(wildcards.round)].budget,
            "factor": config["search"]["halving"]["factor"],
        },
    script:
        "../workflow_scripts/steps/halving_round.py"


rule write_grid:
    output:
        f"{RESULTS}/hpo/grid.csv",
    log:
        f"{LOGS}/write_grid.log",
    localrule: True
    conda:
        "../envs/data.yaml"
    params:
        combos=COMBOS,
    script:
        "../workflow_scripts/steps/write_grid.py"


rule aggregate_hpo:
    input:
        grid=f"{RESULTS}/hpo/grid.csv",
        runs=hpo_run_files,
        rounds=[halving_summary(r.index) for r in ROUNDS[:-1]],
    output:
        table=f"{RESULTS}/hpo/cv_results.csv",
        selection=f"{RESULTS}/hpo/selection.json",
        effects=report(
            f"{RESULTS}/hpo/hyperparameter_effects.png",
            category="Grid search",
            caption="../report/hyperparameter_effects.rst",
        ),
        tradeoff=report(
            f"{RESULTS}/hpo/score_vs_gap.png",
            category="Grid search",
            caption="../report/score_vs_gap.rst",
        ),
    log:
        f"{LOGS}/aggregate_hpo.log",
    benchmark:
        f"{BENCH}/aggregate_hpo.tsv"
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        max_gap=config["selection"]["max_gap"],
        search={
            "strategy": config["search"]["strategy"],
            "final_round": (
                {
                    "round": ROUNDS[-1].index,
                    "resource": ROUNDS[-1].resource,
                    "budget": ROUNDS[-1].budget,
                }
                if ROUNDS
                else None
            ),
        },
    script:
        "../workflow_scripts/steps/aggregate_hpo.py"


rule plot_halving:
    input:
        table=f"{RESULTS}/hpo/cv_results.csv",
        selection=f"{RESULTS}/hpo/selection.json",
    output:
        report(
            f"{RESULTS}/hpo/halving_rounds.png",
            category="Grid search",
            caption="../report/halving_rounds.rst",
        ),
    log:
        f"{LOGS}/plot_halving.log",
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../workflow_scripts/steps/plot_halving.py"
