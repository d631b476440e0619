"""Group fairness audit of a predictions table.

For every target and sensitive attribute the audit reports per-group
accuracy (and, for binary targets, TPR, FPR and selection rate), the gap
between the best and worst group, and, for binary targets, each group
compared with the rest of the data using aif360's ``ClassificationMetric``.

Sign convention of ``vs_rest``: the group is aif360's *unprivileged* group
and the rest is the *privileged* group, and the target's positive class is
the favourable ("selected") outcome.  So

* ``disparate_impact`` = P(pred+ | group) / P(pred+ | rest): below 1 means
  the group is selected less than the rest;
* ``statistical_parity_difference`` = P(pred+ | group) - P(pred+ | rest);
* ``equal_opportunity_difference`` = TPR(group) - TPR(rest);
* ``average_odds_difference`` = ((FPR(group) - FPR(rest)) + (TPR(group) - TPR(rest))) / 2.

Negative differences (and a ratio below 1) mean the group is worse off: it
gets the positive prediction less often than the rest.  Zero (ratio 1) is
parity.  "Positive" is only the class named as positive for the target
(e.g. ``Male`` for gender), not a judgement that it is desirable.

Every rate and gap also gets a bootstrap 95% confidence interval (``*_ci``):
rows are resampled with replacement ``resamples`` times and the percentile
interval of the recomputed value is reported. ``accuracy_vs_rest`` gives each
group's accuracy minus the rest's, with its interval: the directional gap that
says which group is worse off and whether the data can tell. ``accuracy_gap``
(best minus worst group) is never negative, so its interval cannot include 0
and only measures the size of the spread.

Undefined values (a zero denominator, an infinite ratio) are None, so the
result can be written with ``json.dump`` as it is.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd

from faceaudit.evaluation.bootstrap import interval, resample_counts, resampled_mean, resampled_rate
from faceaudit.evaluation.metrics import (
    finite_or_none,
    is_regression,
    label_indices,
    numeric_columns,
    require_columns,
    safe_ratio,
)
from faceaudit.labels import intersection_name, positive_class_of
from faceaudit.quiet_import import quiet_import

SKIPPED_TARGET_ITSELF = "the attribute is the target itself"
FOUR_FIFTHS = 0.8
AIF360_METRICS = (
    "disparate_impact",
    "statistical_parity_difference",
    "equal_opportunity_difference",
    "average_odds_difference",
)


def audit_fairness(
    predictions: pd.DataFrame,
    targets: dict[str, list[str]],
    sensitive_attributes: list[str],
    positive_classes: dict[str, str],
    intersections: list[list[str]] = (),
    privileged_groups: dict[str, str] | None = None,
    resamples: int = 1000,
    seed: int = 0,
) -> dict:
    """Return ``{target: {attribute: audit, "skipped_attributes": {...}}}``.

    ``targets`` maps a target name to its class names; ``sensitive_attributes``
    names the table's group columns; ``intersections`` lists combinations of
    them audited as one attribute (named ``gender+race``, groups ``Female+Black``);
    ``positive_classes`` names the positive class of a binary target (default:
    its last class); ``privileged_groups`` maps an attribute to the group that
    the others are compared with, in addition to each group against the rest.
    An attribute that is, or contains, the target itself is not audited for
    that target and is listed under ``skipped_attributes`` with the reason.
    ``resamples`` bootstrap resamples (0: no intervals) drawn with ``seed``.
    """
    table = with_intersections(predictions, intersections)
    attributes = [*sensitive_attributes, *(intersection_name(parts) for parts in intersections)]
    counts = resample_counts(len(table), resamples, seed) if resamples else None
    return {
        target: audit_target(table, target, classes, attributes, positive_classes, privileged_groups or {}, counts)
        for target, classes in targets.items()
    }


def with_intersections(predictions: pd.DataFrame, intersections: list[list[str]]) -> pd.DataFrame:
    """The table with one extra group column per intersection, e.g. gender+race = "Female+Black"."""
    table = predictions.copy()
    for parts in intersections:
        for attribute in parts:
            group_column(predictions, attribute)
        table[intersection_name(parts)] = table[list(parts)].astype(str).agg("+".join, axis=1)
    return table


def audit_target(
    predictions: pd.DataFrame,
    target: str,
    classes: list[str],
    attributes: list[str],
    positive_classes: dict[str, str],
    privileged_groups: dict[str, str],
    counts: np.ndarray | None,
) -> dict:
    """Return the audits of one target, one per sensitive attribute or intersection."""
    if is_regression(classes):
        return audit_regression_target(predictions, target, attributes, counts)
    true_indices, predicted_indices = label_indices(predictions, target, classes)
    positive_index = None
    if len(classes) == 2:
        positive_index = classes.index(positive_class_of(target, classes, positive_classes))
    audits, skipped = {}, {}
    for attribute in attributes:
        if target in attribute.split("+"):
            skipped[attribute] = SKIPPED_TARGET_ITSELF
            continue
        labels = Labels(true_indices, predicted_indices, group_column(predictions, attribute), positive_index, classes)
        audits[attribute] = audit_attribute(labels, privileged_groups.get(attribute), counts)
    audits["skipped_attributes"] = skipped
    return audits


def audit_regression_target(predictions: pd.DataFrame, target: str, attributes: list[str], counts) -> dict:
    true, predicted = numeric_columns(predictions, target)
    absolute_error, error = np.abs(predicted - true), predicted - true
    audits = {
        attribute: audit_regression_attribute(absolute_error, error, group_column(predictions, attribute), counts)
        for attribute in attributes
        if target not in attribute.split("+")
    }
    audits["skipped_attributes"] = {
        attribute: SKIPPED_TARGET_ITSELF for attribute in attributes if target in attribute.split("+")
    }
    return audits


def audit_regression_attribute(absolute_error: np.ndarray, error: np.ndarray, group_labels: np.ndarray, counts) -> dict:
    """Regression bias: each group's MAE and mean error, and the spread of MAE between groups.

    `mae_spread` is the largest group MAE minus the smallest (in the target's units, e.g. years), `mae_ratio` the
    smallest over the largest; `mae_vs_rest` is each group's MAE minus the MAE of all other rows (positive: the
    group's predictions are further off). Intervals are bootstrap percentiles, as for classification.
    """
    masks = {name: group_labels == name for name in sorted(set(group_labels))}
    groups = {
        name: {"n": int(mask.sum()), "mae": float(absolute_error[mask].mean()), "mean_error": float(error[mask].mean())}
        for name, mask in masks.items()
    }
    maes = {name: values["mae"] for name, values in groups.items()}
    worst, best = max(maes, key=maes.get), min(maes, key=maes.get)
    audit = {
        "groups": groups,
        "mae_spread": maes[worst] - maes[best],
        "mae_ratio": safe_ratio(maes[best], maes[worst]),
        "best_group": best,
        "worst_group": worst,
        "mae_vs_rest": {},
    }
    resampled = (
        {name: resampled_mean(counts, absolute_error, mask) for name, mask in masks.items()}
        if counts is not None
        else {}
    )
    for name, samples in resampled.items():
        groups[name]["mae_ci"] = interval(samples)
    if resampled:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a group absent from a resample
            stacked = np.vstack(list(resampled.values()))
            audit["mae_spread_ci"] = interval(np.nanmax(stacked, axis=0) - np.nanmin(stacked, axis=0))
    for name, mask in masks.items() if len(masks) > 1 else ():
        difference = float(absolute_error[mask].mean() - absolute_error[~mask].mean())
        ci = interval(resampled[name] - resampled_mean(counts, absolute_error, ~mask)) if counts is not None else None
        audit["mae_vs_rest"][name] = {"difference": difference, "ci": ci}
    return audit


def group_column(predictions: pd.DataFrame, attribute: str) -> np.ndarray:
    """Return the group names of a sensitive attribute; a missing name is a ValueError."""
    require_columns(predictions, [attribute])
    missing = predictions[attribute].isna().to_numpy()
    if missing.any():
        row = predictions.index[int(np.argmax(missing))]
        raise ValueError(f"sensitive attribute {attribute!r} has a missing value at row {row!r}")
    return predictions[attribute].astype(str).to_numpy()


class Labels:
    """One (target, attribute) pair's true and predicted class indices and group names."""

    def __init__(self, true_indices, predicted_indices, group_labels, positive_index, classes):
        self.true, self.predicted, self.groups = true_indices, predicted_indices, group_labels
        self.positive_index, self.classes = positive_index, classes
        self.correct = true_indices == predicted_indices
        self.group_masks = {name: group_labels == name for name in sorted(set(group_labels))}
        if positive_index is not None:
            self.actual_positive = true_indices == positive_index
            self.predicted_positive = predicted_indices == positive_index


def audit_attribute(labels: Labels, privileged_group: str | None, counts: np.ndarray | None) -> dict:
    """Audit one (target, attribute) pair; binary targets also get aif360's metrics."""
    groups = {
        name: group_rates(labels.true, labels.predicted, in_group, labels.positive_index)
        for name, in_group in labels.group_masks.items()
    }
    resampled_accuracy = (
        {name: resampled_rate(counts, labels.correct, in_group) for name, in_group in labels.group_masks.items()}
        if counts is not None
        else {}
    )
    for name, samples in resampled_accuracy.items():
        groups[name]["accuracy_ci"] = interval(samples)
    audit = {"groups": groups, **accuracy_spread(groups)}
    if counts is not None:
        stacked = np.vstack(list(resampled_accuracy.values()))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a group absent from a resample
            audit["accuracy_gap_ci"] = interval(np.nanmax(stacked, axis=0) - np.nanmin(stacked, axis=0))
    audit["accuracy_vs_rest"] = accuracy_versus_rest(labels, counts)
    if labels.positive_index is None:
        audit["class_tpr_gaps"] = class_tpr_gaps(labels)
        return audit
    audit["vs_rest"] = groups_versus_rest(labels, counts)
    if privileged_group is not None:
        audit["privileged"] = privileged_comparison(labels, privileged_group, counts)
    return audit


def accuracy_versus_rest(labels: Labels, counts: np.ndarray | None) -> dict:
    """Each group's accuracy minus the rest's (negative: the group is worse off), with its interval."""
    if len(labels.group_masks) < 2:
        return {}
    result = {}
    for name, in_group in labels.group_masks.items():
        difference = float(labels.correct[in_group].mean() - labels.correct[~in_group].mean())
        result[name] = {"difference": difference, "ci": None}
        if counts is not None:
            samples = resampled_rate(counts, labels.correct, in_group) - resampled_rate(
                counts, labels.correct, ~in_group
            )
            result[name]["ci"] = interval(samples)
    return result


def class_tpr_gaps(labels: Labels) -> dict:
    """For a multiclass target: each class's TPR (recall) per group and the best-minus-worst gap."""
    gaps = {}
    for class_index, class_name in enumerate(labels.classes):
        actual = labels.true == class_index
        tprs = {
            name: safe_ratio(np.sum(in_group & actual & labels.correct), np.sum(in_group & actual))
            for name, in_group in labels.group_masks.items()
        }
        defined = [value for value in tprs.values() if value is not None]
        gaps[class_name] = {"tpr": tprs, "gap": max(defined) - min(defined) if len(defined) > 1 else None}
    return gaps


def group_rates(
    true_indices: np.ndarray,
    predicted_indices: np.ndarray,
    in_group: np.ndarray,
    positive_index: int | None,
) -> dict:
    """Return size, accuracy and error rate of one group, plus TPR, FPR and selection rate if binary."""
    group_true, group_predicted = true_indices[in_group], predicted_indices[in_group]
    correct = group_true == group_predicted
    rates = {"n": int(in_group.sum()), "accuracy": float(np.mean(correct)), "error_rate": float(np.mean(~correct))}
    if positive_index is not None:
        actual_positive = group_true == positive_index
        predicted_positive = group_predicted == positive_index
        rates["tpr"] = safe_ratio(np.sum(predicted_positive & actual_positive), np.sum(actual_positive))
        rates["fpr"] = safe_ratio(np.sum(predicted_positive & ~actual_positive), np.sum(~actual_positive))
        rates["selection_rate"] = float(np.mean(predicted_positive))
    return rates


def accuracy_spread(groups: dict) -> dict:
    """Return the accuracy gap and ratio between the best and worst group.

    Ties go to the first group in sorted order.
    """
    accuracies = {name: rates["accuracy"] for name, rates in groups.items()}
    best_group = max(accuracies, key=accuracies.get)
    worst_group = min(accuracies, key=accuracies.get)
    return {
        "accuracy_gap": accuracies[best_group] - accuracies[worst_group],
        "accuracy_ratio": safe_ratio(accuracies[worst_group], accuracies[best_group]),
        "best_group": best_group,
        "worst_group": worst_group,
    }


def groups_versus_rest(labels: Labels, counts: np.ndarray | None) -> dict:
    """Each group's aif360 fairness metrics against the rest; empty when there is one group."""
    if len(labels.group_masks) < 2:
        return {}
    return {name: compare_groups(labels, in_group, counts) for name, in_group in labels.group_masks.items()}


def privileged_comparison(labels: Labels, privileged_group: str, counts: np.ndarray | None) -> dict:
    """Everyone outside the configured privileged group (unprivileged) against that group."""
    if privileged_group not in labels.group_masks:
        return {"privileged_group": privileged_group, "note": "the privileged group does not occur in this eval set"}
    unprivileged = ~labels.group_masks[privileged_group]
    return {"privileged_group": privileged_group, **compare_groups(labels, unprivileged, counts)}


def compare_groups(labels: Labels, unprivileged: np.ndarray, counts: np.ndarray | None) -> dict:
    """aif360's four metrics of the unprivileged rows against the others, their intervals, the four-fifths rule."""
    metrics = aif360_metrics(labels.actual_positive, labels.predicted_positive, unprivileged)
    resampled = (
        resampled_aif360_metrics(counts, labels.actual_positive, labels.predicted_positive, unprivileged)
        if counts is not None
        else {}
    )
    impact = metrics["disparate_impact"]
    return {
        **metrics,
        "ci": {name: interval(samples) for name, samples in resampled.items()},
        "four_fifths_rule": None if impact is None else ("fails" if impact < FOUR_FIFTHS else "passes"),
    }


def resampled_aif360_metrics(counts, actual_positive, predicted_positive, unprivileged) -> dict:
    """The same four metrics as aif360 computes them, in every bootstrap resample at once."""
    privileged = ~unprivileged
    selection = [resampled_rate(counts, predicted_positive, side) for side in (unprivileged, privileged)]
    tpr = [resampled_rate(counts, predicted_positive, side & actual_positive) for side in (unprivileged, privileged)]
    fpr = [resampled_rate(counts, predicted_positive, side & ~actual_positive) for side in (unprivileged, privileged)]
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "disparate_impact": selection[0] / selection[1],
            "statistical_parity_difference": selection[0] - selection[1],
            "equal_opportunity_difference": tpr[0] - tpr[1],
            "average_odds_difference": ((fpr[0] - fpr[1]) + (tpr[0] - tpr[1])) / 2,
        }


