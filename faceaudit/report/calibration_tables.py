"""The calibration and decision-threshold sections of a run page, from the audit job's calibration file
({"calibration": ..., "thresholds": ...}, see faceaudit.evaluation.calibration and .thresholds) and its figures.

A group the fairness audit left out for too few rows is left out here too: its values read "insufficient data" with
the fairness audit's reason, since an ECE or a rate on a handful of rows says as little as an accuracy does.
"""

import math
from pathlib import Path

from faceaudit.report.cells import rate_cell, text_cell, value_and_interval_cell
from faceaudit.report.fairness_tables import of_positive
from faceaudit.report.render import interval_text, number
from faceaudit.report.results import optional_figure

BINNING_NAMES = {"equal_width": "equal-width bins", "equal_mass": "equal-mass bins"}
SHOWN_THRESHOLDS = (0.3, 0.5, 0.7)
THRESHOLD_RATES = {"tpr": "TPR", "fpr": "FPR", "selection_rate": "selection rate"}
THRESHOLD_DIFFERENCES = {
    "statistical_parity_difference": "statistical parity difference",
    "equal_opportunity_difference": "equal opportunity difference",
    "average_odds_difference": "average odds difference",
}
ALL_ROWS = "all rows"


def fairness_groups(fairness: dict, target: str, attribute: str) -> dict:
    """The fairness audit's {groups, vs_rest} of one target and attribute (empty where it has none)."""
    return fairness.get(target, {}).get(attribute) or {}


def withheld(scores: dict | None, key: str) -> str | None:
    """The fairness audit's reason where it withheld `key` (a rate or an aif360 difference) of this group."""
    if not scores or scores.get(key) is not None or not scores.get("insufficient_data"):
        return None
    return scores.get("insufficient_reason")


def calibration_context(calibration: dict | None, fairness: dict, figures_dir: Path | None) -> list[dict] | None:
    """Per target: its calibration overall and per group with the ECE gaps and the reliability diagrams, or why
    it has none; None where the run page has no calibration file for this eval set."""
    if calibration is None:
        return None
    return [
        {"target": target, "skipped": result["skipped"]}
        if "skipped" in result
        else calibration_target(target, result, fairness, figures_dir)
        for target, result in calibration["calibration"].items()
    ]


def calibration_target(target: str, result: dict, fairness: dict, figures_dir: Path | None) -> dict:
    return {
        "target": target,
        "skipped": None,
        "confidence": f"{result['confidence']}, {result['bins']} bins per binning",
        "overall": calibration_row(ALL_ROWS, result["overall"], None),
        "skipped_attributes": [
            f"{target} by {attribute}: not calibrated ({reason})."
            for attribute, reason in result.get("skipped_attributes", {}).items()
        ],
        "attributes": [
            calibration_attribute(target, attribute, values, fairness_groups(fairness, target, attribute), figures_dir)
            for attribute, values in result["attributes"].items()
        ],
    }


def calibration_attribute(target: str, attribute: str, values: dict, audit: dict, figures_dir: Path | None) -> dict:
    reasons = {group: withheld(audit.get("groups", {}).get(group), "accuracy") for group in values["groups"]}
    return {
        "attribute": attribute,
        "rows": [calibration_row(group, scores, reasons[group]) for group, scores in values["groups"].items()],
        "gaps": [ece_gap_line(binning, gap, reasons) for binning, gap in values["ece_gap"].items()],
        "figure": attribute_figure(figures_dir, "reliability", target, attribute, "reliability diagram"),
    }


def calibration_row(group: str, scores: dict, reason: str | None) -> dict:
    def measured(key: str) -> dict:
        if reason:
            return rate_cell(None, reason)
        return value_and_interval_cell(scores[key], scores.get(f"{key}_ci"))

    return {
        "name": group,
        "cells": [
            text_cell(scores["n"]),
            rate_cell(None if reason else scores["mean_confidence"], reason),
            rate_cell(None if reason else scores["observed_rate"], reason),
            measured("ece_equal_width"),
            measured("ece_equal_mass"),
            measured("brier"),
        ],
    }


