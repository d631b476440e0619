rule evaluate:
    input:
        predictions="results/runs/{run}/predictions/{eval_set}.csv",
    output:
        metrics="results/runs/{run}/metrics/{eval_set}.json",
        figures=directory("results/runs/{run}/figures/{eval_set}"),
    params:
        evaluation=get_evaluation_setting("targets", "positive_classes"),
    log:
        "logs/evaluate/{run}/{eval_set}.log",
    script:
        "../scripts/evaluate.py"


rule fairness:
    input:
        predictions="results/runs/{run}/predictions/{eval_set}.csv",
    output:
        fairness="results/runs/{run}/fairness/{eval_set}.json",
        figure="results/runs/{run}/figures/group_accuracy_{eval_set}.png",
    params:
        evaluation=get_evaluation_setting(
            "targets",
            "positive_classes",
            "sensitive_attributes",
            "intersections",
            "privileged_groups",
            "audit",
        ),
    log:
        "logs/fairness/{run}/{eval_set}.log",
    script:
        "../scripts/fairness.py"


rule training_curves:
    input:
        history="results/runs/{run}/history.csv",
    output:
        figure="results/runs/{run}/figures/training_curves.png",
    log:
        "logs/training_curves/{run}.log",
    script:
        "../scripts/training_curves.py"
