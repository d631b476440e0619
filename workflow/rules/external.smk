# Models trained elsewhere (faceaudit/study/audited.py): nothing here trains them. Their rules write what train and
# predict write for a trained run (run.json, the predictions and the rows left out); from there the audit and the
# report treat them like trained runs. The run wildcard's shape keeps these rules apart from train and predict
# (run_names, from the kinds of run in faceaudit/study/kinds.py).


def get_audited_run(wildcards):
    return study_name(AUDITED_RUNS, wildcards.run, "run of a model trained elsewhere")


def audited_files(run):
    """The files made elsewhere that an audited run reads: its model file, or its prediction files."""
    if run["model"] == "external":
        return [run["external"]["file"]]
    return list(run["imported"]["files"].values())


def get_audited_files(wildcards):
    return audited_files(get_audited_run(wildcards))


def get_external_inputs(wildcards):
    """The model file and the eval set's preprocessed images and rows at the size and colour of its contract."""
    run = get_audited_run(wildcards)
    dataset, split = labels.eval_set_source(run["dataset"], wildcards.eval_set)
    files = preprocessed_files(run, dataset)
    return {"model": run["external"]["file"], "images": files[f"{split}_images"], "rows": files[f"{split}_rows"]}


def get_import_inputs(wildcards):
    """The eval set's prediction file and the manifest of the dataset it reads (the true labels and groups)."""
    run = get_audited_run(wildcards)
    dataset, _ = labels.eval_set_source(run["dataset"], wildcards.eval_set)
    by_label = {labels.eval_set_label(eval_set): file for eval_set, file in run["imported"]["files"].items()}
    if wildcards.eval_set not in by_label:
        raise WorkflowError(
            f"'{wildcards.eval_set}' is not an eval set of '{wildcards.run}' (its files: {', '.join(by_label)})"
        )
    return {
        "predictions": by_label[wildcards.eval_set],
        "manifest": dataset_pattern("manifest").format(dataset=dataset),
    }


def get_eval_split(wildcards):
    return labels.eval_set_source("", wildcards.eval_set)[1]


# What was audited: the files made elsewhere (their sha256), and for a model file its architecture.
rule audited_run_info:
    input:
        files=get_audited_files,
    output:
        run_info=run_pattern("run_info"),
    log:
        "logs/audited_run_info/{run}.log",
    wildcard_constraints:
        run=run_names("external", "imported"),
    params:
        run=get_audited_run,
    script:
        "../scripts/audited_run_info.py"


# A model file run on one eval set's preprocessed images, as its input contract says; with its gallery.
rule predict_external:
    input:
        unpack(get_external_inputs),
    output:
        predictions=run_pattern("predictions"),
        rejects=run_pattern("rejects"),
        gallery=run_pattern("gallery"),
    log:
        "logs/predict_external/{run}/{eval_set}.log",
    wildcard_constraints:
        run=run_names("external"),
    params:
        run=get_audited_run,
        evaluation=get_evaluation_setting(
            "targets", "sensitive_attributes", "carried_labels", "label_maps", "label_maps_key", "gallery"
        ),
    script:
        "../scripts/predict_external.py"


# A prediction file made elsewhere, checked row by row and joined to the manifest for the true labels and groups.
rule import_predictions:
    input:
        unpack(get_import_inputs),
    output:
        predictions=run_pattern("predictions"),
        rejects=run_pattern("rejects"),
    log:
        "logs/import_predictions/{run}/{eval_set}.log",
    wildcard_constraints:
        run=run_names("imported"),
    params:
        run=get_audited_run,
        split=get_eval_split,
        evaluation=get_evaluation_setting("targets", "carried_labels", "label_maps", "label_maps_key"),
    script:
        "../scripts/import_predictions.py"
