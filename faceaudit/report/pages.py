"""The study's HTML report: an overview of all runs and a page per run, self-contained (figures embedded), offline.

This module builds each page's context (plain dicts and lists) from the loaded results; the templates in
templates/ turn them into HTML (render.py).
"""

from pathlib import Path

import pandas as pd
import yaml

from faceaudit.data.summary import class_distributions
from faceaudit.evaluation.fairness import AIF360_METRICS
from faceaudit.report.generative import sequence_section, vae_sections
from faceaudit.report.model_card import LIMITATIONS, UNCERTAINTY, model_card
from faceaudit.report.render import write_page
from faceaudit.report.results import figure, load_dataset, load_run, optional_figure, split_counts

# Overview columns: (key in the row, header, which value is best: "high", "low", "near_one" or None).
OVERVIEW_COLUMNS = [
    ("accuracy", "accuracy", "high"),
    ("balanced_accuracy", "balanced accuracy", "high"),
    ("f1", "F1", "high"),
    ("auc", "AUC", "high"),
    ("accuracy_gap", "largest group accuracy gap", "low"),
    ("disparate_impact_min", "lowest disparate impact", "near_one"),
    ("mae", "MAE", "low"),
    ("mae_spread", "group MAE spread", "low"),
]
OVERVIEW_HEADERS = [
    "run",
    "model",
    "eval set",
    "target",
    *(header for _, header, _ in OVERVIEW_COLUMNS),
    "gap 95% CI",
    "gap attribute",
    "lowest-impact group vs rest",
    "training s",
]
CLASSIFICATION_METRICS = ["accuracy", "balanced_accuracy", "precision", "sensitivity", "specificity", "f1", "f1_macro"]
REGRESSION_METRICS = ["mae", "rmse", "mean_error", "r2"]
PER_CLASS_SCORES = ["precision", "sensitivity", "specificity", "f1"]
GROUP_SCORES = ["n", "accuracy", "error_rate", "tpr", "fpr", "selection_rate"]


def run_page_link(name: str) -> str:
    """Where a run's page lies, relative to index.html."""
    return f"runs/{name}.html"


def write_report(
    runs: dict, config: dict, environment: dict, files: dict, out_dir: Path, vae_runs: dict | None = None
) -> None:
    """Write out_dir/index.html and out_dir/runs/<run>.html from the files the workflow produced.

    `files` says which file is which (results.report_files): per run, per eval set, per dataset, per VAE run, and
    the sine-wave comparison's files where `sequence_comparison` is enabled. Only these files are read.
    """
    results = {name: load_run(files["runs"][name]) for name in runs}
    datasets = {name: load_dataset(dataset_files) for name, dataset_files in files["datasets"].items()}
    index = index_context(runs, config, environment, results, datasets, files, vae_runs or {})
    write_page(Path(out_dir, "index.html"), "index.html", index)
    for name, run in runs.items():
        split_sizes = split_counts(datasets[run["dataset"]]["manifest"])
        context = run_context(run, results[name], files["runs"][name], split_sizes)
        write_page(Path(out_dir, run_page_link(name)), "run.html", context)


def index_context(
    runs: dict, config: dict, environment: dict, results: dict, datasets: dict, files: dict, vae_runs: dict
) -> dict:
    return {
        "limitations": LIMITATIONS,
        "uncertainty": UNCERTAINTY,
        "overview": overview(overview_rows(runs, results)) if runs else None,
        "grids": grids(runs, results),
        "vae_runs": vae_sections({name: files["vae"][name] for name in vae_runs}),
        "sequence": sequence_section(config.get("sequence_comparison", {}), files["sequence"]),
        "datasets": [
            dataset_context(name, config["datasets"][name], data, files["datasets"][name])
            for name, data in datasets.items()
        ],
        "environment": environment,
        "config": yaml.dump(config, Dumper=PlainDumper, sort_keys=False),
    }


