"""The study's HTML report: an overview of all runs and a page per run, self-contained (figures embedded), offline.

This module builds each page's context (plain dicts and lists) from the loaded results; the templates in
templates/ turn them into HTML (render.py). The index's tables are built in overview.py, its data section in
datasets.py; a run page's fairness tables in fairness_tables.py, its calibration and decision thresholds in
calibration_tables.py, its worst subgroups in subgroup_tables.py.
"""

from pathlib import Path

from faceaudit.postprocessing import DECISION_TIME
from faceaudit.report.audited import audited_details, is_audited_run, rejects_context
from faceaudit.report.calibration_tables import calibration_context, thresholds_context
from faceaudit.report.configuration import configuration_context
from faceaudit.report.datasets import dataset_context
from faceaudit.report.fairness_tables import fairness_context
from faceaudit.report.gallery_tables import gallery_context, ordinal_rows
from faceaudit.report.generative import sequence_section, vae_sections
from faceaudit.report.model_card import LIMITATIONS, index_uncertainty, model_card
from faceaudit.report.overview import grids, overview, run_page_link
from faceaudit.report.references import run_references
from faceaudit.report.render import number, write_all, write_page
from faceaudit.report.results import figure, load_dataset, load_run, split_counts
from faceaudit.report.subgroup_tables import subgroups_context
from faceaudit.report.tradeoff import tradeoff_section
from faceaudit.study.kinds import POST_PROCESSED, kind_of_run

CLASSIFICATION_METRICS = ["accuracy", "balanced_accuracy", "precision", "sensitivity", "specificity", "f1", "f1_macro"]
REGRESSION_METRICS = ["mae", "rmse", "mean_error", "r2"]
PER_CLASS_SCORES = ["precision", "sensitivity", "specificity", "f1"]


def write_report(
    runs: dict,
    config: dict,
    environment: dict,
    files: dict,
    out_dir: Path,
    vae_runs: dict | None = None,
    user_config: dict | None = None,
    seeds: dict | None = None,
    workers: int = 1,
    comparisons: dict | None = None,
) -> None:
    """Write out_dir/index.html and out_dir/runs/<run>.html from the files the workflow produced.

    `files` says which file is which (study.result_files.report_files): per run, per eval set, per dataset, per VAE
    run, per seeded configuration, and the sine-wave comparison's files where `sequence_comparison` is enabled. Only
    these files are read.
    `config` is the study's config with the schema's defaults filled in, `user_config` what the user's config
    files set (None: not known, the whole config is shown as set). `workers`: processes that write the run pages
    (render.write_all; more than one only pays where that many cores are free).
    """
    results = {name: load_run(files["runs"][name]) for name in runs}
    datasets = {name: load_dataset(dataset_files) for name, dataset_files in files["datasets"].items()}
    index = index_context(runs, config, environment, results, datasets, files, vae_runs or {})
    index["configuration"] = configuration_context(config, user_config)
    index["seeds"] = seeds  # the configurations trained with several seeds (faceaudit.report.seeds), or None
    index["uncertainty"] = index_uncertainty(seeds is not None)
    index["comparisons"] = comparisons  # each configuration minus its baseline (faceaudit.report.comparisons), or None
    index["tradeoff"] = tradeoff_section(runs, results, seeds, (seeds or {}).get("seed_runs", {}))
    write_page(Path(out_dir, "index.html"), "index.html", index)
    split_sizes = {name: split_counts(dataset["manifest"]) for name, dataset in datasets.items()}
    pages = [
        (
            run,
            results[name],
            files["runs"][name],
            split_sizes[run["dataset"]],
            (seeds or {}).get("card_lines", {}).get(name),
            (comparisons or {}).get("card_lines", {}).get(name),
            config["datasets"].get(run["dataset"], {}).get("published_results", []),
            Path(out_dir, run_page_link(name)),
        )
        for name, run in runs.items()
    ]
    write_all(write_run_page, pages, workers)
    remove_pages_of_other_runs(Path(out_dir), runs)


