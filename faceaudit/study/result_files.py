"""The files of a study's results, by name: the one table that the workflow's rules (their output patterns, the
report's inputs) and the report (which file is which) both read. Adding an output: a name here, the rule that writes
it, and the report code that reads it by that name."""

from pathlib import Path

from faceaudit.study.kinds import kind_of_run

RESULTS = "results"

# Per run: results/runs/<run>/<file>.
RUN_FILES = {
    "model": "model.keras",
    "history": "history.csv",
    "run_info": "run.json",
    "curves": "figures/training_curves.png",
}
# Per run and eval set: results/runs/<run>/<file>.
EVAL_SET_FILES = {
    "predictions": "predictions/{eval_set}.csv",
    # The eval set's rows that the predictions leave out, with their reasons (every rule that writes predictions).
    "rejects": "rejects/{eval_set}.csv",
    # The faces behind the numbers (the rules that run a model on the images: kinds.RunKind.has_images).
    "gallery": "gallery/{eval_set}.json",
    # What the audit rule writes, in one job.
    "metrics": "metrics/{eval_set}.json",
    "figures": "figures/{eval_set}",
    "fairness": "fairness/{eval_set}.json",
    "group_figure": "figures/group_accuracy_{eval_set}.png",
    "calibration": "calibration/{eval_set}.json",
    "calibration_figures": "figures/calibration_{eval_set}",
    "subgroups": "subgroups/{eval_set}.json",
}
AUDIT_FILES = ("metrics", "figures", "fairness", "group_figure", "calibration", "calibration_figures", "subgroups")
# Names that are folders of figures (Snakemake's directory() outputs).
FOLDERS = ("figures", "calibration_figures")
# Per dataset: results/data/<dataset>/<file>.
DATASET_FILES = {
    "manifest": "manifest.csv",
    "rejects": "rejects.csv",
    "repairs": "repairs.csv",
    "samples": "samples.png",
    "data_audit": "data_audit.json",
}
# Per generative (VAE) run: results/vae/<run>/<file>.
VAE_FILES = {
    "model": "model.keras",
    "history": "history.csv",
    "run_info": "run.json",
    "samples": "samples.png",
    "reconstructions": "reconstructions.png",
}
# The sine-wave comparison, once per study.
SEQUENCE_FILES = {"plot": "sequence/sine_comparison.png", "scores": "sequence/sine_comparison.json"}
# One configuration's seeds audited as one, per eval set.
SEED_AGGREGATE = "seeds/{configuration}/{eval_set}.json"
# A configuration minus its baseline (study.comparisons), per eval set.
COMPARISON = "comparisons/{configuration}/{eval_set}.json"


def run_pattern(name: str) -> str:
    """A run's file (RUN_FILES or EVAL_SET_FILES) as a path pattern with {run} (and {eval_set})."""
    return f"{RESULTS}/runs/{{run}}/{(RUN_FILES | EVAL_SET_FILES)[name]}"


def dataset_pattern(name: str) -> str:
    return f"{RESULTS}/data/{{dataset}}/{DATASET_FILES[name]}"


def vae_pattern(name: str) -> str:
    return f"{RESULTS}/vae/{{vae_run}}/{VAE_FILES[name]}"


def sequence_path(name: str) -> str:
    return f"{RESULTS}/{SEQUENCE_FILES[name]}"


def seed_aggregate_pattern() -> str:
    return f"{RESULTS}/{SEED_AGGREGATE}"


def comparison_pattern() -> str:
    return f"{RESULTS}/{COMPARISON}"


def report_files(
    runs: dict,
    vae_runs: dict,
    datasets: list[str],
    seed_configurations: dict[str, list[str]] | None = None,
    sequence: bool = False,
    root: Path | str = RESULTS,
    comparisons: dict[str, dict] | None = None,
) -> dict:
    """Every file the report reads, found by name in the study's table of result files (this module's tables):
    {"runs": {run: {run_info, curves, "eval_sets": {eval_set: {metrics, figures, fairness, group_figure, calibration,
     calibration_figures, subgroups, rejects, gallery}}}}, "datasets": {dataset: {manifest, rejects, repairs, samples,
     data_audit}}, "vae": {vae run: {run_info, samples, reconstructions}}, "seeds": {configuration: {eval_set: path}},
     "comparisons": {configuration: {eval_set: path}}, "sequence": {plot, scores} or None}.
    A run's kind says whether it has training curves (a post-processed run shows its source run's) and a gallery;
    None where it has not. The workflow lists the same files as the report rule's inputs (report_inputs)."""
    root = Path(root)
    return {
        "runs": {name: run_files(name, run, root) for name, run in runs.items()},
        "datasets": {
            dataset: {name: root / "data" / dataset / file for name, file in DATASET_FILES.items()}
            for dataset in datasets
        },
        "vae": {
            name: {key: root / "vae" / name / VAE_FILES[key] for key in ("run_info", "samples", "reconstructions")}
            for name in vae_runs
        },
        "seeds": {
            configuration: {
                eval_set: root / SEED_AGGREGATE.format(configuration=configuration, eval_set=eval_set)
                for eval_set in runs[names[0]]["eval_sets"]
            }
            for configuration, names in (seed_configurations or {}).items()
        },
        "comparisons": {
            configuration: {
                eval_set: root / COMPARISON.format(configuration=configuration, eval_set=eval_set)
                for eval_set in comparison["eval_sets"]
            }
            for configuration, comparison in (comparisons or {}).items()
        },
        "sequence": {name: root / file for name, file in SEQUENCE_FILES.items()} if sequence else None,
    }


def run_files(name: str, run: dict, root: Path) -> dict:
    kind = kind_of_run(run)
    folder = root / "runs" / name
    curves_run = run.get("post_processing", {}).get("source_run", name)
    return {
        "run_info": folder / RUN_FILES["run_info"],
        "curves": root / "runs" / curves_run / RUN_FILES["curves"] if kind.has_curves else None,
        "eval_sets": {
            eval_set: {
                **{key: folder / EVAL_SET_FILES[key].format(eval_set=eval_set) for key in (*AUDIT_FILES, "rejects")},
                "gallery": folder / EVAL_SET_FILES["gallery"].format(eval_set=eval_set) if kind.has_images else None,
            }
            for eval_set in run["eval_sets"]
        },
    }


def report_inputs(files: dict) -> list[str]:
    """Every path in report_files' answer, each once: the report rule's inputs."""
    found = []

    def collect(value):
        if isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif value is not None:
            found.append(str(value))

    collect(files)
    return list(dict.fromkeys(found))


def check_declared(files: dict, declared) -> None:
    """Refuse to read a file that is not an input of the report rule: Snakemake would not have made it first."""
    missing = sorted(set(report_inputs(files)) - {str(path) for path in declared})
    if missing:
        raise ValueError(
            f"the report reads {len(missing)} file(s) that its rule does not declare as inputs, e.g. {missing[0]}: "
            "the report rule's inputs (get_report_inputs) and report_files must list the same files"
        )
