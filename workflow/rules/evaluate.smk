rule predict:
    input:
        unpack(get_eval_arrays),
    output:
        predictions="results/runs/{run}/predictions/{eval_set}.csv",
        rejects=PREDICTION_REJECTS,
    log:
        "logs/predict/{run}/{eval_set}.log",
    wildcard_constraints:
        run=TRAINED_NAME,
    params:
        evaluation=get_evaluation_setting("targets", "sensitive_attributes", "label_maps", "label_maps_key"),
    script:
        "../scripts/predict.py"


rule evaluate:
    input:
        predictions=rules.predict.output.predictions,
    output:
        metrics="results/runs/{run}/metrics/{eval_set}.json",
        figures=directory("results/runs/{run}/figures/{eval_set}"),
    log:
        "logs/evaluate/{run}/{eval_set}.log",
    params:
        evaluation=get_evaluation_setting("targets", "positive_classes", "ordinal_targets"),
    script:
        "../scripts/evaluate.py"


rule fairness:
    input:
        predictions=rules.predict.output.predictions,
    output:
        fairness="results/runs/{run}/fairness/{eval_set}.json",
        figure="results/runs/{run}/figures/group_accuracy_{eval_set}.png",
    log:
        "logs/fairness/{run}/{eval_set}.log",
    params:
        evaluation=get_evaluation_setting(
            "targets",
            "positive_classes",
            "sensitive_attributes",
            "intersections",
            "privileged_groups",
            "audit",
            "ordinal_targets",
        ),
    script:
        "../scripts/fairness.py"


rule calibration:
    input:
        predictions=rules.predict.output.predictions,
    output:
        calibration="results/runs/{run}/calibration/{eval_set}.json",
        figures=directory("results/runs/{run}/figures/calibration_{eval_set}"),
    log:
        "logs/calibration/{run}/{eval_set}.log",
    params:
        evaluation=get_evaluation_setting(
            "targets",
            "positive_classes",
            "sensitive_attributes",
            "intersections",
            "calibration_audit",
        ),
    script:
        "../scripts/calibration.py"


rule subgroups:
    input:
        predictions=rules.predict.output.predictions,
    output:
        subgroups="results/runs/{run}/subgroups/{eval_set}.json",
    log:
        "logs/subgroups/{run}/{eval_set}.log",
    benchmark:
        "benchmarks/subgroups/{run}/{eval_set}.tsv"
    params:
        evaluation=get_evaluation_setting("targets", "scanned_attributes", "subgroup_search"),
    script:
        "../scripts/subgroups.py"


rule training_curves:
    input:
        history=rules.train.output.history,
        run_info=rules.train.output.run_info,
    output:
        figure="results/runs/{run}/figures/training_curves.png",
    log:
        "logs/training_curves/{run}.log",
    script:
        "../scripts/training_curves.py"


# One configuration's seeds audited as one: per-seed values, spread, and intervals covering retraining and test rows.
rule aggregate_seeds:
    input:
        predictions=get_seed_predictions,
    output:
        seeds="results/seeds/{configuration}/{eval_set}.json",
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


# The faces behind the numbers: per group the most confident errors and, for convolutional models, Grad-CAM heatmaps.
rule gallery:
    input:
        unpack(get_gallery_inputs),
    output:
        gallery="results/runs/{run}/gallery/{eval_set}.json",
    log:
        "logs/gallery/{run}/{eval_set}.log",
    params:
        evaluation=get_evaluation_setting("targets", "sensitive_attributes", "gallery"),
    script:
        "../scripts/gallery.py"
