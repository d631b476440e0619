from faceaudit.study.result_files import AUDIT_FILES, FOLDERS


def audit_outputs():
    """Every file of the audit (study.result_files.AUDIT_FILES), by name: the audit script writes each by its name."""
    return {name: directory(run_pattern(name)) if name in FOLDERS else run_pattern(name) for name in AUDIT_FILES}


def eval_set_dataset_and_split(wildcards):
    """The dataset and split an eval set reads: the run's own, or another dataset's for a cross-dataset test."""
    return labels.eval_set_source(get_run(wildcards)["dataset"], wildcards.eval_set)


def get_eval_arrays(wildcards):
    dataset, split = eval_set_dataset_and_split(wildcards)
    files = preprocessed_files(get_run(wildcards), dataset)
    return {
        "model": rules.train.output.model.format(run=wildcards.run),
        "images": files[f"{split}_images"],
        "rows": files[f"{split}_rows"],
    }


def seed_runs(wildcards):
    return study_name(SEED_CONFIGURATIONS, wildcards.configuration, "seeded configuration")


def seed_wildcards(wildcards):
    """The wildcards of the configuration's first seed run, for the functions that read a run's settings (all of a
    configuration's seeds share dataset, targets and eval sets)."""
    first = seed_runs(wildcards)[0]
    return types.SimpleNamespace(run=first, eval_set=wildcards.eval_set)


def get_seed_predictions(wildcards):
    """Every seed's predictions of the eval set, in seed order (the order of the rule's `runs` param)."""
    return [
        rules.predict.output.predictions.format(run=name, eval_set=wildcards.eval_set) for name in seed_runs(wildcards)
    ]


def get_comparison(wildcards):
    return study_name(COMPARISONS, wildcards.configuration, "compared configuration")


def get_comparison_predictions(wildcards):
    """Both sides' predictions of the eval set, each side in the order of its runs (the rule's `comparison` param)."""
    comparison = get_comparison(wildcards)
    return {
        side: [rules.audit.input.predictions.format(run=name, eval_set=wildcards.eval_set) for name in comparison[side]]
        for side in ("runs", "baseline_runs")
    }


def get_comparison_evaluation_setting(*keys):
    setting = get_evaluation_setting(*keys)
    return lambda wildcards: setting(
        types.SimpleNamespace(run=get_comparison(wildcards)["runs"][0], eval_set=wildcards.eval_set)
    )


def get_seed_evaluation_setting(*keys):
    setting = get_evaluation_setting(*keys)
    return lambda wildcards: setting(seed_wildcards(wildcards))


rule predict:
    input:
        unpack(get_eval_arrays),
    output:
        predictions=run_pattern("predictions"),
        rejects=run_pattern("rejects"),
        gallery=run_pattern("gallery"),
    log:
        "logs/predict/{run}/{eval_set}.log",
    wildcard_constraints:
        run=run_names("trained"),
    params:
        evaluation=get_evaluation_setting(
            "targets", "sensitive_attributes", "carried_labels", "label_maps", "label_maps_key", "gallery", "gradcam"
        ),
    script:
        "../scripts/predict.py"


# The whole audit of one eval set's predictions in one job: metrics, fairness, calibration and decision thresholds,
# the subgroup search, and their figures (faceaudit.evaluation.audit).
rule audit:
    input:
        predictions=rules.predict.output.predictions,
    output:
        **audit_outputs(),
    log:
        "logs/audit/{run}/{eval_set}.log",
    benchmark:
        "benchmarks/audit/{run}/{eval_set}.tsv"
    params:
        evaluation=get_evaluation_setting(
            "targets",
            "positive_classes",
            "ordinal_targets",
            "sensitive_attributes",
            "intersections",
            "privileged_groups",
            "audit",
            "calibration_audit",
            "scanned_attributes",
            "subgroup_search",
        ),
    script:
        "../scripts/audit.py"


# One configuration's seeds audited as one: per-seed values, spread, and intervals covering retraining and test rows.
rule aggregate_seeds:
    input:
        predictions=get_seed_predictions,
    output:
        seeds=seed_aggregate_pattern(),
    log:
        "logs/aggregate_seeds/{configuration}/{eval_set}.log",
    params:
        runs=seed_runs,
        evaluation=get_seed_evaluation_setting(
            "targets",
            "positive_classes",
            "sensitive_attributes",
            "intersections",
            "privileged_groups",
            "audit",
        ),
    script:
        "../scripts/aggregate_seeds.py"


# A configuration minus its baseline (faceaudit.evaluation.comparisons): every metric, group rate and gap's change,
# with intervals over both sides' seeds and the shared rows, adjusted tests, and per group levelling up or down.
rule compare:
    input:
        unpack(get_comparison_predictions),
    output:
        comparison=comparison_pattern(),
    log:
        "logs/compare/{configuration}/{eval_set}.log",
    params:
        comparison=get_comparison,
        evaluation=get_comparison_evaluation_setting(
            "targets",
            "positive_classes",
            "sensitive_attributes",
            "intersections",
            "privileged_groups",
            "audit",
        ),
    script:
        "../scripts/compare.py"
