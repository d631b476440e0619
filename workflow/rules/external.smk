# Models trained elsewhere (faceaudit/study/audited.py): nothing here trains them. Their rules write what train and
# predict write for a trained run (run.json, the predictions and the rows left out); from there evaluate, fairness,
# calibration, subgroups and the report treat them like trained runs. The run wildcard's shape keeps these rules
# apart from train and predict (EXTERNAL_NAME, IMPORTED_NAME here, TRAINED_NAME there).


# What was audited: the files made elsewhere (their sha256), and for a model file its architecture.
rule audited_run_info:
    input:
        files=get_audited_files,
    output:
        run_info="results/runs/{run}/run.json",
    log:
        "logs/audited_run_info/{run}.log",
    wildcard_constraints:
        run=AUDITED_NAME,
    params:
        run=get_audited_run,
    script:
        "../scripts/audited_run_info.py"


# A model file run on one eval set's preprocessed images, as its input contract says.
rule predict_external:
    input:
        unpack(get_external_inputs),
    output:
        predictions="results/runs/{run}/predictions/{eval_set}.csv",
        rejects=PREDICTION_REJECTS,
    log:
        "logs/predict_external/{run}/{eval_set}.log",
    wildcard_constraints:
        run=EXTERNAL_NAME,
    params:
        run=get_audited_run,
        evaluation=get_evaluation_setting("targets", "sensitive_attributes", "label_maps", "label_maps_key"),
    script:
        "../scripts/predict_external.py"


# A prediction file made elsewhere, checked row by row and joined to the manifest for the true labels and groups.
rule import_predictions:
    input:
        unpack(get_import_inputs),
    output:
        predictions="results/runs/{run}/predictions/{eval_set}.csv",
        rejects=PREDICTION_REJECTS,
    log:
        "logs/import_predictions/{run}/{eval_set}.log",
    wildcard_constraints:
        run=IMPORTED_NAME,
    params:
        run=get_audited_run,
        split=get_eval_split,
        evaluation=get_evaluation_setting("targets", "sensitive_attributes", "label_maps", "label_maps_key"),
    script:
        "../scripts/import_predictions.py"