def audited_attributes(fairness: dict):
    return [(attribute, audit) for attribute, audit in fairness.items() if attribute != "skipped_attributes"]


def largest_gap(fairness: dict, key: str = "accuracy_gap") -> tuple:
    """(gap, its interval, attribute) of the largest best-vs-worst gap (accuracy, or MAE for regression)."""
    gaps = [
        (audit[key], audit.get(f"{key}_ci"), attribute)
        for attribute, audit in audited_attributes(fairness)
        if key in audit
    ]
    return max(gaps, key=lambda gap: gap[0]) if gaps else (None, None, "")


def lowest_disparate_impact(fairness: dict) -> tuple:
    values = [
        (scores["disparate_impact"], f"{attribute}={group}")
        for attribute, audit in audited_attributes(fairness)
        for group, scores in audit.get("vs_rest", {}).items()
        if scores["disparate_impact"] is not None
    ]
    return min(values) if values else (None, "")


def overview_rows(runs: dict, results: dict) -> list[dict]:
    rows = []
    for name, run in runs.items():
        for eval_set in run["eval_sets"]:
            for target in run["targets"]:
                metrics = results[name]["metrics"][eval_set][target]
                fairness = results[name]["fairness"][eval_set][target]
                regression = metrics["kind"] == "regression"
                gap, gap_interval, gap_attribute = largest_gap(fairness, "mae_spread" if regression else "accuracy_gap")
                impact, impact_group = lowest_disparate_impact(fairness)
                rows.append(
                    {
                        "run": name,
                        "model": run["model"],
                        "eval_set": eval_set,
                        "target": target,
                        **{key: metrics.get(key) for key in ("accuracy", "balanced_accuracy", "f1", "mae")},
                        "auc": metrics.get("roc", {}).get("auc"),
                        "accuracy_gap": None if regression else gap,
                        "mae_spread": gap if regression else None,
                        "gap_interval": gap_interval,
                        "gap_attribute": gap_attribute,
                        "disparate_impact_min": impact,
                        "impact_group": impact_group,
                        "training_seconds": results[name]["info"]["training_seconds"],
                    }
                )
    return rows


def extremes(rows: list[dict], key: str, better: str) -> tuple:
    """(best, worst) value of a column among comparable rows (same eval set and target); None if fewer than 2."""
    values = [row[key] for row in rows if row[key] is not None]
    if len(set(values)) < 2:
        return None, None
    order = {"high": lambda value: value, "low": lambda value: -value, "near_one": lambda value: -abs(1 - value)}[
        better
    ]
    return max(values, key=order), min(values, key=order)


def mark(value, best, worst) -> str | None:
    """ "best" or "worst" where the value is the column's best or worst among comparable rows."""
    if value is None:
        return None
    return "best" if value == best else "worst" if value == worst else None


def overview(rows: list[dict]) -> dict:
    """The overview table: rows grouped by eval set and target, each metric cell marked best or worst among its
    group and keyed (<eval set>.<target>.<metric>) so that tests and readers can check it against the JSON files."""
    table = []
    for indices in pd.DataFrame(rows).groupby(["eval_set", "target"], sort=False).groups.values():
        comparable = [rows[index] for index in indices]
        marks = {key: extremes(comparable, key, better) for key, _, better in OVERVIEW_COLUMNS}
        for row in comparable:
            cells = [
                {
                    "key": f"{row['eval_set']}.{row['target']}.{key}",
                    "value": row[key],
                    "mark": mark(row[key], *marks[key]),
                }
                for key, _, _ in OVERVIEW_COLUMNS
            ]
            table.append({**row, "link": run_page_link(row["run"]), "cells": cells})
    return {"headers": OVERVIEW_HEADERS, "rows": table}


