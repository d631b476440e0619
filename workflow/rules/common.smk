import re
import shutil

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from faceaudit import labels, study


validate(config, "../schemas/config.schema.yaml", set_default=True)
study.check_study(config)

ALL_RUNS = study.expand_runs(config)
# Classifier runs (trained, predicted, evaluated, audited) and VAE runs (trained, their faces sampled).
RUNS = study.classifier_runs(ALL_RUNS)
VAE_RUNS = study.vae_runs(ALL_RUNS)


def names_pattern(names):
    return "|".join(re.escape(name) for name in names)


wildcard_constraints:
    dataset=names_pattern(config["datasets"]),
    run=names_pattern(RUNS),
    vae_run=names_pattern(VAE_RUNS),
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
    return ["results/report/index.html"]


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


def get_run(wildcards):
    return RUNS[wildcards.run]


def get_vae_run(wildcards):
    return VAE_RUNS[wildcards.vae_run]


def get_vae_training_params(wildcards):
    return without_job_settings(get_vae_run(wildcards))


def get_vae_arrays(wildcards):
    data_dir = run_data_dir(get_vae_run(wildcards))
    return {"train_images": f"{data_dir}/train.npy", "val_images": f"{data_dir}/val.npy"}


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


def run_data_dir(run, dataset=None):
    return f"results/data/{dataset or run['dataset']}/{run['image_size']}-{run['color']}"


def eval_set_dataset_and_split(wildcards):
    """The dataset and split an eval set reads: the run's own, or another dataset's for a cross-dataset test."""
    return labels.eval_set_source(get_run(wildcards)["dataset"], wildcards.eval_set)


def get_training_arrays(wildcards):
    data_dir = run_data_dir(get_run(wildcards))
    return {
        "train_images": f"{data_dir}/train.npy",
        "train_rows": f"{data_dir}/train.csv",
        "val_images": f"{data_dir}/val.npy",
        "val_rows": f"{data_dir}/val.csv",
    }


def get_eval_arrays(wildcards):
    dataset, split = eval_set_dataset_and_split(wildcards)
    data_dir = run_data_dir(get_run(wildcards), dataset)
    return {
        "model": f"results/runs/{wildcards.run}/model.keras",
        "images": f"{data_dir}/{split}.npy",
        "rows": f"{data_dir}/{split}.csv",
    }


def get_training_params(wildcards):
    return without_job_settings(get_run(wildcards))


def without_job_settings(run):
    """The run's spec without what does not change the trained model (eval sets, cluster resources)."""
    return {key: value for key, value in run.items() if key not in ("eval_sets", "resources")}


def get_evaluation_setting(*keys):
    """A function giving the named subset of what predictions, metrics and fairness need to know about a run."""

    def setting(wildcards):
        run = get_run(wildcards)
        # The groups audited are those of the eval set's dataset (another one for a cross-dataset test).
        dataset = config["datasets"][eval_set_dataset_and_split(wildcards)[0]]
        available = {
            "targets": run["targets"],
            "positive_classes": study.positive_classes(config["datasets"][run["dataset"]], run["targets"]),
            "sensitive_attributes": list(dataset["sensitive_attributes"]),
            "intersections": list(dataset["intersections"]),
            "privileged_groups": dict(dataset["privileged_groups"]),
            "audit": dict(config["audit"]),
        }
        return {key: available[key] for key in keys}

    return setting


def get_train_resource(name, get_spec=get_run):
    """A function giving one of the run's resources (gpu, runtime, mem_mb, threads); VAE runs pass get_vae_run."""

    def resource(wildcards):
        return get_spec(wildcards)["resources"][name]

    return resource


def get_run_evaluations(run_name):
    eval_sets = RUNS[run_name]["eval_sets"]
    return {
        "metrics": [f"results/runs/{run_name}/metrics/{eval_set}.json" for eval_set in eval_sets],
        "fairness": [f"results/runs/{run_name}/fairness/{eval_set}.json" for eval_set in eval_sets],
        "figures": [f"results/runs/{run_name}/figures/{eval_set}" for eval_set in eval_sets],
        "group_figures": [
            f"results/runs/{run_name}/figures/group_accuracy_{eval_set}.png" for eval_set in eval_sets
        ],
    }


def datasets_in_report():
    """Every dataset a run trains or is evaluated on."""
    return sorted({labels.eval_set_source(run["dataset"], eval_set)[0] for run in ALL_RUNS.values() for eval_set in ["train", *run["eval_sets"]]})


def get_report_inputs(wildcards):
    datasets = datasets_in_report()
    inputs = {
        "run_info": [f"results/runs/{name}/run.json" for name in RUNS],
        "curves": [f"results/runs/{name}/figures/training_curves.png" for name in RUNS],
        "manifests": [f"results/data/{dataset}/manifest.csv" for dataset in datasets],
        "rejects": [f"results/data/{dataset}/rejects.csv" for dataset in datasets],
        "repairs": [f"results/data/{dataset}/repairs.csv" for dataset in datasets],
        "samples": [f"results/data/{dataset}/samples.png" for dataset in datasets],
    }
    for key in ("metrics", "fairness", "figures", "group_figures"):
        inputs[key] = [path for name in RUNS for path in get_run_evaluations(name)[key]]
    inputs["vae"] = [path for name in VAE_RUNS for path in vae_outputs(name).values()]
    if config["sequence_comparison"]["enabled"]:
        inputs["sequence"] = list(SEQUENCE_FILES.values())
    return inputs
