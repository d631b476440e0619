"""The study's HTML report: an overview of all runs and a page per run, self-contained (figures embedded), offline."""

import json
from pathlib import Path

import pandas as pd
import yaml

from faceaudit.data.summary import class_distributions
from faceaudit.evaluation.fairness import AIF360_METRICS
from faceaudit.report.html import embed_png, escape, interval_text, key_value_table, name_cell, number, page, table
from faceaudit.report.model_card import LIMITATIONS, UNCERTAINTY, model_card
from faceaudit.report.generative import sequence_section, vae_section
from faceaudit.labels import eval_set_source

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

OVERVIEW_INTRO = (
    "<p>Per run, eval set and target: accuracy, balanced accuracy, F1 (positive class for binary targets, macro "
    "over classes otherwise) and AUC (one-vs-rest macro average for multi-class targets). The fairness columns give "
    "the largest accuracy gap between the best and worst group of any sensitive attribute, with its bootstrap "
    "interval, and the lowest disparate impact of any group against the rest (below 0.8 fails the four-fifths "
    "rule). Among runs with the same eval set and target, green marks the best value of a column, red the worst.</p>"
)


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def load_run_results(runs_dir: Path, run: dict) -> dict:
    """run.json plus metrics and fairness JSON of every eval set of one run."""
    run_dir = Path(runs_dir) / run["run"]
    return {
        "info": read_json(run_dir / "run.json"),
        "metrics": {eval_set: read_json(run_dir / "metrics" / f"{eval_set}.json") for eval_set in run["eval_sets"]},
        "fairness": {eval_set: read_json(run_dir / "fairness" / f"{eval_set}.json") for eval_set in run["eval_sets"]},
    }


def audited_attributes(fairness: dict):
    return [(attribute, audit) for attribute, audit in fairness.items() if attribute != "skipped_attributes"]


def largest_gap(fairness: dict, key: str = "accuracy_gap") -> tuple:
    """(gap, its interval, attribute) of the largest best-vs-worst gap (accuracy, or MAE for regression)."""
    gaps = [(audit[key], audit.get(f"{key}_ci"), attribute) for attribute, audit in audited_attributes(fairness) if key in audit]
    return max(gaps, key=lambda gap: gap[0]) if gaps else (None, None, "")


def lowest_disparate_impact(fairness: dict) -> tuple:
    values = [(scores["disparate_impact"], f"{attribute}={group}") for attribute, audit in audited_attributes(fairness)
              for group, scores in audit.get("vs_rest", {}).items() if scores["disparate_impact"] is not None]
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
                rows.append({
                    "run": name, "model": run["model"], "eval_set": eval_set, "target": target,
                    **{key: metrics.get(key) for key in ("accuracy", "balanced_accuracy", "f1", "mae")},
                    "auc": metrics.get("roc", {}).get("auc"),
                    "accuracy_gap": None if regression else gap, "mae_spread": gap if regression else None,
                    "gap_interval": gap_interval, "gap_attribute": gap_attribute,
                    "disparate_impact_min": impact, "impact_group": impact_group,
                    "training_seconds": results[name]["info"]["training_seconds"],
                })
    return rows


def extremes(rows: list[dict], key: str, better: str) -> tuple:
    """(best, worst) value of a column among comparable rows (same eval set and target); None if fewer than 2."""
    values = [row[key] for row in rows if row[key] is not None]
    if len(set(values)) < 2:
        return None, None
    order = {"high": lambda value: value, "low": lambda value: -value, "near_one": lambda value: -abs(1 - value)}[better]
    return max(values, key=order), min(values, key=order)


def overview_table(rows: list[dict]) -> str:
    rendered = []
    for indices in pd.DataFrame(rows).groupby(["eval_set", "target"], sort=False).groups.values():
        comparable = [rows[index] for index in indices]
        marks = {key: extremes(comparable, key, better) for key, _, better in OVERVIEW_COLUMNS}
        rendered += [overview_row(row, marks) for row in comparable]
    headers = ["run", "model", "eval set", "target", *(header for _, header, _ in OVERVIEW_COLUMNS),
               "gap 95% CI", "gap attribute", "lowest-impact group vs rest", "training s"]
    return table(headers, rendered)


