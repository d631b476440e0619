import functools
import os
import re
import shutil
import types

from snakemake.exceptions import WorkflowError

from faceaudit import catalog, labels, study
from faceaudit.evaluation.ordinal import ordinal_targets
from faceaudit.study import kinds

# Every result file's path pattern, by name (the rule files build their outputs from these).
from faceaudit.study.result_files import (
    comparison_pattern,
    dataset_pattern,
    run_pattern,
    seed_aggregate_pattern,
    sequence_path,
)
from faceaudit.study.validation import validate_config

# snakemake.utils.validate (defaults filled in), with a short message naming the key instead of the schema dump.
validate_config(config, workflow.source_path("../schemas/config.schema.yaml"), workflow.configfiles)
study.check_study(config)

ALL_RUNS = study.expand_runs(config)
# The study's runs by kind (faceaudit/study/kinds.py): classifiers trained here (RUNS) and generative models
# (VAE_RUNS); post-processed runs `<run>__post_<name>` (postprocess.smk); models trained elsewhere, a model file
# `<experiment>__external` or prediction files `<experiment>__imported` (external.smk). From the predictions file on
# (audit, aggregate_seeds, report) every classifier is a run like the trained ones: those rules look a run up in
# EVALUATED_RUNS, each of the others in its own kind's runs.
RUNS = study.classifier_runs(ALL_RUNS)
VAE_RUNS = study.vae_runs(ALL_RUNS)
DERIVED_RUNS = study.derived_runs(config, RUNS)
AUDITED_RUNS = study.audited_runs(config)
EVALUATED_RUNS = RUNS | DERIVED_RUNS | AUDITED_RUNS
# Configurations trained with several seeds: {configuration: [its runs in seed order]}, aggregated across seeds; the
# derived runs of seeds are seeds of a derived configuration (`<configuration>__post_<name>`).
SEED_CONFIGURATIONS = study.seed_configurations(EVALUATED_RUNS)
# Each configuration that applies a fairness method, against its baseline: {configuration: {baseline, runs,
# baseline_runs, paired, eval_sets, how}} (faceaudit/study/comparisons.py).
COMPARISONS = study.study_comparisons(config, RUNS | DERIVED_RUNS)
study.check_resamples_for_intervals(config, SEED_CONFIGURATIONS, COMPARISONS)


def names_pattern(names):
    """A wildcard constraint matching exactly these names; with none, one that matches nothing (Snakemake ignores an
    empty constraint, and the rule would then claim every path of its shape, e.g. data a user put in place by hand).
    Only for names whose number does not grow with the study (datasets, splits): see ONE_NAME."""
    return "|".join(re.escape(name) for name in names) or "(?!)"


# Names that grow with the study (runs, VAE runs; seeds' configurations) are matched by shape, one path component,
# not listed: Snakemake applies a rule's constraints to every path it matches and fills them into every pattern it
# expands, so an alternation of 2,000 run names made planning grow faster than the study (issue 15). A rule still
# builds only this study's names: the input functions look each one up (study_name) and stop with an error naming
# it. A new wildcard of this kind: `<wildcard>=ONE_NAME` below, and a study_name(...) look-up in an input function
# of every rule whose output has it (directly, or through a rule upstream that has one).
ONE_NAME = r"[^/]+"


wildcard_constraints:
    dataset=names_pattern(config["datasets"]),
    run=ONE_NAME,
    vae_run=ONE_NAME,
    configuration=ONE_NAME,
    eval_set=f"val|test|(?:{names_pattern(config['datasets'])})-(?:train|val|test)",
    split="train|val|test",
    size=r"\d+",
    color="gray|rgb",


def check_slurm_commands():
    """Stop a SLURM run at once on a machine without SLURM, instead of failing job after job."""
    missing = [command for command in ("sbatch", "sacct") if shutil.which(command) is None]
    if workflow.executor_plugin.name == "slurm" and missing:
        raise WorkflowError(
            f"SLURM's commands ({', '.join(missing)}) are not found: this machine is not a SLURM login node. "
            "Run the profile where sbatch and sacct work, or run locally instead: snakemake --cores 4"
        )


onstart:
    check_slurm_commands()


def get_final_output():
    """The report's index and, once it exists, every run page that does not. Asking for a missing page matters: a job
    whose outputs include a file without metadata (the page of a run just added) skips Snakemake's params and
    input-set checks, and Snakemake looks for missing outputs only among the files asked for, so with the index alone
    an added experiment would leave the report stale ("Nothing to be done"). Asking for the other pages changes
    nothing (a page that exists is not missing; without the index the report runs anyway) but costs planning time
    that grows with the square of the runs: Snakemake compares each file asked of a job with every one of the job's
    inputs (about ten per run for the report; issue 15)."""
    index = rules.report.output.index
    if not os.path.exists(index):
        return [index]
    return [index, *(page for page in rules.report.output.run_pages if not os.path.exists(page))]


def study_name(names, name, kind):
    """`names[name]`, or an error naming the unknown name and the config key that would define it (instead of a
    KeyError: the wildcard matched a path of this shape that the study does not define)."""
    if name not in names:
        examples = ", ".join(list(names)[:5]) + (", ..." if len(names) > 5 else "")
        raise WorkflowError(
            f"'{name}' is not a {kind} of this study (its {kind}s: {examples or 'none'}); a {kind} comes from "
            "`experiments:` in the config: check the name in the target or file path asked for"
        )
    return names[name]


