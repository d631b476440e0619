# Runs whose predictions come from elsewhere enter the chain at results/runs/<run>/predictions/<eval_set>.csv and
# their own run.json; evaluate, fairness, calibration, subgroups, aggregate_seeds and the report then treat them like
# trained runs. Their rules share output patterns with train and predict, and the run wildcard's shape keeps them
# apart (DERIVED_NAME here, TRAINED_NAME there).


# Fit a post-processing method on the source run's validation predictions (no retraining). run.json is the source's,
# with the method's settings and fitted parameters under `post_processing`.
rule post_process:
    input:
        unpack(get_post_processing_inputs),
    output:
        processor="results/runs/{run}/post_processor.pkl",
        run_info="results/runs/{run}/run.json",
    log:
        "logs/post_process/{run}.log",
    wildcard_constraints:
        run=DERIVED_NAME,
    params:
        post_processing=get_post_processing_setting,
        classes=get_post_processed_classes,
    script:
        "../scripts/post_process.py"


# The fitted method applied to the source run's predictions of one eval set: the derived run's predictions.
rule apply_post_processing:
    input:
        processor=rules.post_process.output.processor,
        predictions=get_source_predictions,
        rejects=get_source_rejects,
    output:
        predictions="results/runs/{run}/predictions/{eval_set}.csv",
        rejects=PREDICTION_REJECTS,
    log:
        "logs/apply_post_processing/{run}/{eval_set}.log",
    wildcard_constraints:
        run=DERIVED_NAME,
    script:
        "../scripts/apply_post_processing.py"