def overview_row(row: dict, marks: dict) -> str:
    cells = [name_cell(row["run"], f"runs/{row['run']}.html"), name_cell(row["model"]),
             name_cell(row["eval_set"]), name_cell(row["target"])]
    cells += [metric_cell(row[key], row["run"], f"{row['eval_set']}.{row['target']}.{key}", *marks[key])
              for key, _, _ in OVERVIEW_COLUMNS]
    cells += [f"<td>{interval_text(row['gap_interval'])}</td>", name_cell(row["gap_attribute"]),
              name_cell(row["impact_group"]), f"<td>{row['training_seconds']:.1f}</td>"]
    return "".join(cells)


def metric_cell(value, run: str, key: str, best=None, worst=None) -> str:
    """A cell carrying the exact value too, so tests and readers can check it against the JSON files."""
    mark = ' class="best"' if value is not None and value == best else ' class="worst"' if value is not None and value == worst else ""
    exact = "" if value is None else f' data-value="{value!r}"'
    return f'<td{mark} data-run="{escape(run)}" data-key="{escape(key)}"{exact}>{number(value)}</td>'


def grid_section(runs: dict, results: dict) -> str:
    """Per experiment with a hyperparameter grid: the first target's accuracy on its first eval set, per grid point."""
    parts = []
    for experiment in dict.fromkeys(run["experiment"] for run in runs.values()):
        members = [run for run in runs.values() if run["experiment"] == experiment and run["grid_point"]]
        if not members:
            continue
        eval_set, target = members[0]["eval_sets"][0], next(iter(members[0]["targets"]))
        accuracy = {run["run"]: results[run["run"]]["metrics"][eval_set][target]["accuracy"] for run in members}
        parts.append(f"<h3>{escape(experiment)}: {escape(target)} accuracy on {escape(eval_set)}</h3>")
        parts.append(grid_table(members, accuracy))
    return "\n".join(["<h2>Hyperparameter grids</h2>", *parts]) if parts else ""


def grid_table(members: list[dict], accuracy: dict) -> str:
    keys = list(members[0]["grid_point"])
    if len(keys) != 2:
        return table([*keys, "accuracy"], [
            "".join(name_cell(run["grid_point"][key]) for key in keys) + f"<td>{number(accuracy[run['run']])}</td>"
            for run in members])
    row_key, column_key = keys
    row_values = list(dict.fromkeys(run["grid_point"][row_key] for run in members))
    column_values = list(dict.fromkeys(run["grid_point"][column_key] for run in members))
    cell = {(run["grid_point"][row_key], run["grid_point"][column_key]): accuracy[run["run"]] for run in members}
    rows = [name_cell(row_value) + "".join(f"<td>{number(cell.get((row_value, column_value)))}</td>" for column_value in column_values)
            for row_value in row_values]
    return table([f"{row_key} \\ {column_key}", *map(str, column_values)], rows)


def data_section(datasets: dict, data_dir: Path, used: list[str]) -> str:
    parts = ["<h2>Data</h2>"]
    for name in used:
        folder = Path(data_dir) / name
        manifest = pd.read_csv(folder / "manifest.csv", dtype=str, keep_default_na=False)
        rejects = pd.read_csv(folder / "rejects.csv", dtype=str, keep_default_na=False)
        counts = manifest["split"].value_counts()
        parts.append(f"<h3>{escape(name)} (layout {escape(datasets[name]['layout'])})</h3>")
        parts.append("<p>" + ", ".join(f"{escape(split)}: {counts.get(split, 0)}" for split in ("train", "val", "test"))
                     + f" images; {len(rejects)} rows rejected.</p>")
        parts.append(count_table("rejected rows by reason", rejects, "reason"))
        if (folder / "repairs.csv").exists():
            parts.append(repairs_table(pd.read_csv(folder / "repairs.csv", dtype=str, keep_default_na=False)))
        for label, distribution in class_distributions(manifest, datasets[name]["labels"]).items():
            parts.append(f"<h4>{escape(label)} per split</h4>")
            parts.append(table([label, *map(str, distribution.columns)], [
                name_cell(value) + "".join(f"<td>{escape(count)}</td>" for count in row) for value, row in distribution.iterrows()]))
        if (folder / "samples.png").exists():
            parts.append(embed_png(folder / "samples.png", f"sample images of {name} with their labels"))
    return "\n".join(parts)


