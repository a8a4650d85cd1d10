# Stage search: the grid's networks, trained in jobs packed as search.jobs says, searched as
# search.strategy says (workflow_scripts/search/strategies.py), aggregated and chosen.
from workflow_scripts.search import grid as grid_lib  # noqa: E402
from workflow_scripts.search import strategies  # noqa: E402
from workflow_scripts.search.round_files import RoundFiles  # noqa: E402

SEARCH = config["search"]
COMBOS = grid_lib.expand(config["grid"])
# The combinations each job of rule hpo_family trains together (search.jobs).
FAMILIES = {} if SEARCH["jobs"] == "combination" else grid_lib.families(COMBOS, SEARCH["jobs"])
# The combinations each job of a round before the last trains together (search.halving.jobs).
_ROUND_JOBS = SEARCH["halving"]["jobs"]
ROUND_PACKS = {} if _ROUND_JOBS == "combination" else grid_lib.families(COMBOS, _ROUND_JOBS)
STRATEGY = strategies.create(config)
# Every strategy's rounds; the last is the full budget, in the grid's own files.
ROUNDS = STRATEGY.rounds(list(COMBOS))
FINAL = ROUNDS[-1]
# Which files each round is made of (the earlier rounds', and the last round's jobs of part
# of a family, under ROUND_DIR).
PLAN = RoundFiles(RESULTS, STRATEGY, ROUNDS, list(COMBOS), FAMILIES, ROUND_PACKS)
ROUND_DIR = PLAN.folder
# Minutes a grid job may take: measured at most ~3 min a family, ~11 min an architecture.
PACK_RUNTIME = {"combination": 10, "family": 30, "architecture": 90}


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
    threads: config["training"]["threads"]
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
        f"hpo_{SEARCH['jobs']}"
    conda:
        "../envs/train.yaml"
    threads: config["training"]["threads"]
    resources:
        mem_mb=2000,
        runtime=PACK_RUNTIME[SEARCH["jobs"]],
    params:
        family=lambda wildcards: {combo: COMBOS[combo] for combo in FAMILIES[wildcards.family]},
        training=TRAINING,
    script:
        "../workflow_scripts/steps/hpo_combination.py"


rule hpo_round_combination:
    input:
        f"{RESULTS}/features/arrays.npz",
    output:
        f"{ROUND_DIR}/runs/{{combo}}.json",
    log:
        f"{LOGS}/hpo/{STRATEGY.name}/round{{round}}/{{combo}}.log",
    benchmark:
        f"{BENCH}/hpo/{STRATEGY.name}/round{{round}}/{{combo}}.tsv"
    group:
        "hpo"
    conda:
        "../envs/train.yaml"
    threads: config["training"]["threads"]
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
        f"{RESULTS}/features/arrays.npz",
    output:
        f"{ROUND_DIR}/families/{{family}}-{{members}}.json",
    log:
        f"{LOGS}/hpo/{STRATEGY.name}/round{{round}}/families/{{family}}-{{members}}.log",
    benchmark:
        f"{BENCH}/hpo/{STRATEGY.name}/round{{round}}/families/{{family}}-{{members}}.tsv"
    conda:
        "../envs/train.yaml"
    threads: config["training"]["threads"]
    resources:
        mem_mb=2000,
        runtime=lambda wildcards: PACK_RUNTIME[
            PLAN.pack_kind(int(wildcards.round), SEARCH["jobs"], _ROUND_JOBS)
        ],
    params:
        # the pack's members among the round's candidates (their hash is in the file name)
        family=lambda wildcards: {
            combo: COMBOS[combo]
            for combo in PLAN.members(
                int(wildcards.round), wildcards.family, wildcards.members, checkpoints
            )
        },
        training=TRAINING,
        budget=lambda wildcards: ROUNDS[int(wildcards.round)].budget_spec(),
    script:
        "../workflow_scripts/steps/hpo_combination.py"


# A round of a strategy with several (successive halving): its table and its survivors.
checkpoint halving_round:
    input:
        runs=lambda wildcards: PLAN.run_files(int(wildcards.round), checkpoints),
        previous=lambda wildcards: (
            PLAN.summary(int(wildcards.round) - 1) if int(wildcards.round) else []
        ),
    output:
        f"{RESULTS}/hpo/{STRATEGY.name}/round{{round}}.json",
    log:
        f"{LOGS}/hpo/{STRATEGY.name}/round{{round}}.log",
    benchmark:
        f"{BENCH}/hpo/{STRATEGY.name}/round{{round}}.tsv"
    localrule: True
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        round=lambda wildcards: STRATEGY.round_record(ROUNDS[int(wildcards.round)]),
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
        runs=lambda wildcards: PLAN.run_files(FINAL.index, checkpoints),
        rounds=[PLAN.summary(r.index) for r in ROUNDS[:-1]],
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
        search=STRATEGY.aggregate_record(ROUNDS, COMBOS),
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


# What `snakemake` builds of this stage: the choice, and with several rounds their summaries
# and figure. (The summaries are targets of their own: a job that depends on a checkpoint is
# judged only once the checkpoint has run, so without them a finished grid run switched to
# halving would keep its old choice; found by the walk in tests/test_workflow.py.)
SEARCH_TARGETS = [f"{RESULTS}/hpo/selection.json"] + (
    [PLAN.summary(r.index) for r in ROUNDS[:-1]] + [f"{RESULTS}/hpo/halving_rounds.png"]
    if len(ROUNDS) > 1
    else []
)