def write_run_page(
    run: dict,
    result: dict,
    files: dict,
    split_sizes: dict,
    seed_lines: list | None,
    comparison_lines: list | None,
    published: list,
    path: Path,
) -> None:
    """One run's page (in a worker process where write_report spreads the pages over several)."""
    context = run_context(run, result, files, split_sizes, seed_lines)
    context["card"]["comparison_lines"] = comparison_lines or []
    context["references"] = run_references(published, run["targets"], result["metrics"], result["fairness"])
    write_page(path, "run.html", context)


def remove_pages_of_other_runs(out_dir: Path, runs: dict) -> None:
    """A run removed from the study leaves no page behind (Snakemake only removes the outputs it still knows)."""
    current = {Path(out_dir, run_page_link(name)) for name in runs}
    for page in Path(out_dir, run_page_link("x")).parent.glob("*.html"):
        if page not in current:
            page.unlink()


def index_context(
    runs: dict, config: dict, environment: dict, results: dict, datasets: dict, files: dict, vae_runs: dict
) -> dict:
    return {
        "limitations": LIMITATIONS,
        "overview": overview(runs, results) if runs else None,
        "grids": grids(runs, results),
        "vae_runs": vae_sections({name: files["vae"][name] for name in vae_runs}),
        "sequence": sequence_section(config.get("sequence_comparison", {}), files["sequence"]),
        "datasets": [
            dataset_context(name, config["datasets"][name], data, files["datasets"][name])
            for name, data in datasets.items()
        ],
        "environment": environment,
    }


def run_context(run: dict, result: dict, files: dict, split_sizes: dict, seed_lines: list[str] | None = None) -> dict:
    info = result["info"]
    return {
        "run": run["run"],
        "details": details(run, info),
        "card": model_card(run, info, result["metrics"], result["fairness"], split_sizes, seed_lines),
        "curves": figure(files["curves"], curves_caption(run)) if files.get("curves") else None,
        "eval_sets": [
            eval_set_context(eval_set, result, eval_files) for eval_set, eval_files in files["eval_sets"].items()
        ],
        "architecture": info["architecture"],
    }


def eval_set_context(eval_set: str, result: dict, files: dict) -> dict:
    """One eval set's metrics per target, its fairness audit, calibration, decision thresholds and worst subgroups
    (the last three None where the report was given no such file)."""
    fairness, calibration = result["fairness"][eval_set], result["calibration"][eval_set]
    return {
        "name": eval_set,
        "targets": [
            target_context(target, metrics, files["figures"]) for target, metrics in result["metrics"][eval_set].items()
        ],
        "group_figure": figure(files["group_figure"], "accuracy per group with 95% intervals"),
        "fairness": fairness_context(fairness, result["metrics"][eval_set]),
        "calibration": calibration_context(calibration, fairness, files.get("calibration_figures")),
        "thresholds": thresholds_context(calibration, fairness, files.get("calibration_figures")),
        "subgroups": subgroups_context(result["subgroups"][eval_set]),
        "ordinal": ordinal_rows(result["metrics"][eval_set], fairness),
        "gallery": gallery_context(result.get("galleries", {}).get(eval_set)),
        "rejects": rejects_context(result.get("rejects", {}).get(eval_set)),
    }


def curves_caption(run: dict) -> str:
    source = run.get("post_processing", {}).get("source_run")
    return f"training curves of {source}, the run whose scores were post-processed" if source else "training curves"


def details(run: dict, info: dict) -> dict:
    if kind_of_run(run) is POST_PROCESSED:
        return post_processing_details(run, info)
    if is_audited_run(run):
        return audited_details(run, info)
    return trained_details(run, info)