def count_table(title: str, rows: pd.DataFrame, column: str) -> str:
    if rows.empty:
        return ""
    counts = rows[column].value_counts()
    return f"<h4>{escape(title)}</h4>" + table([column, "rows"], [name_cell(value) + f"<td>{count}</td>" for value, count in counts.items()])


def repairs_table(repairs: pd.DataFrame) -> str:
    """Values the adapter mapped back to the dataset's own words (e.g. FairFace age bins a spreadsheet made dates)."""
    if repairs.empty:
        return ""
    return "<h4>repaired values</h4>" + table(list(repairs.columns), [
        "".join(name_cell(value) for value in row) for row in repairs.itertuples(index=False)])


class PlainDumper(yaml.SafeDumper):
    """Writes repeated values out in full instead of as YAML anchors (&id001), which readers do not expect."""

    def ignore_aliases(self, data):
        return True


LAYOUT_SETTINGS = ("synthetic", "fairface_csv", "celeba_attributes", "class_folders", "split_lists", "utkface_names")


def without_other_layouts(config: dict) -> dict:
    """The config as used: each dataset keeps the settings of its own layout, not the defaults of the others."""
    datasets = {name: {key: value for key, value in dataset.items() if key not in LAYOUT_SETTINGS or key == dataset["layout"]}
                for name, dataset in config.get("datasets", {}).items()}
    return {**config, "datasets": datasets}


def environment_section(environment: dict, config: dict) -> str:
    return "\n".join([
        "<h2>Environment</h2>", key_value_table(environment),
        "<h3>Configuration used</h3>", f"<pre>{escape(yaml.dump(without_other_layouts(config), Dumper=PlainDumper, sort_keys=False))}</pre>",
    ])


def write_report(runs: dict, config: dict, environment: dict, data_dir: Path, runs_dir: Path, out_dir: Path,
                 vae_runs: dict | None = None, vae_dir: Path | None = None, sequence_dir: Path | None = None) -> None:
    """Write out_dir/index.html and out_dir/runs/<run>.html from the files the workflow produced; with VAE runs
    (their files in vae_dir) and an enabled `sequence_comparison` (files in sequence_dir), their sections too."""
    vae_runs = vae_runs or {}
    results = {name: load_run_results(runs_dir, run) for name, run in runs.items()}
    used = sorted({eval_set_source(run["dataset"], eval_set)[0] for run in runs.values() for eval_set in ["train", *run["eval_sets"]]}
                  | {run["dataset"] for run in vae_runs.values()})
    body = [
        "<h1>faceaudit report</h1>",
        f'<p class="note">{escape(LIMITATIONS)} {escape(UNCERTAINTY)}</p>',
        "<h2>Runs</h2>",
        OVERVIEW_INTRO + overview_table(overview_rows(runs, results)) if runs else "<p>This study trains no classifier.</p>",
        grid_section(runs, results),
        vae_section(vae_runs, vae_dir),
        sequence_section(config.get("sequence_comparison", {}), sequence_dir),
        data_section(config["datasets"], data_dir, used),
        environment_section(environment, config),
    ]
    Path(out_dir, "runs").mkdir(parents=True, exist_ok=True)
    Path(out_dir, "index.html").write_text(page("faceaudit report", "\n".join(body)))
    for name, run in runs.items():
        split_sizes = split_counts(Path(data_dir) / run["dataset"] / "manifest.csv")
        Path(out_dir, "runs", f"{name}.html").write_text(run_page(run, results[name], Path(runs_dir) / name, split_sizes))


def split_counts(manifest_path: Path) -> dict:
    splits = pd.read_csv(manifest_path, usecols=["split"], dtype=str)["split"].value_counts()
    return {split: int(splits.get(split, 0)) for split in ("train", "val", "test")}


def run_page(run: dict, result: dict, run_dir: Path, split_sizes: dict) -> str:
    info = result["info"]
    parts = [
        '<p><a href="../index.html">back to the overview</a></p>',
        f"<h1>Run {escape(run['run'])}</h1>",
        details_table(run, info),
        model_card(run, info, result["metrics"], result["fairness"], split_sizes),
        "<h2>Training curves</h2>",
        embed_png(run_dir / "figures" / "training_curves.png", "training curves"),
    ]
    for eval_set in run["eval_sets"]:
        parts.append(f"<h2>Eval set: {escape(eval_set)}</h2>")
        for target, metrics in result["metrics"][eval_set].items():
            parts.append(target_section(target, metrics, run_dir / "figures" / eval_set))
        parts.append(fairness_section(result["fairness"][eval_set], run_dir / "figures" / f"group_accuracy_{eval_set}.png"))
    parts += ["<h2>Architecture</h2>", f"<pre>{escape(info['architecture'])}</pre>"]
    return page(f"faceaudit run {run['run']}", "\n".join(parts))


