import functools
import os
import re
import shutil
import types

from snakemake.exceptions import WorkflowError

from faceaudit import catalog, labels, study
from faceaudit.evaluation.ordinal import ordinal_targets
from faceaudit.study.validation import validate_config

# snakemake.utils.validate (defaults filled in), with a short message naming the key instead of the schema dump.
validate_config(config, workflow.source_path("../schemas/config.schema.yaml"), workflow.configfiles)
study.check_study(config)

ALL_RUNS = study.expand_runs(config)
# Classifier runs (trained, predicted, evaluated, audited) and VAE runs (trained, their faces sampled).
RUNS = study.classifier_runs(ALL_RUNS)
VAE_RUNS = study.vae_runs(ALL_RUNS)
# Runs whose predictions come from elsewhere, not from a model trained here: today the post-processed runs
# `<run>__post_<name>` (study.derived_runs), made by the rules in mitigate.smk. From the predictions file on
# (evaluate, fairness, calibration, subgroups, aggregate_seeds, report) they are runs like the trained ones: those
# rules look a run up in EVALUATED_RUNS, while train and predict look it up in RUNS, so they never claim one.
DERIVED_RUNS = study.derived_runs(config, RUNS)
# Runs of models trained elsewhere (external.smk): a model file run on the study's data, `<experiment>__external`,
# or prediction files made elsewhere, `<experiment>__imported`.
AUDITED_RUNS = study.audited_runs(config)
EVALUATED_RUNS = RUNS | DERIVED_RUNS | AUDITED_RUNS


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


def datasets_with_layout(layout):
    return [name for name, dataset in config["datasets"].items() if dataset["layout"] == layout]


def get_dataset_setting(key):
    def setting(wildcards):
        return config["datasets"][wildcards.dataset][key]

    return setting


def datasets_with_download():
    return [name for name, dataset in config["datasets"].items() if dataset["download"]]


def dataset_root(name):
    """The folder that a dataset's manifest paths are relative to."""
    if config["datasets"][name]["layout"] == "synthetic":
        return f"resources/{name}"
    return f"resources/{name}/data"


def get_dataset_root(wildcards):
    return dataset_root(wildcards.dataset)


def get_dataset_source(wildcards):
    """The files a dataset's adapter reads (for `synthetic`: what the generator wrote; else the downloaded data)."""
    if config["datasets"][wildcards.dataset]["layout"] == "synthetic":
        return {
            "labels": f"resources/{wildcards.dataset}/labels.csv",
            "images": f"resources/{wildcards.dataset}/images",
        }
    return {"data": dataset_root(wildcards.dataset)}


def get_layout_settings(wildcards):
    """The dataset's settings for its layout's adapter (none for `synthetic`, whose settings drive the generator)."""
    dataset = config["datasets"][wildcards.dataset]
    return {} if dataset["layout"] == "synthetic" else dataset[dataset["layout"]]


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


def get_vae_run(wildcards):
    return study_name(VAE_RUNS, wildcards.vae_run, "VAE run")


def get_vae_training_params(wildcards):
    return without_job_settings(get_vae_run(wildcards))


def get_vae_arrays(wildcards):
    files = preprocessed_files(get_vae_run(wildcards))
    return {key: files[key] for key in ("train_images", "val_images")}


def vae_outputs(name):
    return {key: f"results/vae/{name}/{file}" for key, file in VAE_FILES.items()}


VAE_FILES = {
    "model": "model.keras",
    "history": "history.csv",
    "run_info": "run.json",
    "samples": "samples.png",
    "reconstructions": "reconstructions.png",
}
SEQUENCE_FILES = {"plot": "results/sequence/sine_comparison.png", "scores": "results/sequence/sine_comparison.json"}


def preprocessed_outputs(folder):
    """The preprocess rule's files: {split}_images (.npy) and {split}_rows (.csv) for every split."""
    return {
        f"{split}_{kind}": f"{folder}/{split}.{extension}"
        for split in labels.SPLITS
        for kind, extension in (("images", "npy"), ("rows", "csv"))
    }


def preprocessed_files(run, dataset=None):
    """The preprocessed splits a run reads: its own dataset's, or another dataset's at the run's size and colour."""
    return preprocess_job_files(dataset or run["dataset"], run["image_size"], run["color"])


@functools.cache
def preprocess_job_files(dataset, size, color):
    """The preprocess job's files, built once per dataset, size and colour that runs share (not once per job).
    Callers build their own dict from it: the cached one is never changed."""
    wildcards = {"dataset": dataset, "size": size, "color": color}
    return {key: pattern.format(**wildcards) for key, pattern in rules.preprocess.output.items()}


def eval_set_dataset_and_split(wildcards):
    """The dataset and split an eval set reads: the run's own, or another dataset's for a cross-dataset test."""
    return labels.eval_set_source(get_run(wildcards)["dataset"], wildcards.eval_set)


def get_training_arrays(wildcards):
    files = preprocessed_files(get_run(wildcards))
    return {key: files[key] for key in ("train_images", "train_rows", "val_images", "val_rows")}