def aif360_metrics(actual_positive: np.ndarray, predicted_positive: np.ndarray, unprivileged: np.ndarray) -> dict:
    """DI, SPD, EOD and AOD from aif360's ClassificationMetric: unprivileged rows against the others."""
    binary_label_dataset, classification_metric = load_aif360()
    frame = pd.DataFrame({"label": actual_positive.astype(float), "in_group": unprivileged.astype(float)})
    dataset_true = binary_label_dataset(
        df=frame,
        label_names=["label"],
        protected_attribute_names=["in_group"],
        favorable_label=1.0,
        unfavorable_label=0.0,
    )
    dataset_predicted = dataset_true.copy(deepcopy=True)
    dataset_predicted.labels = predicted_positive.astype(float).reshape(-1, 1)
    metric = classification_metric(
        dataset_true,
        dataset_predicted,
        unprivileged_groups=[{"in_group": 1.0}],
        privileged_groups=[{"in_group": 0.0}],
    )
    # Zero denominators are reported as None below, so numpy's warnings are noise.
    with np.errstate(divide="ignore", invalid="ignore"):
        return {name: finite_or_none(getattr(metric, name)()) for name in AIF360_METRICS}


@functools.cache
def load_aif360():
    """Import aif360 on first use (it takes seconds) and return (BinaryLabelDataset, ClassificationMetric)."""
    with quiet_import():
        from aif360.datasets import BinaryLabelDataset
        from aif360.metrics import ClassificationMetric
    return BinaryLabelDataset, ClassificationMetric