def details_table(run: dict, info: dict) -> str:
    throughput = sorted(info["images_per_second"])
    details = {
        "experiment": run["experiment"], "dataset": run["dataset"], "model": run["model"],
        "targets": ", ".join(run["targets"]), "input": f"{run['image_size']}x{run['image_size']} {run['color']}",
        **run["hyperparameters"],
        **training_details(run.get("training", {}), info),
        "seed": run["seed"], "parameters": f"{info['parameters']:,}", "epochs completed": info["epochs_completed"],
        "resumed from epoch": info.get("resumed_from_epoch") or "no (trained in one go)",
        "training time (s)": info["training_seconds"],
        "throughput (images/s, median epoch)": throughput[len(throughput) // 2] if throughput else "n/a",
        "host": info["host"], "SLURM job": info["slurm_job_id"] or "none (local run)",
        "GPUs": ", ".join(info["gpus"]) or "none (CPU)",
        "TensorFlow / Keras": f"{info['tensorflow_version']} / {info['keras_version']}",
    }
    return key_value_table(details)


def training_details(training: dict, info: dict) -> dict:
    """How the run trained: its steps (what trained, epochs run of those allowed, learning rate), loss weighting,
    augmentation, transfer settings and precision."""
    if not training:
        return {}
    step_epochs = info.get("step_epochs", [step["epochs"] for step in training["steps"]])
    steps = "; ".join(f"{index + 1}. {step['trainable']}: {ran} of {step['epochs']} epochs, lr {step['learning_rate']:g}"
                      + (f", early stopping on {step['early_stopping']['monitor']} (patience {step['early_stopping']['patience']})"
                         if step["early_stopping"]["patience"] is not None else "")
                      for index, (step, ran) in enumerate(zip(training["steps"], step_epochs)))
    weighting = training["loss_weighting"]
    details = {
        "training steps": steps,
        "loss weighting": weighting["method"] + (f" over {', '.join(weighting['attributes'])}" if weighting.get("attributes") else ""),
        "augmentation": ", ".join(f"{key} {value}" for key, value in training["augmentation"].items()) or "none",
        "precision": info.get("precision_policy", "float32"),
    }
    details.update({key.replace("_", " "): training[key] for key in ("head", "weights", "unfreeze_last") if key in training})
    return details


def target_section(target: str, metrics: dict, figures_dir: Path) -> str:
    if metrics["kind"] == "regression":
        rows = [name_cell(name) + f"<td>{number(metrics[name])}</td>" for name in ("mae", "rmse", "mean_error", "r2")]
        return f"<h3>{escape(target)} (regression), n = {metrics['n']}</h3>" + table(["metric", "value"], rows)
    names = ["accuracy", "balanced_accuracy", "precision", "sensitivity", "specificity", "f1", "f1_macro"]
    summary = f"(positive class {escape(metrics['positive_class'])})" if metrics["kind"] == "binary" else "(macro averages)"
    rows = [name_cell(name) + f"<td>{number(metrics[name])}</td>" for name in names]
    rows.append(name_cell("AUC" if metrics["kind"] == "binary" else "AUC (one-vs-rest, macro)") + f"<td>{number(metrics['roc']['auc'])}</td>")
    per_class = [name_cell(cls) + "".join(f"<td>{values[key] if key == 'support' else number(values[key])}</td>"
                                          for key in ("support", "precision", "sensitivity", "specificity", "f1"))
                 for cls, values in metrics["per_class"].items()]
    return "\n".join([
        f"<h3>{escape(target)} {summary}, n = {metrics['n']}</h3>", table(["metric", "value"], rows),
        table(["class", "support", "precision", "sensitivity", "specificity", "F1"], per_class),
        embed_png(figures_dir / f"confusion_{target}.png", f"confusion matrix {target}"),
        embed_png(figures_dir / f"roc_{target}.png", f"ROC {target}"),
    ])


def fairness_section(fairness: dict, group_figure: Path) -> str:
    parts = ["<h3>Fairness</h3>", embed_png(group_figure, "accuracy per group with 95% intervals")]
    for target, by_attribute in fairness.items():
        for attribute, reason in by_attribute.get("skipped_attributes", {}).items():
            parts.append(f"<p>{escape(target)} by {escape(attribute)}: not audited ({escape(reason)}).</p>")
        for attribute, audit in audited_attributes(by_attribute):
            parts.append(attribute_tables(target, attribute, audit))
    return "\n".join(parts)


def attribute_tables(target: str, attribute: str, audit: dict) -> str:
    if "mae_spread" in audit:
        return regression_attribute_table(target, attribute, audit)
    keys = [key for key in ("n", "accuracy", "error_rate", "tpr", "fpr", "selection_rate") if key in next(iter(audit["groups"].values()))]
    group_rows = [name_cell(group) + "".join(f"<td>{values[key] if key == 'n' else number(values[key])}</td>" for key in keys)
                  + f"<td>{interval_text(values.get('accuracy_ci'))}</td>" + versus_rest_cells(audit["accuracy_vs_rest"].get(group))
                  for group, values in audit["groups"].items()]
    parts = [f"<h4>{escape(target)} by {escape(attribute)}: accuracy gap {number(audit['accuracy_gap'])} "
             f"{interval_text(audit.get('accuracy_gap_ci'))} (best {escape(audit['best_group'])}, worst {escape(audit['worst_group'])})</h4>",
             table(["group", *keys, "accuracy 95% CI", "accuracy minus rest", "95% CI"], group_rows)]
    if audit.get("vs_rest"):
        parts.append("<p>Each group against the rest (aif360 ClassificationMetric, the group as the unprivileged side): "
                     "negative differences and disparate impact below 1 mean the group is predicted positive less often. "
                     "95% bootstrap intervals in brackets.</p>")
        parts.append(comparison_table({f"{group} vs rest": scores for group, scores in audit["vs_rest"].items()}))
    if "privileged" in audit and "disparate_impact" in audit["privileged"]:
        privileged = audit["privileged"]
        parts.append(comparison_table({f"others vs {privileged['privileged_group']} (privileged)": privileged}))
    if "class_tpr_gaps" in audit:
        parts.append(class_gap_table(audit["class_tpr_gaps"]))
    return "\n".join(parts)


def regression_attribute_table(target: str, attribute: str, audit: dict) -> str:
    rows = [name_cell(group) + f"<td>{values['n']}</td><td>{number(values['mae'])}</td><td>{interval_text(values.get('mae_ci'))}</td>"
            f"<td>{number(values['mean_error'])}</td>" + versus_rest_cells(audit["mae_vs_rest"].get(group))
            for group, values in audit["groups"].items()]
    return "\n".join([
        f"<h4>{escape(target)} by {escape(attribute)}: group MAE spread {number(audit['mae_spread'])} "
        f"{interval_text(audit.get('mae_spread_ci'))} (largest MAE minus smallest; best {escape(audit['best_group'])}, "
        f"worst {escape(audit['worst_group'])})</h4>",
        table(["group", "n", "MAE", "MAE 95% CI", "mean error (pred - true)", "MAE minus rest", "95% CI"], rows),
    ])


def versus_rest_cells(comparison: dict | None) -> str:
    if comparison is None:
        return "<td></td><td></td>"
    return f"<td>{number(comparison['difference'])}</td><td>{interval_text(comparison['ci'])}</td>"


def comparison_table(comparisons: dict) -> str:
    rows = [name_cell(label) + "".join(f"<td>{number(scores[key])} {interval_text(scores['ci'].get(key))}</td>" for key in AIF360_METRICS)
            + name_cell(scores["four_fifths_rule"] or "n/a") for label, scores in comparisons.items()]
    return table(["comparison", *AIF360_METRICS, "four-fifths rule"], rows)


def class_gap_table(gaps: dict) -> str:
    groups = list(next(iter(gaps.values()))["tpr"])
    rows = [name_cell(cls) + "".join(f"<td>{number(values['tpr'][group])}</td>" for group in groups) + f"<td>{number(values['gap'])}</td>"
            for cls, values in gaps.items()]
    return "<p>Sensitivity (TPR) of each class per group, and the best-minus-worst gap.</p>" + table(["class", *groups, "gap"], rows)