def trained_details(run: dict, info: dict) -> dict:
    throughput = sorted(info["images_per_second"])
    return {
        "experiment": run["experiment"],
        "dataset": run["dataset"],
        "model": run["model"],
        "targets": ", ".join(run["targets"]),
        "input": f"{run['image_size']}x{run['image_size']} {run['color']}",
        **run["hyperparameters"],
        **training_details(run.get("training", {}), info),
        "seed": run["seed"],
        "parameters": f"{info['parameters']:,}",
        "epochs completed": info["epochs_completed"],
        "weights kept": weights_kept(run.get("training", {}), info),
        "resumed from epoch": info.get("resumed_from_epoch") or "no (trained in one go)",
        "training time (s)": number(info["training_seconds"], 1),
        "throughput (images/s, median epoch)": number(throughput[len(throughput) // 2], 1) if throughput else "n/a",
        "host": info["host"],
        "SLURM job": info["slurm_job_id"] or "none (local run)",
        "GPUs": ", ".join(info["gpus"]) or "none (CPU)",
        "TensorFlow / Keras": f"{info['tensorflow_version']} / {info['keras_version']}",
    }


def post_processing_details(run: dict, info: dict) -> dict:
    """A derived run: which trained run's scores it adjusts, with what, fitted on what; what deciding needs."""
    setting, fitted = run["post_processing"], info.get("post_processing", {})
    rows = fitted.get("fitted_on", {}).get("rows")
    return {
        "experiment": run["experiment"],
        "dataset": run["dataset"],
        "model": f"{run['model']} (the model of {setting['source_run']}, not retrained)",
        "targets": ", ".join(run["targets"]),
        "input": f"{run['image_size']}x{run['image_size']} {run['color']}",
        "predictions from": f"{setting['source_run']}, post-processed",
        "post-processing": f"{setting['method']} ({setting['constraint']}) of {setting['target']} over the groups "
        f"of {setting['attribute']}"
        + (f", privileged group {setting['privileged_group']}" if setting.get("privileged_group") else ""),
        "fitted on": f"{setting['source_run']}'s val predictions" + (f" ({rows} rows)" if rows else ""),
        "scores in its predictions": "adjusted scores"
        if setting["output"] == "scores"
        else "the 0/1 decision (the method gives no scores)",
        "at decision time": DECISION_TIME[setting["method"]],
        "post-processing seed": setting["seed"],
        "fit time (s)": number(fitted["fit_seconds"], 2) if "fit_seconds" in fitted else "n/a",
        "parameters": f"{info['parameters']:,}" if "parameters" in info else "n/a",
    }


def training_details(training: dict, info: dict) -> dict:
    """How the run trained: its steps (what trained, epochs run of those allowed, learning rate), loss weighting,
    augmentation, transfer settings and precision."""
    if not training:
        return {}
    step_epochs = info.get("step_epochs", [step["epochs"] for step in training["steps"]])
    steps = "; ".join(
        f"{index + 1}. {step['trainable']}: {ran} of {step['epochs']} epochs, lr {step['learning_rate']:g}"
        + (
            f", early stopping on {step['early_stopping']['monitor']} (patience {step['early_stopping']['patience']})"
            if step["early_stopping"]["patience"] is not None
            else ""
        )
        for index, (step, ran) in enumerate(zip(training["steps"], step_epochs, strict=False))
    )
    weighting = training["loss_weighting"]
    attributes = weighting.get("attributes")
    details = {
        "training steps": steps,
        "loss weighting": weighting["method"] + (f" over {', '.join(attributes)}" if attributes else ""),
        "in-training mitigation": mitigation_summary(training.get("mitigation") or {"method": "none"}),
        "model selection": selection_summary(training.get("model_selection") or {"monitor": "none"}),
        "augmentation": ", ".join(f"{key} {value}" for key, value in training["augmentation"].items()) or "none",
        "precision": info.get("precision_policy", "float32"),
    }
    details.update(
        {key.replace("_", " "): training[key] for key in ("head", "weights", "unfreeze_last") if key in training}
    )
    return details


def mitigation_summary(mitigation: dict) -> str:
    """E.g. `group_dro over group, strength 0.01`; the method's other settings follow."""
    if mitigation["method"] == "none":
        return "none"
    others = [f"{key} {value}" for key, value in mitigation.items() if key not in ("method", "attributes", "strength")]
    return ", ".join(
        [
            f"{mitigation['method']} over {'+'.join(mitigation['attributes'])}",
            f"strength {mitigation['strength']:g}",
            *others,
        ]
    )


def selection_summary(selection: dict) -> str:
    if selection["monitor"] == "none":
        return "none (the last epoch, or early stopping's)"
    groups = "+".join(selection["attributes"])
    return f"epoch with the best val_{selection['monitor']} of {selection['target']} over {groups}"


def restores_best_weights(step: dict) -> bool:
    stopping = step.get("early_stopping") or {}
    return stopping.get("patience") is not None and bool(stopping.get("restore_best_weights", True))


def restoration(entry: dict, steps: list) -> str:
    """E.g. early stopping restored epoch 7 (best val_loss), or model selection kept epoch 3 (best
    val_worst_group_accuracy 0.8125): epochs counted from 1 across steps, as in the figure."""
    if entry.get("value") is not None:
        return f"model selection kept epoch {entry['epoch'] + 1} (best {entry['monitor']} {entry['value']:.4g})"
    step = steps[entry["step"]] if entry["step"] < len(steps) else {}
    monitor = (step.get("early_stopping") or {}).get("monitor", "monitored value")
    return f"early stopping restored epoch {entry['epoch'] + 1} (best {monitor})"


def weights_kept(training: dict, info: dict) -> str:
    """Which epoch's weights the saved model holds, and why: the last epoch's, or those early stopping restored in
    the last step (run.json's `restored_epochs`; a run.json written before it was recorded says so)."""
    steps = training.get("steps") or []
    last_epoch = info["epochs_completed"]
    restored = info.get("restored_epochs")
    if restored is None:
        if any(restores_best_weights(step) for step in steps):
            return f"not recorded (this run.json predates restored_epochs); {last_epoch} epochs were trained"
        return f"epoch {last_epoch}, the last one trained"
    last_step = max(len(steps), len(info.get("step_epochs") or []), 1) - 1
    final = [entry for entry in restored if entry["step"] == last_step]
    kept = (
        f"epoch {final[-1]['epoch'] + 1}: {restoration(final[-1], steps)}"
        if final
        else f"epoch {last_epoch}, the last one trained"
    )
    earlier = [
        f"step {entry['step'] + 1} ended as {restoration(entry, steps)}" for entry in restored if entry not in final
    ]
    return "; ".join([kept, *earlier])


def target_context(target: str, metrics: dict, figures_dir: Path) -> dict:
    """One target's metrics on an eval set; for classifiers also per class, the confusion matrix and ROC curve."""
    if metrics["kind"] == "regression":
        return {
            "target": target,
            "kind": "regression",
            "n": metrics["n"],
            "metrics": [{"name": name, "value": metrics[name]} for name in REGRESSION_METRICS],
        }
    auc_name = "AUC" if metrics["kind"] == "binary" else "AUC (one-vs-rest, macro)"
    return {
        "target": target,
        "kind": metrics["kind"],
        "n": metrics["n"],
        "positive_class": metrics.get("positive_class"),
        "metrics": [
            *({"name": name, "value": metrics[name]} for name in CLASSIFICATION_METRICS),
            {"name": auc_name, "value": metrics["roc"]["auc"]},
        ],
        "per_class": [
            {"name": cls, "support": scores["support"], "scores": [scores[key] for key in PER_CLASS_SCORES]}
            for cls, scores in metrics["per_class"].items()
        ],
        "confusion": figure(Path(figures_dir) / f"confusion_{target}.png", f"confusion matrix {target}"),
        "roc": figure(Path(figures_dir) / f"roc_{target}.png", f"ROC {target}"),
    }
