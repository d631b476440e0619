"""The index page's tables of all runs: one per dataset, target and eval set (a row per run, classifier or regression
columns, the best and worst value of a column marked), what each run's training cost with the study's totals, and a
learning-rate x batch-size table per grid. The page sorts and filters them in the browser (templates/table.js)."""

# A column: (key in the row, header, kind of cell, which value is best: "high", "low", "near_one" or None).
# Metric cells are keyed <eval set>.<target>.<key> so that tests and readers can check them against the JSON files.
# The largest gap between the best and the worst group is not marked best or worst: it is never zero, also where
# groups do not differ (the largest of several noisy values), and no test stands behind it; the column of gaps
# distinguishable after adjustment is the finding.
CLASSIFIER_COLUMNS = [
    ("accuracy", "accuracy", "metric", "high"),
    ("balanced_accuracy", "balanced accuracy", "metric", "high"),
    ("f1", "F1", "metric", "high"),
    ("auc", "AUC", "metric", "high"),
    ("adjusted_flags", "gaps distinguishable after adjustment", "text", None),
    ("accuracy_gap", "largest group accuracy gap", "metric", None),
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
    ("adjusted_flags", "gaps distinguishable after adjustment", "text", None),
    ("mae_spread", "group MAE spread", "metric", None),
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


def flagged_tests(node, path=()) -> list[tuple[str, bool]]:
    """(name, distinguishable) of every gap of a target's fairness audit tested against zero (adjusted)."""
    found = []
    if isinstance(node, dict):
        verdict = node.get("distinguishable_from_zero")
        if isinstance(verdict, dict):
            found += [(" ".join((*path, metric)), flag) for metric, flag in verdict.items() if flag is not None]
        elif verdict is not None:
            found.append((" ".join(path), verdict))
        for key, value in node.items():
            if key != "distinguishable_from_zero":
                found += flagged_tests(value, (*path, key))
    return found


def adjusted_flags(fairness: dict) -> str:
    """E.g. "2 of 18: group accuracy_vs_rest C; ..." or "none of 18"."""
    tests = flagged_tests(fairness)
    flagged = [name for name, flag in tests if flag]
    if not tests:
        return "not tested"
    if not flagged:
        return f"none of {len(tests)}"
    return f"{len(flagged)} of {len(tests)}: " + "; ".join(flagged)


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
        "group": (run["dataset"], target_name(target, metrics), eval_set),
        "eval_set": eval_set,
        "target": target,
        "regression": regression,
        **{key: metrics.get(key) for key in ("accuracy", "balanced_accuracy", "f1", "mae", "rmse")},
        "auc": metrics.get("roc", {}).get("auc"),
        "accuracy_gap": None if regression else gap,
        "mae_spread": gap if regression else None,
        "gap_interval": gap_interval,
        "gap_attribute": gap_attribute,
        "adjusted_flags": adjusted_flags(fairness),
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


def overview_table(rows: list[dict], columns: list[tuple]) -> dict:
    """One group's rows (same dataset, target and eval set), each metric cell marked best or worst among them."""
    marks = {key: extremes(rows, key, better) if better else (None, None) for key, _, kind, better in columns}
    table = []
    for row in rows:
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
    """A table per dataset, target and eval set (in the order the runs list them), the classifier or regression
    columns as the target asks; `classifiers` and `regression` say whether any table is of that kind."""
    groups = {}
    for row in overview_rows(runs, results):
        groups.setdefault(row["group"], []).append(row)
    tables = []
    for (dataset, target, eval_set), rows in groups.items():
        regression = rows[0]["regression"]
        table = overview_table(rows, REGRESSION_COLUMNS if regression else CLASSIFIER_COLUMNS)
        tables.append({**table, "dataset": dataset, "target": target, "eval_set": eval_set, "regression": regression})
    return {
        "tables": tables,
        "classifiers": any(not table["regression"] for table in tables),
        "regression": any(table["regression"] for table in tables),
        "compute": compute_table(runs, results),
    }


# The compute table's columns: (key in a run's compute record, header, decimals; None for text).
COMPUTE_COLUMNS = [
    ("slurm_node", "node", None),
    ("slurm_job_id", "SLURM job", None),
    ("queue_wait_seconds", "queue wait s", 0),
    ("wall_seconds", "training s", 1),
    ("gpu_count", "GPUs", 0),
    ("gpu_hours", "GPU-hours", 4),
    ("cpu_count", "CPUs", 0),
    ("cpu_hours", "CPU-hours", 4),
    ("images_per_second", "images/s", 1),
    ("peak_host_memory_mb", "peak host memory MB", 0),
]


# run.json's `origin` of runs that trained nothing here: post-processed runs (their run.json carries the source run's
# record) and models trained elsewhere (faceaudit.external.run_info).
NOT_TRAINED_HERE = ("post_processing", "external_model", "prediction_files")


def compute_record(info: dict) -> dict:
    """run.json's compute accounting; for a run.json written before it was recorded, what can be derived (the
    run's threads as CPUs, the GPUs TensorFlow saw), the rest None."""
    if "compute" in info:
        return {**info["compute"], "slurm_node": info["compute"]["slurm_node"] or info.get("host")}
    seconds, gpus, cpus = info["training_seconds"], len(info.get("gpus") or []), info.get("threads")
    rates = sorted(info.get("images_per_second") or [])
    return {
        "slurm_node": info.get("host"),
        "slurm_job_id": info.get("slurm_job_id"),
        "queue_wait_seconds": None,
        "wall_seconds": seconds,
        "gpu_count": gpus,
        "gpu_hours": gpus * seconds / 3600,
        "cpu_count": cpus,
        "cpu_hours": None if cpus is None else cpus * seconds / 3600,
        "images_per_second": rates[len(rates) // 2] if rates else None,
        "peak_host_memory_mb": None,
    }


def compute_table(runs: dict, results: dict) -> dict | None:
    """A row per trained run (what its training cost) and the study's totals: GPU-hours, CPU-hours, the longest
    job. A post-processed run trained nothing (its run.json carries its source run's record) and is left out."""
    records = {
        name: compute_record(results[name]["info"])
        for name in runs
        if results[name]["info"].get("origin") not in NOT_TRAINED_HERE
    }
    rows = [
        {
            "run": name,
            "link": run_page_link(name),
            "cells": [{"value": record.get(key), "digits": digits} for key, _, digits in COMPUTE_COLUMNS],
        }
        for name, record in records.items()
    ]
    if not records:
        return None
    longest = max(records, key=lambda name: records[name]["wall_seconds"])
    totals = {
        "GPU-hours": sum(record["gpu_hours"] for record in records.values()),
        "CPU-hours": sum(record["cpu_hours"] or 0 for record in records.values()),
        "longest job": f"{longest} ({records[longest]['wall_seconds']:.1f} s)",
        "runs": len(records),
    }
    return {"headers": ["run", *(header for _, header, _ in COMPUTE_COLUMNS)], "rows": rows, "totals": totals}


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
