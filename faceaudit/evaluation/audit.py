"""The whole audit of one run's predictions of one eval set, in one process: metrics, fairness, calibration with the
decision thresholds, and the subgroup search, each written to its own file with its figures (the `audit` rule).

One job instead of four: the predictions are read once, and Python, pandas, matplotlib and aif360 start once."""

import json
import time
from pathlib import Path

import pandas as pd

from faceaudit.evaluation.calibration import audit_calibration
from faceaudit.evaluation.calibration_plots import plot_calibration
from faceaudit.evaluation.fairness import audit_fairness
from faceaudit.evaluation.metrics import compute_metrics
from faceaudit.evaluation.plots import plot_group_accuracy, plot_metrics
from faceaudit.evaluation.settings import AuditSettings
from faceaudit.evaluation.subgroups import SearchSettings, find_subgroups, read_predictions
from faceaudit.evaluation.thresholds import audit_thresholds


def audit_eval_set(predictions_path: Path, evaluation: dict, outputs: dict) -> None:
    """Write every audit file of one eval set's predictions. `evaluation` holds the run's settings for this eval set
    (targets, groups, audit settings: the workflow's evaluation settings), `outputs` a path for each name in
    study.result_files.AUDIT_FILES."""
    predictions = pd.read_csv(predictions_path, dtype={"path": str})
    metrics = audit_metrics(predictions.copy(), evaluation)
    write_json(outputs["metrics"], metrics)
    plot_metrics(metrics, Path(outputs["figures"]))
    fairness = audit_group_fairness(predictions.copy(), evaluation)
    write_json(outputs["fairness"], fairness)
    plot_group_accuracy(fairness, Path(outputs["group_figure"]))
    calibration, thresholds = audit_group_calibration(predictions.copy(), evaluation)
    write_json(outputs["calibration"], {"calibration": calibration, "thresholds": thresholds})
    plot_calibration(calibration, thresholds, Path(outputs["calibration_figures"]))
    write_json(outputs["subgroups"], search_subgroups(predictions_path, evaluation))


def write_json(path: Path, result: dict) -> None:
    Path(path).write_text(json.dumps(result, indent=2))


def audit_metrics(predictions: pd.DataFrame, evaluation: dict) -> dict:
    return compute_metrics(
        predictions, evaluation["targets"], evaluation["positive_classes"], evaluation.get("ordinal_targets", ())
    )


def audit_settings(evaluation: dict) -> AuditSettings:
    """The rule's `audit` and `calibration_audit` settings (parts of the config's `audit:` block) as one value."""
    return AuditSettings.from_config(evaluation["audit"] | evaluation["calibration_audit"])


def audit_group_fairness(predictions: pd.DataFrame, evaluation: dict) -> dict:
    return audit_fairness(
        predictions,
        evaluation["targets"],
        evaluation["sensitive_attributes"],
        evaluation["positive_classes"],
        intersections=evaluation["intersections"],
        privileged_groups=evaluation["privileged_groups"],
        settings=audit_settings(evaluation),
        ordinal_targets=evaluation.get("ordinal_targets", ()),
    )


def audit_group_calibration(predictions: pd.DataFrame, evaluation: dict) -> tuple[dict, dict]:
    groups = {
        "targets": evaluation["targets"],
        "sensitive_attributes": evaluation["sensitive_attributes"],
        "positive_classes": evaluation["positive_classes"],
        "intersections": evaluation["intersections"],
    }
    calibration = audit_calibration(predictions, **groups, settings=audit_settings(evaluation))
    return calibration, audit_thresholds(predictions, **groups)


def search_subgroups(predictions_path: Path, evaluation: dict) -> dict:
    """The subgroup search reads every value as text (its own reader), and prints what it found to the log. Its
    shuffles are drawn from the audit's seed."""
    started = time.perf_counter()
    settings = SearchSettings.from_audit(evaluation["subgroup_search"] | {"seed": evaluation["audit"]["seed"]})
    subgroups = find_subgroups(
        read_predictions(predictions_path),
        evaluation["targets"],
        evaluation["scanned_attributes"],
        settings,
        source=str(predictions_path),
    )
    print(f"subgroup search, {settings.permutations} shuffles included, took {time.perf_counter() - started:.1f} s")
    for target, found in subgroups["targets"].items():
        beyond = sum(bool(subgroup["beyond_chance"]) for subgroup in found["subgroups"])
        print(
            f"{target}: {len(found['subgroups'])} subgroup(s) reported, {beyond} beyond chance; "
            f"{found['stopped'] or 'as many as asked for'}"
        )
    for target, reason in subgroups["skipped_targets"].items():
        print(f"{target}: not searched ({reason})")
    return subgroups