def get_run(wildcards):
    return study_name(RUNS, wildcards.run, "classifier run")


def preprocessed_files(run, dataset=None):
    """The preprocessed splits a run reads: its own dataset's, or another dataset's at the run's size and colour."""
    return preprocess_job_files(dataset or run["dataset"], run["image_size"], run["color"])


@functools.cache
def preprocess_job_files(dataset, size, color):
    """The preprocess job's files, built once per dataset, size and colour that runs share (not once per job).
    Callers build their own dict from it: the cached one is never changed."""
    wildcards = {"dataset": dataset, "size": size, "color": color}
    return {key: pattern.format(**wildcards) for key, pattern in rules.preprocess.output.items()}


def without_job_settings(run):
    """The run's spec without what does not change the trained model: eval sets, cluster resources, and the seed's
    bookkeeping (`configuration`, `seed_index`: the numeric `seed` stays), so adding seeds retrains no existing run."""
    ignored = ("eval_sets", "resources", "configuration", "seed_index")
    return {key: value for key, value in run.items() if key not in ignored}


def audit_settings(*keys):
    return {key: config["audit"][key] for key in keys}


def get_evaluation_setting(*keys):
    """A function giving the named subset of what predictions, metrics and fairness need to know about a run."""

    def setting(wildcards):
        available = evaluation_settings(wildcards.run, wildcards.eval_set)
        return {key: available[key] for key in keys}

    return setting


@functools.cache
def evaluation_settings(run_name, eval_set):
    """Everything the evaluation rules' params take from a run and eval set, built once for all of its rules."""
    run = study_name(EVALUATED_RUNS, run_name, "classifier run")
    # The groups audited are those of the eval set's dataset (another one for a cross-dataset test).
    eval_dataset = labels.eval_set_source(run["dataset"], eval_set)[0]
    dataset = config["datasets"][eval_dataset]
    own_dataset = config["datasets"][run["dataset"]]
    experiment = config["experiments"][run["experiment"]]
    carried = labels.carried_labels(dataset["labels"], dataset["sensitive_attributes"], run["targets"])
    return {
        "targets": run["targets"],
        # Another dataset's true labels mapped onto the run's classes (none for the run's own dataset).
        "label_maps": study.eval_set_label_maps(experiment, run["dataset"], eval_set),
        "label_maps_key": f"experiments.{run['experiment']}.label_maps.{eval_dataset}",
        "positive_classes": study.positive_classes(own_dataset, run["targets"]),
        "ordinal_targets": ordinal_targets(
            own_dataset["labels"], run["targets"], own_dataset.get("ordinal"), run["dataset"]
        ),
        # The faces shown are the eval set's dataset's: its licence decides.
        "gallery": gallery_settings(dataset, config["audit"]["seed"]),
        # Grad-CAM heatmaps in the gallery of a convolutional model trained here (own CNNs and transfer backbones).
        "gradcam": kinds.kind_of_run(run) is kinds.TRAINED
        and catalog.model_family(run["model"]) in ("cnn", "transfer"),
        "sensitive_attributes": list(dataset["sensitive_attributes"]),
        "intersections": list(dataset["intersections"]),
        "privileged_groups": dict(dataset["privileged_groups"]),
        # The audit rule reads both; aggregate_seeds reads `audit` only, so a calibration setting leaves it be.
        "audit": audit_settings(
            "bootstrap_resamples", "seed", "min_group_size", "min_positives", "multiple_comparisons"
        ),
        "calibration_audit": audit_settings("bootstrap_resamples", "seed", "calibration_bins"),
        # What the predictions file holds besides the targets' predictions: the sensitive attributes, the numeric
        # labels (e.g. age in years) and every target's true label, each with its classes (or "numeric"); the
        # subgroup search scans them.
        "carried_labels": list(carried),
        "scanned_attributes": {**carried, **run["targets"]},
        "subgroup_search": {key: value for key, value in config["audit"].items() if key.startswith("subgroup")},
    }


def gallery_settings(dataset, seed):
    """A dataset's `galleries` block with show_faces decided: null shows the faces of synthetic datasets only."""
    settings = {"examples": 6, "thumbnail_px": 48, "heatmap_images": 64, **dataset.get("galleries", {})}
    if settings.get("show_faces") is None:
        settings["show_faces"] = dataset["layout"] == "synthetic"
    return settings | {"seed": seed}


def get_train_resource(name, get_spec=get_run):
    """A function giving one of the run's resources (gpu, runtime, mem_mb, threads); VAE runs pass get_vae_run."""

    def resource(wildcards):
        return get_spec(wildcards)["resources"][name]

    return resource


# Every run under results/runs/ is matched by shape, and which rule makes its run.json and predictions follows from
# its kind (faceaudit.study.kinds), which its name shows: each of those rules constrains `run` to its kinds' names
# (Snakemake tries every rule whose output matches a path, and would report each refusal of a name not its own;
# --strict-dag-evaluation would stop there). The rules then look the name up in their kind's runs.
def run_names(*kind_names):
    """A wildcard constraint matching the names of runs of these kinds only."""
    return "|".join(f"(?:{kinds.name_pattern(kinds.KINDS_BY_NAME[name])})" for name in kind_names)