def grids(runs: dict, results: dict) -> list[dict]:
    """Per experiment with a hyperparameter grid: the first target's accuracy on its first eval set, per grid point."""
    tables = []
    for experiment in dict.fromkeys(run["experiment"] for run in runs.values()):
        members = [run for run in runs.values() if run["experiment"] == experiment and run["grid_point"]]
        if not members:
            continue
        eval_set, target = members[0]["eval_sets"][0], next(iter(members[0]["targets"]))
        accuracy = {run["run"]: results[run["run"]]["metrics"][eval_set][target]["accuracy"] for run in members}
        tables.append(
            {"experiment": experiment, "target": target, "eval_set": eval_set, **grid_table(members, accuracy)}
        )
    return tables


def grid_table(members: list[dict], accuracy: dict) -> dict:
    """Headers and rows (grid values as names, accuracies as numbers): a row per grid point, or for a grid over
    two settings a table with the first setting's values as rows and the second's as columns."""
    keys = list(members[0]["grid_point"])
    if len(keys) != 2:
        rows = [
            {"names": [run["grid_point"][key] for key in keys], "numbers": [accuracy[run["run"]]]} for run in members
        ]
        return {"headers": [*keys, "accuracy"], "rows": rows}
    row_key, column_key = keys
    row_values = list(dict.fromkeys(run["grid_point"][row_key] for run in members))
    column_values = list(dict.fromkeys(run["grid_point"][column_key] for run in members))
    cell = {(run["grid_point"][row_key], run["grid_point"][column_key]): accuracy[run["run"]] for run in members}
    rows = [
        {"names": [row_value], "numbers": [cell.get((row_value, column_value)) for column_value in column_values]}
        for row_value in row_values
    ]
    return {"headers": [f"{row_key} \\ {column_key}", *map(str, column_values)], "rows": rows}


def dataset_context(name: str, dataset: dict, data: dict, files: dict) -> dict:
    """What the data section shows of one dataset: split sizes, rejected and repaired rows, class counts, samples."""
    manifest, rejects, repairs = data["manifest"], data["rejects"], data["repairs"]
    counts = manifest["split"].value_counts()
    return {
        "name": name,
        "layout": dataset["layout"],
        "split_sizes": [{"split": split, "images": int(counts.get(split, 0))} for split in ("train", "val", "test")],
        "rejected": len(rejects),
        "reject_reasons": [
            {"reason": reason, "rows": int(count)} for reason, count in rejects["reason"].value_counts().items()
        ],
        "repairs": None
        if repairs is None or repairs.empty
        else {"headers": list(repairs.columns), "rows": repairs.values.tolist()},
        "distributions": [
            {
                "label": label,
                "headers": [label, *map(str, distribution.columns)],
                "rows": [{"name": value, "counts": row.tolist()} for value, row in distribution.iterrows()],
            }
            for label, distribution in class_distributions(manifest, dataset["labels"]).items()
        ],
        "samples": optional_figure(files.get("samples"), f"sample images of {name} with their labels"),
    }


class PlainDumper(yaml.SafeDumper):
    """Writes repeated values out in full instead of as YAML anchors (&id001), which readers do not expect."""

    def ignore_aliases(self, data):
        return True


def run_context(run: dict, result: dict, files: dict, split_sizes: dict) -> dict:
    info = result["info"]
    return {
        "run": run["run"],
        "details": details(run, info),
        "card": model_card(run, info, result["metrics"], result["fairness"], split_sizes),
        "curves": figure(files["curves"], "training curves"),
        "eval_sets": [
            {
                "name": eval_set,
                "targets": [
                    target_context(target, metrics, eval_files["figures"])
                    for target, metrics in result["metrics"][eval_set].items()
                ],
                "group_figure": figure(eval_files["group_figure"], "accuracy per group with 95% intervals"),
                "fairness": fairness_context(result["fairness"][eval_set]),
            }
            for eval_set, eval_files in files["eval_sets"].items()
        ],
        "architecture": info["architecture"],
    }