def ece_gap_line(binning: str, gap: dict, reasons: dict) -> str:
    """The largest group ECE minus the smallest, with its interval; it names the groups and any of them that had too
    few rows to read it from."""
    line = (
        f"ECE gap ({BINNING_NAMES.get(binning, binning)}): {number(gap['gap'])} {interval_text(gap.get('ci'))}".strip()
        + f", largest in {gap['worst_group']}, smallest in {gap['best_group']}"
    )
    small = [group for group in (gap["worst_group"], gap["best_group"]) if reasons.get(group)]
    if small:
        line += f"; it rests on {', '.join(small)}, which had too few rows (insufficient data), so read it with care"
    return line + "."


def attribute_figure(figures_dir: Path | None, kind: str, target: str, attribute: str, what: str) -> dict | None:
    """reliability_<target>_<attribute>.png or thresholds_<target>_<attribute>.png in the audit's calibration figures"""
    if figures_dir is None:
        return None
    return optional_figure(Path(figures_dir) / f"{kind}_{target}_{attribute}.png", f"{what}: {target} by {attribute}")


def thresholds_context(calibration: dict | None, fairness: dict, figures_dir: Path | None) -> list[dict] | None:
    """Per binary target and attribute: the rates and differences at a few thresholds and the plot over all of
    them; other targets say why they have none."""
    if calibration is None:
        return None
    return [
        {"target": target, "skipped": result["skipped"]}
        if "skipped" in result
        else thresholds_target(target, result, fairness, figures_dir)
        for target, result in calibration["thresholds"].items()
    ]


def shown_positions(thresholds: list[float]) -> list[int]:
    """Where the thresholds shown in the table sit in the audit's list (those it has)."""
    return [
        index
        for shown in SHOWN_THRESHOLDS
        for index, threshold in enumerate(thresholds)
        if math.isclose(threshold, shown, abs_tol=1e-9)
    ]


def thresholds_target(target: str, result: dict, fairness: dict, figures_dir: Path | None) -> dict:
    positive = result["positive_class"]
    positions = shown_positions(result["thresholds"])
    rate_headers = [of_positive(name, positive) for name in THRESHOLD_RATES.values()]
    difference_headers = [f"{of_positive(name, positive)} vs rest" for name in THRESHOLD_DIFFERENCES.values()]
    return {
        "target": target,
        "skipped": None,
        "positive_class": positive,
        "shown": ", ".join(f"{result['thresholds'][index]:g}" for index in positions),
        "headers": ["group", "threshold", "n", *rate_headers, *difference_headers],
        "overall": [threshold_row(ALL_ROWS, index, result, result["overall"], None, {}) for index in positions],
        "attributes": [
            {
                "attribute": attribute,
                "rows": [
                    threshold_row(
                        group,
                        index,
                        result,
                        values["groups"][group],
                        values["vs_rest"].get(group),
                        fairness_groups(fairness, target, attribute),
                    )
                    for group in values["groups"]
                    for index in positions
                ],
                "figure": attribute_figure(figures_dir, "thresholds", target, attribute, "rates across thresholds"),
            }
            for attribute, values in result["attributes"].items()
        ],
    }


def threshold_row(group: str, index: int, result: dict, rates: dict, versus_rest: dict | None, audit: dict) -> dict:
    scores = audit.get("groups", {}).get(group)
    comparison = audit.get("vs_rest", {}).get(group)
    return {
        "name": group,
        "cells": [
            text_cell(f"{result['thresholds'][index]:g}"),
            text_cell(rates.get("n", "")),
            *(
                rate_cell(None if withheld(scores, key) else rates[key][index], withheld(scores, key))
                for key in THRESHOLD_RATES
            ),
            *(
                text_cell("")
                if versus_rest is None
                else rate_cell(
                    None if withheld(comparison, key) else versus_rest[key][index], withheld(comparison, key)
                )
                for key in THRESHOLD_DIFFERENCES
            ),
        ],
    }
