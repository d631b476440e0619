"""The study's HTML report: an overview of all runs and a page per run, self-contained (figures embedded), offline."""

import base64
import html
import json
from pathlib import Path

import pandas as pd

LIMITATIONS = (
    "Demographic labels are the dataset's own words and categories. They cannot capture what they leave out: "
    "gender recorded as binary, coarse race or group categories that hide variation within them, and ages that "
    "are annotators' estimates binned into ranges. A fairness gap measured here is a gap between these recorded "
    "categories on this data, not a property of people. The default study uses a synthetic dataset of drawn faces "
    "whose groups and biases are set in the config."
)

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th { background: #f0f0f0; } td.name, th.name { text-align: left; }
img { max-width: 100%; margin: 0.5em 0; } pre { background: #f7f7f7; padding: 1em; overflow-x: auto; }
.note { background: #fff8e0; padding: 0.8em; border-left: 4px solid #e0b000; }
"""


def escape(value) -> str:
    return html.escape(str(value))


def number(value, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def metric_cell(value, run: str, key: str) -> str:
    """A table cell that carries the exact value too, so tests and readers can check it against the JSON files."""
    exact = "" if value is None else f' data-value="{value!r}"'
    return f'<td data-run="{escape(run)}" data-key="{escape(key)}"{exact}>{number(value)}</td>'


def embed_png(path: Path, alt: str) -> str:
    encoded = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{encoded}">'


def page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n")


def table(headers: list[str], rows: list[str]) -> str:
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    return f"<table><tr>{head}</tr>\n" + "\n".join(f"<tr>{row}</tr>" for row in rows) + "</table>"


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


def largest_gap(fairness: dict) -> tuple[float | None, str]:
    """The largest best-vs-worst group accuracy gap over the sensitive attributes of one target."""
    gaps = [(result["accuracy_gap"], attribute) for attribute, result in fairness.items()
            if attribute != "skipped_attributes" and result.get("accuracy_gap") is not None]
    return max(gaps) if gaps else (None, "")


def lowest_disparate_impact(fairness: dict) -> tuple[float | None, str]:
    values = [(scores["disparate_impact"], f"{attribute}={group}") for attribute, result in fairness.items()
              if attribute != "skipped_attributes" for group, scores in result.get("vs_rest", {}).items()
              if scores["disparate_impact"] is not None]
    return min(values) if values else (None, "")


def overview_rows(runs: dict, results: dict) -> list[str]:
    rows = []
    for name, run in runs.items():
        for eval_set in run["eval_sets"]:
            for target in run["targets"]:
                rows.append(overview_row(name, run, results[name], eval_set, target))
    return rows


def overview_row(name: str, run: dict, result: dict, eval_set: str, target: str) -> str:
    metrics = result["metrics"][eval_set][target]
    fairness = result["fairness"][eval_set][target]
    gap, gap_attribute = largest_gap(fairness)
    impact, impact_group = lowest_disparate_impact(fairness)
    auc = metrics.get("roc", {}).get("auc")
    key = f"{eval_set}.{target}"
    cells = [
        f'<td class="name"><a href="runs/{escape(name)}.html">{escape(name)}</a></td>',
        f'<td class="name">{escape(run["model"])}</td>',
        f'<td class="name">{escape(eval_set)}</td>',
        f'<td class="name">{escape(target)}</td>',
        metric_cell(metrics["accuracy"], name, f"{key}.accuracy"),
        metric_cell(metrics["f1"], name, f"{key}.f1"),
        metric_cell(auc, name, f"{key}.auc"),
        metric_cell(gap, name, f"{key}.accuracy_gap"),
        f'<td class="name">{escape(gap_attribute)}</td>',
        metric_cell(impact, name, f"{key}.disparate_impact_min"),
        f'<td class="name">{escape(impact_group)}</td>',
        f"<td>{result['info']['training_seconds']:.1f}</td>",
    ]
    return "".join(cells)


OVERVIEW_HEADERS = ["run", "model", "eval set", "target", "accuracy", "F1", "AUC", "largest group accuracy gap",
                    "attribute", "lowest disparate impact", "group vs rest", "training s"]


def data_section(datasets: dict, data_dir: Path, used: list[str]) -> str:
    parts = ["<h2>Data</h2>"]
    for name in used:
        manifest = pd.read_csv(Path(data_dir) / name / "manifest.csv", dtype=str, keep_default_na=False)
        rejects = pd.read_csv(Path(data_dir) / name / "rejects.csv", dtype=str, keep_default_na=False)
        counts = manifest["split"].value_counts()
        parts.append(f"<h3>{escape(name)} (layout {escape(datasets[name]['layout'])})</h3>")
        parts.append("<p>" + ", ".join(f"{escape(split)}: {counts.get(split, 0)}" for split in ("train", "val", "test"))
                     + f" images; {len(rejects)} rows rejected.</p>")
        if len(rejects):
            reasons = rejects["reason"].value_counts()
            parts.append(table(["reason", "rows"], [f'<td class="name">{escape(reason)}</td><td>{count}</td>'
                                                    for reason, count in reasons.items()]))
    return "\n".join(parts)


def write_report(runs: dict, datasets: dict, data_dir: Path, runs_dir: Path, out_dir: Path) -> None:
    """Write out_dir/index.html and out_dir/runs/<run>.html from the files the workflow produced."""
    results = {name: load_run_results(runs_dir, run) for name, run in runs.items()}
    used = sorted({run["dataset"] for run in runs.values()})
    body = [
        "<h1>faceaudit report</h1>",
        f'<p class="note">{escape(LIMITATIONS)}</p>',
        "<h2>Runs</h2>",
        "<p>Accuracy, F1 (positive class for binary targets, macro over classes otherwise) and AUC (binary targets) "
        "per run and eval set. The fairness columns give the largest accuracy gap between the best and worst group "
        "of any sensitive attribute, and the lowest disparate impact of any group against the rest "
        "(below 0.8 fails the four-fifths rule).</p>",
        table(OVERVIEW_HEADERS, overview_rows(runs, results)),
        data_section(datasets, data_dir, used),
    ]
    Path(out_dir, "runs").mkdir(parents=True, exist_ok=True)
    Path(out_dir, "index.html").write_text(page("faceaudit report", "\n".join(body)))
    for name, run in runs.items():
        Path(out_dir, "runs", f"{name}.html").write_text(run_page(run, results[name], Path(runs_dir) / name))


def run_page(run: dict, result: dict, run_dir: Path) -> str:
    info = result["info"]
    parts = [
        '<p><a href="../index.html">back to the overview</a></p>',
        f"<h1>Run {escape(run['run'])}</h1>",
        details_table(run, info),
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
    throughput = info["images_per_second"]
    details = {
        "experiment": run["experiment"], "dataset": run["dataset"], "model": run["model"],
        "targets": ", ".join(run["targets"]), "input": f"{run['image_size']}x{run['image_size']} {run['color']}",
        **{key: value for key, value in run["hyperparameters"].items()},
        "seed": run["seed"], "parameters": f"{info['parameters']:,}", "epochs completed": info["epochs_completed"],
        "training time (s)": info["training_seconds"],
        "throughput (images/s, median epoch)": sorted(throughput)[len(throughput) // 2] if throughput else "n/a",
        "host": info["host"], "SLURM job": info["slurm_job_id"] or "none (local run)",
        "GPUs": ", ".join(info["gpus"]) or "none (CPU)", "TensorFlow / Keras": f"{info['tensorflow_version']} / {info['keras_version']}",
    }
    return table(["setting", "value"], [f'<td class="name">{escape(key)}</td><td class="name">{escape(value)}</td>'
                                        for key, value in details.items()])


def target_section(target: str, metrics: dict, figures_dir: Path) -> str:
    names = ["accuracy", "precision", "sensitivity", "specificity", "f1"]
    summary = "(positive class " + escape(metrics["positive_class"]) + ")" if metrics["kind"] == "binary" else "(macro averages)"
    rows = ["".join([f'<td class="name">{escape(name)}</td>', f"<td>{number(metrics[name])}</td>"]) for name in names]
    if metrics["kind"] == "binary":
        rows.append(f'<td class="name">AUC</td><td>{number(metrics["roc"]["auc"])}</td>')
    per_class = [f'<td class="name">{escape(cls)}</td>' + "".join(f"<td>{number(values[key]) if key != 'support' else values[key]}</td>"
                 for key in ("support", "precision", "sensitivity", "specificity", "f1")) for cls, values in metrics["per_class"].items()]
    parts = [f"<h3>{escape(target)} {summary}, n = {metrics['n']}</h3>", table(["metric", "value"], rows),
             table(["class", "support", "precision", "sensitivity", "specificity", "F1"], per_class),
             embed_png(figures_dir / f"confusion_{target}.png", f"confusion matrix {target}")]
    if metrics["kind"] == "binary":
        parts.append(embed_png(figures_dir / f"roc_{target}.png", f"ROC {target}"))
    return "\n".join(parts)


def fairness_section(fairness: dict, group_figure: Path) -> str:
    parts = ["<h3>Fairness</h3>", embed_png(group_figure, "accuracy per group")]
    for target, by_attribute in fairness.items():
        for attribute, reason in by_attribute.get("skipped_attributes", {}).items():
            parts.append(f"<p>{escape(target)} by {escape(attribute)}: not audited ({escape(reason)}).</p>")
        for attribute, result in by_attribute.items():
            if attribute != "skipped_attributes":
                parts.append(attribute_tables(target, attribute, result))
    return "\n".join(parts)


def attribute_tables(target: str, attribute: str, result: dict) -> str:
    keys = [key for key in ("n", "accuracy", "error_rate", "tpr", "fpr", "selection_rate")
            if key in next(iter(result["groups"].values()))]
    group_rows = [f'<td class="name">{escape(group)}</td>' + "".join(
        f"<td>{values[key] if key == 'n' else number(values[key])}</td>" for key in keys) for group, values in result["groups"].items()]
    parts = [f"<h4>{escape(target)} by {escape(attribute)}: accuracy gap {number(result['accuracy_gap'])} "
             f"(best {escape(result['best_group'])}, worst {escape(result['worst_group'])})</h4>",
             table(["group", *keys], group_rows)]
    if result.get("vs_rest"):
        metric_keys = ["disparate_impact", "statistical_parity_difference", "equal_opportunity_difference", "average_odds_difference"]
        rows = [f'<td class="name">{escape(group)}</td>' + "".join(f"<td>{number(scores[key])}</td>" for key in metric_keys)
                for group, scores in result["vs_rest"].items()]
        parts.append("<p>Each group against the rest (aif360 ClassificationMetric; the group is the unprivileged side, "
                     "so negative differences and disparate impact below 1 mean the group is predicted positive less often).</p>")
        parts.append(table(["group", *metric_keys], rows))
    return "\n".join(parts)
