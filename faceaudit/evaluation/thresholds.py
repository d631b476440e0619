"""Decision thresholds of binary targets: how each group's rates and the gaps between groups move with the threshold.

A row is predicted positive when the positive class's score is at or above the threshold; at 0.5 this is the
model's own prediction (the class with the higher score), except for a score of exactly 0.5, which the argmax gives
to the first class. For every threshold 0.05, 0.10, ..., 0.95 and every group of each sensitive attribute and
intersection the audit reports TPR, FPR and selection rate, and each group against the rest of the data the
aif360-style differences, with the fairness audit's sign convention (negative: the group is selected less):

* ``statistical_parity_difference`` = selection rate(group) - selection rate(rest);
* ``equal_opportunity_difference`` = TPR(group) - TPR(rest);
* ``average_odds_difference`` = ((FPR(group) - FPR(rest)) + (TPR(group) - TPR(rest))) / 2.

Every value is a list with one entry per threshold, None where undefined (no positives or no negatives in a group).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from faceaudit.evaluation.calibration import class_score_matrix, only_decisions
from faceaudit.evaluation.fairness import SKIPPED_TARGET_ITSELF, group_column, with_intersections
from faceaudit.evaluation.metrics import finite_or_none, is_regression, label_indices
from faceaudit.labels import intersection_name, positive_class_of

THRESHOLDS = tuple(round(0.05 * step, 2) for step in range(1, 20))
RATES = ("tpr", "fpr", "selection_rate")
DIFFERENCES = ("statistical_parity_difference", "equal_opportunity_difference", "average_odds_difference")


def audit_thresholds(
    predictions: pd.DataFrame,
    targets: dict[str, list[str]],
    sensitive_attributes: list[str],
    positive_classes: dict[str, str],
    intersections: list[list[str]] = (),
    thresholds: tuple[float, ...] = THRESHOLDS,
) -> dict:
    """Return ``{target: {positive_class, score_column, thresholds, overall: rates, attributes: {attribute:
    {groups: {group: {n, rates}}, vs_rest: {group: differences}}}, skipped_attributes}}`` for binary targets, each
    rate and difference a list over ``thresholds``; other targets get ``{"skipped": reason}``."""
    table = with_intersections(predictions, intersections)
    attributes = [*sensitive_attributes, *(intersection_name(parts) for parts in intersections)]
    return {
        target: threshold_target(table, target, classes, attributes, positive_classes, thresholds)
        if not is_regression(classes) and len(classes) == 2
        else {"skipped": skipped_reason(classes)}
        for target, classes in targets.items()
    }


def skipped_reason(classes) -> str:
    if is_regression(classes):
        return "a numeric target has no decision threshold"
    return f"decision thresholds apply to binary targets; this one has {len(classes)} classes"


def threshold_target(table, target, classes, attributes, positive_classes, thresholds) -> dict:
    if only_decisions(class_score_matrix(table, target, len(classes))):
        return {"skipped": "every score is 0 or 1: these are decisions already, no threshold moves them"}
    positive_class = positive_class_of(target, classes, positive_classes)
    positive_index = classes.index(positive_class)
    true_indices, _ = label_indices(table, target, classes)
    scores = class_score_matrix(table, target, len(classes))[:, positive_index]
    decisions = Decisions(scores >= np.asarray(thresholds)[:, None], true_indices == positive_index)
    result = {
        "positive_class": positive_class,
        "score_column": f"{target}_score_{positive_index}",
        "thresholds": list(thresholds),
        "overall": as_lists(decisions.rates(np.ones(len(table), dtype=bool))),
    }
    result["attributes"], result["skipped_attributes"] = {}, {}
    for attribute in attributes:
        if target in attribute.split("+"):
            result["skipped_attributes"][attribute] = SKIPPED_TARGET_ITSELF
            continue
        result["attributes"][attribute] = decisions.of_attribute(group_column(table, attribute))
    return result


class Decisions:
    """Which rows each threshold selects (thresholds x rows) and which rows are truly positive."""

    def __init__(self, selected: np.ndarray, actual_positive: np.ndarray):
        self.selected, self.actual_positive = selected, actual_positive

    def rates(self, rows: np.ndarray) -> dict:
        """TPR, FPR and selection rate of the rows at every threshold; NaN where the denominator is 0."""
        return {
            "tpr": self.rate(rows & self.actual_positive),
            "fpr": self.rate(rows & ~self.actual_positive),
            "selection_rate": self.rate(rows),
        }

    def rate(self, rows: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (self.selected & rows).sum(axis=1) / rows.sum()

    def of_attribute(self, group_labels: np.ndarray) -> dict:
        masks = {name: group_labels == name for name in sorted(set(group_labels))}
        groups = {name: {"n": int(mask.sum()), **as_lists(self.rates(mask))} for name, mask in masks.items()}
        vs_rest = {name: self.versus_rest(mask) for name, mask in masks.items()} if len(masks) > 1 else {}
        return {"groups": groups, "vs_rest": vs_rest}

    def versus_rest(self, in_group: np.ndarray) -> dict:
        group, rest = self.rates(in_group), self.rates(~in_group)
        tpr_difference = group["tpr"] - rest["tpr"]
        differences = {
            "statistical_parity_difference": group["selection_rate"] - rest["selection_rate"],
            "equal_opportunity_difference": tpr_difference,
            "average_odds_difference": ((group["fpr"] - rest["fpr"]) + tpr_difference) / 2,
        }
        return as_lists(differences)


def as_lists(values: dict) -> dict:
    return {name: [finite_or_none(value) for value in array] for name, array in values.items()}
