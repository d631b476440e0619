# Post-processed runs (kinds.POST_PROCESSED) enter the chain at results/runs/<run>/predictions/<eval_set>.csv and
# their own run.json; audit, aggregate_seeds and the report then treat them like trained runs. Their rules share
# output patterns with train and predict, and the run wildcard's shape keeps them apart (run_names).


def get_derived_run(wildcards):
    return study_name(DERIVED_RUNS, wildcards.run, "post-processed run")


def source_run(wildcards):
    return get_derived_run(wildcards)["post_processing"]["source_run"]


def get_post_processing_inputs(wildcards):
    """The source run's validation predictions (made for this even where `val` is none of its eval sets) and its
    run.json."""
    source = source_run(wildcards)
    return {
        "val": rules.predict.output.predictions.format(run=source, eval_set="val"),
        "source_info": rules.train.output.run_info.format(run=source),
    }


def get_post_processing_setting(wildcards):
    return get_derived_run(wildcards)["post_processing"]


def get_post_processed_classes(wildcards):
    run = get_derived_run(wildcards)
    return run["targets"][run["post_processing"]["target"]]


def get_source_predictions(wildcards):
    """The source run's predictions of one of the derived run's eval sets (not `val`, which fitted the method)."""
    run = get_derived_run(wildcards)
    if wildcards.eval_set not in run["eval_sets"]:
        raise WorkflowError(
            f"'{wildcards.eval_set}' is not an eval set of the post-processed run '{wildcards.run}' (its eval sets: "
            f"{', '.join(run['eval_sets'])}; `val` fits the method and is not adjusted)"
        )
    return rules.predict.output.predictions.format(run=source_run(wildcards), eval_set=wildcards.eval_set)


def get_source_rejects(wildcards):
    """The rows the source run's predictions of the eval set leave out: the derived run leaves out the same."""
    get_source_predictions(wildcards)  # refuses an eval set that the derived run does not have
    return run_pattern("rejects").format(run=source_run(wildcards), eval_set=wildcards.eval_set)


# Fit a post-processing method on the source run's validation predictions (no retraining). run.json is the source's,
# with the method's settings and fitted parameters under `post_processing`.
rule post_process:
    input:
        unpack(get_post_processing_inputs),
    output:
        processor="results/runs/{run}/post_processor.pkl",
        run_info=run_pattern("run_info"),
    log:
        "logs/post_process/{run}.log",
    wildcard_constraints:
        run=run_names("post_processed"),
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
        predictions=run_pattern("predictions"),
        rejects=run_pattern("rejects"),
    log:
        "logs/apply_post_processing/{run}/{eval_set}.log",
    wildcard_constraints:
        run=run_names("post_processed"),
    script:
        "../scripts/apply_post_processing.py"