def get_eval_arrays(wildcards):
    dataset, split = eval_set_dataset_and_split(wildcards)
    files = preprocessed_files(get_run(wildcards), dataset)
    return {
        "model": rules.train.output.model.format(run=wildcards.run),
        "images": files[f"{split}_images"],
        "rows": files[f"{split}_rows"],
    }


def get_training_params(wildcards):
    return without_job_settings(get_run(wildcards))


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
        "sensitive_attributes": list(dataset["sensitive_attributes"]),
        "intersections": list(dataset["intersections"]),
        "privileged_groups": dict(dataset["privileged_groups"]),
        # Each rule gets only the audit settings it reads, so changing one reruns only the jobs that use it.
        "audit": audit_settings(
            "bootstrap_resamples", "seed", "min_group_size", "min_positives", "multiple_comparisons"
        ),
        "calibration_audit": audit_settings("bootstrap_resamples", "seed", "calibration_bins"),
        # What the predictions file holds besides the targets' predictions: the sensitive attributes and every
        # target's true label, each with its classes (or "numeric"); the subgroup search scans them.
        "scanned_attributes": {
            **{name: dataset["labels"][name] for name in dataset["sensitive_attributes"]},
            **run["targets"],
        },
        "subgroup_search": {key: value for key, value in config["audit"].items() if key.startswith("subgroup")},
    }


def gallery_settings(dataset, seed):
    """A dataset's `galleries` block with show_faces decided: null shows the faces of synthetic datasets only."""
    settings = {"examples": 6, "thumbnail_px": 48, "heatmap_images": 64, **dataset.get("galleries", {})}
    if settings.get("show_faces") is None:
        settings["show_faces"] = dataset["layout"] == "synthetic"
    return settings | {"seed": seed}


def get_gallery_inputs(wildcards):
    """The eval set's predictions and arrays, and the model where it is convolutional (for Grad-CAM). Trained runs
    (RUNS) and external model files have a gallery (get_run_evaluations asks for none of the others); an external
    model's has no Grad-CAM (its own pixel scaling would have to be replayed inside the heatmap code)."""
    predictions = rules.predict.output.predictions.format(run=wildcards.run, eval_set=wildcards.eval_set)
    if wildcards.run in AUDITED_RUNS:
        inputs = get_external_inputs(wildcards)
        return {"images": inputs["images"], "rows": inputs["rows"], "predictions": predictions}
    inputs = get_eval_arrays(wildcards)
    model = inputs.pop("model")
    if catalog.model_family(get_run(wildcards)["model"]) in ("cnn", "transfer"):
        inputs["model"] = model
    inputs["predictions"] = predictions
    return inputs


def get_train_resource(name, get_spec=get_run):
    """A function giving one of the run's resources (gpu, runtime, mem_mb, threads); VAE runs pass get_vae_run."""

    def resource(wildcards):
        return get_spec(wildcards)["resources"][name]

    return resource


def get_run_evaluations(run_name):
    """The evaluate, fairness, calibration and subgroups rules' files of every eval set of a run."""
    outputs = {
        "metrics": rules.evaluate.output.metrics,
        "fairness": rules.fairness.output.fairness,
        "figures": rules.evaluate.output.figures,
        "group_figures": rules.fairness.output.figure,
        "calibration": rules.calibration.output.calibration,
        "calibration_figures": rules.calibration.output.figures,
        "subgroups": rules.subgroups.output.subgroups,
        "prediction_rejects": PREDICTION_REJECTS,
    }
    eval_sets = EVALUATED_RUNS[run_name]["eval_sets"]
    evaluations = {
        key: [pattern.format(run=run_name, eval_set=eval_set) for eval_set in eval_sets]
        for key, pattern in outputs.items()
    }
    # A gallery for the runs that saw the images: trained runs and external model files (post-processed runs and
    # prediction files have none); the report finds each by its path.
    with_images = run_name in RUNS or EVALUATED_RUNS[run_name]["model"] == "external"
    evaluations["galleries"] = [
        rules.gallery.output.gallery.format(run=run_name, eval_set=eval_set) for eval_set in eval_sets if with_images
    ]
    return evaluations


def training_curves(run_name):
    """The run's training curves (none for a model trained elsewhere); a derived run shows those of the trained run
    whose scores it post-processes."""
    if run_name in AUDITED_RUNS:
        return []
    trained = EVALUATED_RUNS[run_name].get("post_processing", {}).get("source_run", run_name)
    return [rules.training_curves.output.figure.format(run=trained)]


def datasets_in_report():
    """Every dataset a run trains or is evaluated on."""
    return sorted(
        {
            labels.eval_set_source(run["dataset"], eval_set)[0]
            for run in (ALL_RUNS | AUDITED_RUNS).values()
            for eval_set in ["train", *run["eval_sets"]]
        }
    )