def details(run: dict, info: dict) -> dict:
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
        "resumed from epoch": info.get("resumed_from_epoch") or "no (trained in one go)",
        "training time (s)": info["training_seconds"],
        "throughput (images/s, median epoch)": throughput[len(throughput) // 2] if throughput else "n/a",
        "host": info["host"],
        "SLURM job": info["slurm_job_id"] or "none (local run)",
        "GPUs": ", ".join(info["gpus"]) or "none (CPU)",
        "TensorFlow / Keras": f"{info['tensorflow_version']} / {info['keras_version']}",
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
        "augmentation": ", ".join(f"{key} {value}" for key, value in training["augmentation"].items()) or "none",
        "precision": info.get("precision_policy", "float32"),
    }
    details.update(
        {key.replace("_", " "): training[key] for key in ("head", "weights", "unfreeze_last") if key in training}
    )
    return details


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


def fairness_context(fairness: dict) -> list[dict]:
    """Per target: the attributes not audited (and why), and the audit of each other attribute."""
    return [
        {
            "target": target,
            "skipped": [
                {"attribute": attribute, "reason": reason}
                for attribute, reason in by_attribute.get("skipped_attributes", {}).items()
            ],
            "audits": [
                regression_audit(attribute, audit) if "mae_spread" in audit else classification_audit(attribute, audit)
                for attribute, audit in audited_attributes(by_attribute)
            ],
        }
        for target, by_attribute in fairness.items()
    ]


def classification_audit(attribute: str, audit: dict) -> dict:
    columns = [key for key in GROUP_SCORES if key in next(iter(audit["groups"].values()))]
    comparisons = {f"{group} vs rest": scores for group, scores in audit.get("vs_rest", {}).items()}
    privileged = audit.get("privileged") or {}
    return {
        "attribute": attribute,
        "kind": "classification",
        "columns": columns,
        "gap": audit["accuracy_gap"],
        "gap_interval": audit.get("accuracy_gap_ci"),
        "best_group": audit["best_group"],
        "worst_group": audit["worst_group"],
        "groups": [
            {
                "name": group,
                "n": scores.get("n"),
                "scores": [scores[key] for key in columns],
                "accuracy_interval": scores.get("accuracy_ci"),
                "versus_rest": audit["accuracy_vs_rest"].get(group),
            }
            for group, scores in audit["groups"].items()
        ],
        "versus_rest": comparison_table(comparisons) if comparisons else None,
        "privileged": comparison_table({f"others vs {privileged['privileged_group']} (privileged)": privileged})
        if "disparate_impact" in privileged
        else None,
        "class_gaps": class_gaps(audit["class_tpr_gaps"]) if "class_tpr_gaps" in audit else None,
    }


def regression_audit(attribute: str, audit: dict) -> dict:
    return {
        "attribute": attribute,
        "kind": "regression",
        "gap": audit["mae_spread"],
        "gap_interval": audit.get("mae_spread_ci"),
        "best_group": audit["best_group"],
        "worst_group": audit["worst_group"],
        "groups": [
            {
                "name": group,
                "n": scores["n"],
                "mae": scores["mae"],
                "mae_interval": scores.get("mae_ci"),
                "mean_error": scores["mean_error"],
                "versus_rest": audit["mae_vs_rest"].get(group),
            }
            for group, scores in audit["groups"].items()
        ],
    }


def comparison_table(comparisons: dict) -> dict:
    """aif360's scores of each comparison of groups, each with its interval, and the four-fifths rule's verdict."""
    return {
        "headers": ["comparison", *AIF360_METRICS, "four-fifths rule"],
        "rows": [
            {
                "label": label,
                "four_fifths_rule": scores["four_fifths_rule"] or "n/a",
                "scores": [{"value": scores[key], "interval": scores["ci"].get(key)} for key in AIF360_METRICS],
            }
            for label, scores in comparisons.items()
        ],
    }


def class_gaps(gaps: dict) -> dict:
    groups = list(next(iter(gaps.values()))["tpr"])
    rows = [
        {"name": cls, "tpr": [scores["tpr"][group] for group in groups], "gap": scores["gap"]}
        for cls, scores in gaps.items()
    ]
    return {"groups": groups, "rows": rows}
