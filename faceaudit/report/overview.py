"""The index page's tables of all runs: one for classifiers and one for regression targets (each row a run, eval set
and target, the best and worst value of a column marked), and a learning-rate x batch-size table per grid."""

import pandas as pd

# A column: (key in the row, header, kind of cell, which value is best: "high", "low", "near_one" or None).
# Metric cells are keyed <eval set>.<target>.<key> so that tests and readers can check them against the JSON files.
CLASSIFIER_COLUMNS = [
    ("accuracy", "accuracy", "metric", "high"),
    ("balanced_accuracy", "balanced accuracy", "metric", "high"),
    ("f1", "F1", "metric", "high"),
    ("auc", "AUC", "metric", "high"),
    ("accuracy_gap", "largest group accuracy gap", "metric", "low"),
    ("gap_interval", "gap 95% CI", "interval", None),
    ("gap_attribute", "gap attribute", "text", None),
    ("disparate_impact_min", "lowest disparate impact, group vs rest", "metric", "near_one"),
    ("impact_group", "lowest-impact group", "text", None),
    ("privileged_disparate_impact", "disparate impact vs the privileged group", "metric", "near_one"),
    ("privileged_comparison", "privileged comparison", "text", None),
    ("training_seconds", "training s", "seconds", None),
]
REGRESSION_COLUMNS = [
    ("mae", "MAE", "metric", "low"),
    ("rmse", "RMSE", "metric", "low"),
    ("mae_spread", "group MAE spread", "metric", "low"),
    ("gap_interval", "spread 95% CI", "interval", None),
    ("gap_attribute", "spread attribute", "text", None),
    ("training_seconds", "training s", "seconds", None),
]
ROW_HEADERS = ["run", "model", "eval set", "target"]


def run_page_link(name: str) -> str:
    """Where a run's page lies, relative to index.html."""
    return f"runs/{name}.html"


def audited_attributes(fairness: dict):
    return [(attribute, audit) for attribute, audit in fairness.items() if attribute != "skipped_attributes"]


def largest_gap(fairness: dict, key: str = "accuracy_gap") -> tuple:
    """(gap, its interval, attribute) of the largest best-vs-worst gap (accuracy, or MAE for regression)."""
    gaps = [
        (audit[key], audit.get(f"{key}_ci"), attribute)
        for attribute, audit in audited_attributes(fairness)
        if audit.get(key) is not None  # None: fewer than two groups had enough rows to be compared
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


def privileged_label(group: str) -> str:
    """A comparison's name that cannot be mistaken for a group's (a class may be called "Others")."""
    return f"all other groups vs {group} (privileged)"


def privileged_disparate_impact(fairness: dict) -> tuple:
    """(lowest disparate impact, which comparison) over the attributes with a configured privileged group; a
    privileged group absent from the eval set is said so, with no value."""
    compared, absent = [], []
    for attribute, audit in audited_attributes(fairness):
        privileged = audit.get("privileged")
        if not privileged:
            continue
        label = f"{attribute}: {privileged_label(privileged['privileged_group'])}"
        if privileged.get("disparate_impact") is not None:
            compared.append((privileged["disparate_impact"], label))
        else:
            absent.append(f"{label}: {privileged.get('note', 'disparate impact undefined')}")
    if compared:
        return min(compared)
    return None, "; ".join(absent) or "none configured"


def target_name(target: str, metrics: dict) -> str:
    """The target, with the positive class that F1 and disparate impact count for a binary target."""
    positive = metrics.get("positive_class")
    return f"{target} (positive: {positive})" if metrics["kind"] == "binary" else target


def overview_row(name: str, run: dict, result: dict, eval_set: str, target: str) -> dict:
    metrics = result["metrics"][eval_set][target]
    fairness = result["fairness"][eval_set][target]
    regression = metrics["kind"] == "regression"
    gap, gap_interval, gap_attribute = largest_gap(fairness, "mae_spread" if regression else "accuracy_gap")
    impact, impact_group = lowest_disparate_impact(fairness)
    privileged_impact, privileged_comparison = privileged_disparate_impact(fairness)
    return {
        "run": name,
        "link": run_page_link(name),
        "names": [run["model"], eval_set, target_name(target, metrics)],
        "eval_set": eval_set,
        "target": target,
        "regression": regression,
        **{key: metrics.get(key) for key in ("accuracy", "balanced_accuracy", "f1", "mae", "rmse")},
        "auc": metrics.get("roc", {}).get("auc"),
        "accuracy_gap": None if regression else gap,
        "mae_spread": gap if regression else None,
        "gap_interval": gap_interval,
        "gap_attribute": gap_attribute,
        "disparate_impact_min": impact,
        "impact_group": impact_group,
        "privileged_disparate_impact": privileged_impact,
        "privileged_comparison": privileged_comparison,
        "training_seconds": result["info"]["training_seconds"],
    }


def overview_rows(runs: dict, results: dict) -> list[dict]:
    return [
        overview_row(name, run, results[name], eval_set, target)
        for name, run in runs.items()
        for eval_set in run["eval_sets"]
        for target in run["targets"]
    ]


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


def overview_table(rows: list[dict], columns: list[tuple]) -> dict | None:
    """Rows grouped by eval set and target, each metric cell marked best or worst among its group."""
    if not rows:
        return None
    table = []
    for indices in pd.DataFrame(rows).groupby(["eval_set", "target"], sort=False).groups.values():
        comparable = [rows[index] for index in indices]
        marks = {key: extremes(comparable, key, better) for key, _, kind, better in columns if kind == "metric"}
        for row in comparable:
            cells = [
                {
                    "kind": kind,
                    "key": f"{row['eval_set']}.{row['target']}.{key}",
                    "value": row[key],
                    "mark": mark(row[key], *marks[key]) if kind == "metric" else None,
                }
                for key, _, kind, _ in columns
            ]
            table.append({**row, "cells": cells})
    return {"headers": [*ROW_HEADERS, *(header for _, header, _, _ in columns)], "rows": table}


def overview(runs: dict, results: dict) -> dict:
    """The classifier and the regression table (None where the study has no such target)."""
    rows = overview_rows(runs, results)
    return {
        "classifiers": overview_table([row for row in rows if not row["regression"]], CLASSIFIER_COLUMNS),
        "regression": overview_table([row for row in rows if row["regression"]], REGRESSION_COLUMNS),
    }


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