def get_report_inputs(wildcards):
    """The report's files as named lists, each in a fixed order that the report script relies on: run_info one per
    run (EVALUATED_RUNS order); metrics, fairness, figures, group_figures, calibration, calibration_figures, subgroups
    and prediction_rejects one per run and eval set (the run's eval-set order); curves and galleries only where a run
    has them (the report finds each by its path); manifests, rejects, repairs, samples and data_audits
    one per dataset (datasets_in_report(), the rule's `datasets` param); vae_run_info, vae_samples, vae_reconstructions
    one per VAE run (VAE_RUNS order); sequence_plot and sequence_scores one each when the sine-wave comparison is
    enabled, else none."""
    datasets = datasets_in_report()
    inputs = {
        "run_info": [f"results/runs/{name}/run.json" for name in EVALUATED_RUNS],
        "curves": [path for name in EVALUATED_RUNS for path in training_curves(name)],
        "manifests": [f"results/data/{dataset}/manifest.csv" for dataset in datasets],
        "rejects": [f"results/data/{dataset}/rejects.csv" for dataset in datasets],
        "repairs": [f"results/data/{dataset}/repairs.csv" for dataset in datasets],
        "samples": [f"results/data/{dataset}/samples.png" for dataset in datasets],
        "data_audits": [f"results/data/{dataset}/data_audit.json" for dataset in datasets],
    }
    evaluations = [get_run_evaluations(name) for name in EVALUATED_RUNS]
    for key in (
        "metrics",
        "fairness",
        "figures",
        "group_figures",
        "calibration",
        "calibration_figures",
        "subgroups",
        "galleries",
        "prediction_rejects",
    ):
        inputs[key] = [path for evaluation in evaluations for path in evaluation.get(key, [])]
    for key in ("run_info", "samples", "reconstructions"):
        inputs[f"vae_{key}"] = [vae_outputs(name)[key] for name in VAE_RUNS]
    enabled = config["sequence_comparison"]["enabled"]
    inputs["sequence_plot"] = [SEQUENCE_FILES["plot"]] if enabled else []
    inputs["sequence_scores"] = [SEQUENCE_FILES["scores"]] if enabled else []
    return inputs


# The audit reads arrays that training needs anyway: the smallest size any run reads the dataset at (gray before
# rgb), so it never decodes the images again; the hash and statistics work at any size of 8 px or more.
def get_audit_arrays(wildcards):
    sizes = [
        (int(run["image_size"]), run["color"] == "rgb", run["color"])
        for run in ALL_RUNS.values()
        for eval_set in ["train", *run.get("eval_sets", [])]
        if labels.eval_set_source(run["dataset"], eval_set)[0] == wildcards.dataset
    ]
    size, _, color = min(sizes, default=(32, False, "gray"))
    return {
        key: pattern.format(dataset=wildcards.dataset, size=size, color=color)
        for key, pattern in rules.preprocess.output.items()
    }


# Configurations trained with several seeds: {configuration: [its runs in seed order]}, aggregated across seeds; the
# derived runs of seeds are seeds of a derived configuration (`<configuration>__post_<name>`).
SEED_CONFIGURATIONS = study.seed_configurations(EVALUATED_RUNS)


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


def get_seed_evaluation_setting(*keys):
    setting = get_evaluation_setting(*keys)
    return lambda wildcards: setting(seed_wildcards(wildcards))


def get_seed_aggregates():
    """The aggregate of every configuration trained with several seeds, one per eval set."""
    return [
        rules.aggregate_seeds.output.seeds.format(configuration=configuration, eval_set=eval_set)
        for configuration, names in SEED_CONFIGURATIONS.items()
        for eval_set in EVALUATED_RUNS[names[0]]["eval_sets"]
    ]


# The post-processed runs (mitigate.smk) and the runs of models trained elsewhere (external.smk) are matched by shape
# like every run, and their rules look them up in DERIVED_RUNS and AUDITED_RUNS; train and predict match the other
# shape (Snakemake tries every rule whose output matches a path, and would report each refusal of a name not its
# own; --strict-dag-evaluation would stop there).
DERIVED_NAME = r"[^/]+__post_[^/]+"
EXTERNAL_NAME = r"[^/]+__external"
IMPORTED_NAME = r"[^/]+__imported"
AUDITED_NAME = r"[^/]+__(?:external|imported)"
TRAINED_NAME = r"(?![^/]*__(?:post_|external(?![^/])|imported(?![^/])))[^/]+"
# The rows of an eval set that a run's predictions leave out, with their reasons: written by every rule that writes
# a predictions file (predict, predict_external, import_predictions, apply_post_processing).
PREDICTION_REJECTS = "results/runs/{run}/rejects/{eval_set}.csv"


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
    return {"predictions": by_label[wildcards.eval_set], "manifest": f"results/data/{dataset}/manifest.csv"}


def get_eval_split(wildcards):
    return labels.eval_set_source("", wildcards.eval_set)[1]


def get_source_rejects(wildcards):
    """The rows the source run's predictions of the eval set leave out: the derived run leaves out the same."""
    get_source_predictions(wildcards)  # refuses an eval set that the derived run does not have
    return PREDICTION_REJECTS.format(run=source_run(wildcards), eval_set=wildcards.eval_set)
