"""Group fairness audit of a predictions table.

For every target and sensitive attribute the audit reports per-group
accuracy (and, for binary targets, TPR, FPR, selection rate and base rate),
the gap between the best and worst group, and, for binary targets, each group
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
(e.g. ``Male`` for gender), not a judgement that it is desirable.  Each
group's ``base_rate`` (its share of actual positives) stands beside its
selection rate: a selection rate that follows a different base rate is not
by itself a biased decision.  The four-fifths rule is checked both ways:
``four_fifths_flag`` is "below" (disparate impact under 0.8) or "above"
(over 1.25).

Every rate and gap also gets a bootstrap 95% confidence interval (``*_ci``):
rows are resampled with replacement ``resamples`` times and the percentile
interval of the recomputed value is reported. ``accuracy_vs_rest`` gives each
group's accuracy minus the rest's, with its interval: the directional gap that
says which group is worse off and whether the data can tell. ``accuracy_gap``
(best minus worst group) is never negative, so its interval cannot include 0
and only measures the size of the spread.

Small groups (``small_groups``): a group below ``min_group_size`` rows, or with
fewer than ``min_positives`` actual positives (negatives) behind its TPR (FPR),
gets ``insufficient_data`` with the reason and None for the rates it lacks, and
takes no part in best/worst gaps, comparisons or flags; ``excluded_groups``
lists them.  Each group also gets the smallest accuracy (and TPR) gap against
the rest that its test rows could detect (``power``).

Many comparisons (``multiplicity``): every gap tested against zero (accuracy
and class TPR against the rest, aif360's differences against the rest and the
privileged group, regression MAE against the rest) has a ``p_value``
(``significance``: z-tests with the variance pooled under the null), and all
of a target's p-values in one file are adjusted as one family (Holm by default).

Undefined values (a zero denominator, an infinite ratio) are None, so the
result can be written with ``json.dump`` as it is.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd

from faceaudit.aif360_data import PRIVILEGED, UNPRIVILEGED, binary_label_dataset
from faceaudit.evaluation.bootstrap import interval, resample_counts, resampled_mean, resampled_rate
from faceaudit.evaluation.metrics import (
    finite_or_none,
    is_regression,
    label_indices,
    numeric_columns,
    require_columns,
    safe_ratio,
)
from faceaudit.evaluation.multiplicity import ALPHA, adjust_family_once
from faceaudit.evaluation.ordinal import ordinal_group_blocks
from faceaudit.evaluation.power import minimum_detectable_difference
from faceaudit.evaluation.settings import DEFAULT_SETTINGS, AuditSettings
from faceaudit.evaluation.significance import average_odds_p_value, mean_difference_p_value, two_proportion_p_value
from faceaudit.evaluation.small_groups import Counts, Minimums, reason_of, shortfalls, withheld
from faceaudit.labels import intersection_name, positive_class_of
from faceaudit.quiet_import import quiet_import
from faceaudit.study.result_types import Fairness

SKIPPED_TARGET_ITSELF = "the attribute is the target itself"
FOUR_FIFTHS = 0.8
FOUR_FIFTHS_ABOVE = 1 / FOUR_FIFTHS
AIF360_METRICS = (
    "disparate_impact",
    "statistical_parity_difference",
    "equal_opportunity_difference",
    "average_odds_difference",
)
# The differences tested against zero. Disparate impact is 1 exactly when the statistical parity difference is 0,
# so testing it too would count one question twice in the family.
TESTED_AIF360_METRICS = AIF360_METRICS[1:]
NO_MINIMUMS = Minimums()


def audit_fairness(
    predictions: pd.DataFrame,
    targets: dict[str, list[str]],
    sensitive_attributes: list[str],
    positive_classes: dict[str, str],
    intersections: list[list[str]] = (),
    privileged_groups: dict[str, str] | None = None,
    settings: AuditSettings = DEFAULT_SETTINGS,
    ordinal_targets=(),
) -> Fairness:
    """Return ``{target: {attribute: audit, "skipped_attributes": {...}}}``.

    ``targets`` maps a target name to its class names; ``sensitive_attributes``
    names the table's group columns; ``intersections`` lists combinations of
    them audited as one attribute (named ``gender+race``, groups ``Female+Black``);
    ``positive_classes`` names the positive class of a binary target (default:
    its last class); ``privileged_groups`` maps an attribute to the group that
    the others are compared with, in addition to each group against the rest.
    An attribute that is, or contains, the target itself is not audited for
    that target and is listed under ``skipped_attributes`` with the reason.
    ``settings`` says how (resamples, seed, the small-group minimums, the multiple-comparisons method: see
    AuditSettings); each target's p-values are adjusted as one family. Each group of a target in
    ``ordinal_targets`` (ordered bins) gets an ``ordinal`` block: exact accuracy, accuracy within one bin, mean
    absolute bin distance, with intervals.
    """
    minimums = Minimums(settings.min_group_size, settings.min_positives)
    table = with_intersections(predictions, intersections)
    attributes = [*sensitive_attributes, *(intersection_name(parts) for parts in intersections)]
    counts = resample_counts(len(table), settings.resamples, settings.seed) if settings.resamples else None
    audits = {}
    for target, classes in targets.items():
        audit = audit_target(
            table, target, classes, attributes, positive_classes, privileged_groups or {}, counts, minimums
        )
        if target in ordinal_targets:
            add_ordinal_blocks(audit, table, target, classes, counts)
        audits[target] = with_adjusted_family(audit, settings.multiple_comparisons)
    return audits


def add_ordinal_blocks(audit: dict, table: pd.DataFrame, target: str, classes, counts) -> None:
    """Give every group of an ordinal target's audit an ``ordinal`` block (withheld where its accuracy is)."""
    true_indices, predicted_indices = label_indices(table, target, classes)
    for attribute, values in audit.items():
        if attribute == "skipped_attributes":
            continue
        groups = values["groups"]
        masks = {name: group_column(table, attribute) == name for name in groups}
        reasons = {
            name: scores["insufficient_reason"] if scores["accuracy"] is None else None
            for name, scores in groups.items()
        }
        blocks = ordinal_group_blocks(true_indices, predicted_indices, masks, counts, reasons)
        for name, block in blocks.items():
            groups[name]["ordinal"] = block


def with_adjusted_family(audit: dict, method: str) -> dict:
    """One target's audit with all its p-values adjusted as one family, each question counted once (a repeat takes
    its twin's verdict and names it: repeated_tests); each attribute says the family's size."""
    attributes = {name: values for name, values in audit.items() if name != "skipped_attributes"}
    family_size = adjust_family_once(attributes, repeated_tests(attributes), method)
    for values in attributes.values():
        values["multiple_comparisons"] = {"method": method, "family_size": family_size, "alpha": ALPHA}
    return audit


def repeated_tests(attributes: dict) -> list[tuple]:
    """Tests that ask an earlier test's question, as multiplicity.adjust_family_once takes them: with two groups,
    the second group against the rest is the first against the rest with its sign turned (per gap, aif360 metric and
    class); all other groups against the privileged group P is P against the rest, likewise."""
    repeats = []
    for attribute, audit in attributes.items():
        groups = list(audit.get("groups", {}))
        if len(groups) == 2:
            first, second = groups
            blocks = [audit.get("accuracy_vs_rest", {}), audit.get("mae_vs_rest", {}), audit.get("vs_rest", {})]
            blocks += [gaps["tpr_vs_rest"] for gaps in audit.get("class_tpr_gaps", {}).values()]
            for block in blocks:
                if first in block and second in block:
                    repeats += twins(block[second], block[first], f"{attribute}: {first} against the rest")
        privileged = audit.get("privileged") or {}
        twin = audit.get("vs_rest", {}).get(privileged.get("privileged_group"))
        if twin is not None:
            repeats += twins(privileged, twin, f"{attribute}: {privileged['privileged_group']} against the rest")
    return repeats


def twins(repeat: dict, original: dict, name: str) -> list[tuple]:
    """(repeat, metric, original, metric, name) of each p-value both have (metric None for a single p-value)."""
    if isinstance(repeat.get("p_value"), dict):
        return [
            (repeat, metric, original, metric, f"{name}, {metric}")
            for metric, p_value in repeat["p_value"].items()
            if p_value is not None and (original.get("p_value") or {}).get(metric) is not None
        ]
    if repeat.get("p_value") is not None and original.get("p_value") is not None:
        return [(repeat, None, original, None, name)]
    return []


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
    minimums: Minimums,
) -> dict:
    """Return the audits of one target, one per sensitive attribute or intersection."""
    if is_regression(classes):
        return audit_regression_target(predictions, target, attributes, counts, minimums)
    true_indices, predicted_indices = label_indices(predictions, target, classes)
    positive_index = None
    if len(classes) == 2:
        positive_index = classes.index(positive_class_of(target, classes, positive_classes))
    audits, skipped = {}, {}
    for attribute in attributes:
        if target in attribute.split("+"):
            skipped[attribute] = SKIPPED_TARGET_ITSELF
            continue
        labels = Labels(
            true_indices, predicted_indices, group_column(predictions, attribute), positive_index, classes, minimums
        )
        audits[attribute] = audit_attribute(labels, privileged_groups.get(attribute), counts)
    audits["skipped_attributes"] = skipped
    return audits


def audit_regression_target(
    predictions: pd.DataFrame, target: str, attributes: list[str], counts, minimums: Minimums
) -> dict:
    true, predicted = numeric_columns(predictions, target)
    absolute_error, error = np.abs(predicted - true), predicted - true
    audits = {
        attribute: audit_regression_attribute(
            absolute_error, error, group_column(predictions, attribute), counts, minimums
        )
        for attribute in attributes
        if target not in attribute.split("+")
    }
    audits["skipped_attributes"] = {
        attribute: SKIPPED_TARGET_ITSELF for attribute in attributes if target in attribute.split("+")
    }
    return audits


def audit_regression_attribute(
    absolute_error: np.ndarray, error: np.ndarray, group_labels: np.ndarray, counts, minimums: Minimums
) -> dict:
    """Regression bias: each group's MAE and mean error, and the spread of MAE between groups.

    `mae_spread` is the largest group MAE minus the smallest (in the target's units, e.g. years), `mae_ratio` the
    smallest over the largest; `mae_vs_rest` is each group's MAE minus the MAE of all other rows (positive: the
    group's predictions are further off). Intervals are bootstrap percentiles, as for classification. Groups below
    `min_group_size` rows get no MAE and take no part in the spread.
    """
    masks = {name: group_labels == name for name in sorted(set(group_labels))}
    missing = {name: shortfalls(Counts(int(mask.sum())), minimums) for name, mask in masks.items()}
    groups = {name: regression_group(absolute_error, error, mask, missing[name]) for name, mask in masks.items()}
    eligible = [name for name in masks if not missing[name]]
    maes = {name: groups[name]["mae"] for name in eligible}
    best, worst = extremes(maes, higher_is_better=False)
    audit = {
        "groups": groups,
        "mae_spread": None if best is None else maes[worst] - maes[best],
        "mae_ratio": None if best is None else safe_ratio(maes[best], maes[worst]),
        "best_group": best,
        "worst_group": worst,
        "mae_vs_rest": {},
        "excluded_groups": excluded_groups(groups, missing, ("mae", "mean_error")),
    }
    if counts is not None:
        resampled = {name: resampled_mean(counts, absolute_error, mask) for name, mask in masks.items()}
        for name in masks:
            groups[name]["mae_ci"] = interval(resampled[name]) if name in eligible else None
        audit["mae_spread_ci"] = spread_interval([resampled[name] for name in eligible])
    for name, mask in masks.items() if len(masks) > 1 else ():
        rest_missing = shortfalls(Counts(int((~mask).sum())), minimums)
        reason = reason_of({"": missing[name], "the rest": rest_missing}, ("mae",))
        if reason:
            audit["mae_vs_rest"][name] = untested(reason)
            continue
        difference = float(absolute_error[mask].mean() - absolute_error[~mask].mean())
        samples = None
        if counts is not None:
            samples = resampled_mean(counts, absolute_error, mask) - resampled_mean(counts, absolute_error, ~mask)
        p_value = mean_difference_p_value(absolute_error, mask)
        audit["mae_vs_rest"][name] = tested_difference(difference, samples, p_value)
    return audit


def regression_group(absolute_error: np.ndarray, error: np.ndarray, mask: np.ndarray, missing: dict) -> dict:
    enough = not missing
    return {
        "n": int(mask.sum()),
        "mae": float(absolute_error[mask].mean()) if enough else None,
        "mean_error": float(error[mask].mean()) if enough else None,
        **insufficiency(missing),
    }


def insufficiency(missing: dict[str, str]) -> dict:
    """Whether some rate is withheld for lack of rows, and why (None when nothing is)."""
    return {"insufficient_data": bool(missing), "insufficient_reason": "; ".join(missing.values()) or None}


def excluded_groups(groups: dict, missing: dict[str, dict], rate_names) -> list[dict]:
    """The groups that lack rows for some rate: their size, actual positives, reason and the rates withheld."""
    return [
        {
            "group": name,
            "size": groups[name]["n"],
            "positives": groups[name].get("positives"),
            "reason": "; ".join(missing[name].values()),
            "withheld": withheld(rate_names, missing[name]),
        }
        for name in groups
        if missing[name]
    ]


def extremes(values: dict, higher_is_better: bool) -> tuple:
    """(best, worst) group by value, None for both with fewer than two groups to compare; ties go to the first in
    sorted order."""
    if len(values) < 2:
        return None, None
    high, low = max(values, key=values.get), min(values, key=values.get)
    return (high, low) if higher_is_better else (low, high)


def spread_interval(resampled: list[np.ndarray]) -> list[float] | None:
    """The interval of the largest minus the smallest of some resampled rates; None without any."""
    if not resampled:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a group absent from a resample
        stacked = np.vstack(resampled)
        return interval(np.nanmax(stacked, axis=0) - np.nanmin(stacked, axis=0))


def group_column(predictions: pd.DataFrame, attribute: str) -> np.ndarray:
    """Return the group names of a sensitive attribute; a missing name is a ValueError."""
    require_columns(predictions, [attribute])
    missing = predictions[attribute].isna().to_numpy()
    if missing.any():
        row = predictions.index[int(np.argmax(missing))]
        raise ValueError(f"sensitive attribute {attribute!r} has a missing value at row {row!r}")
    return predictions[attribute].astype(str).to_numpy()


class Labels:
    """One (target, attribute) pair's true and predicted class indices and group names, and the minimums."""

    def __init__(self, true_indices, predicted_indices, group_labels, positive_index, classes, minimums=NO_MINIMUMS):
        self.true, self.predicted, self.groups = true_indices, predicted_indices, group_labels
        self.positive_index, self.classes, self.minimums = positive_index, classes, minimums
        self.correct = true_indices == predicted_indices
        self.group_masks = {name: group_labels == name for name in sorted(set(group_labels))}
        if positive_index is not None:
            self.actual_positive = true_indices == positive_index
            self.predicted_positive = predicted_indices == positive_index

    def missing(self, rows: np.ndarray, actual: np.ndarray | None = None, class_name: str | None = None) -> dict:
        """What these rows lack (rows; positives, negatives) for the rates that need them. `actual` marks the
        rows of the class whose TPR is asked for (default: the positive class of a binary target)."""
        if actual is None and self.positive_index is not None:
            actual, class_name = self.actual_positive, self.classes[self.positive_index]
        if actual is None:
            return shortfalls(Counts(int(rows.sum())), self.minimums)
        negatives = int(np.sum(rows & ~actual)) if self.positive_index is not None else None
        counts = Counts(int(rows.sum()), int(np.sum(rows & actual)), negatives)
        return shortfalls(counts, self.minimums, class_name)


def audit_attribute(labels: Labels, privileged_group: str | None, counts: np.ndarray | None) -> dict:
    """Audit one (target, attribute) pair; binary targets also get aif360's metrics."""
    missing = {name: labels.missing(in_group) for name, in_group in labels.group_masks.items()}
    groups = {name: group_scores(labels, in_group, missing[name]) for name, in_group in labels.group_masks.items()}
    eligible = [name for name, scores in groups.items() if scores["accuracy"] is not None]
    audit = {"groups": groups, **accuracy_spread({name: groups[name] for name in eligible})}
    if counts is not None:
        resampled = {name: resampled_rate(counts, labels.correct, labels.group_masks[name]) for name in eligible}
        for name, scores in groups.items():
            scores["accuracy_ci"] = interval(resampled[name]) if name in resampled else None
        audit["accuracy_gap_ci"] = spread_interval(list(resampled.values()))
    audit["accuracy_vs_rest"] = accuracy_versus_rest(labels, counts)
    binary = labels.positive_index is not None
    rate_names = ("accuracy", "error_rate", "tpr", "fpr", "selection_rate", "base_rate")[: 6 if binary else 2]
    audit["excluded_groups"] = excluded_groups(groups, missing, rate_names)
    if not binary:
        audit["class_tpr_gaps"] = class_tpr_gaps(labels, counts)
        return audit
    audit["vs_rest"] = groups_versus_rest(labels, counts)
    if privileged_group is not None:
        audit["privileged"] = privileged_comparison(labels, privileged_group, counts)
    return audit


def group_scores(labels: Labels, in_group: np.ndarray, missing: dict) -> dict:
    """A group's size, its rates (None where it has too few rows for them), the gaps it could detect."""
    rates = group_rates(labels.true, labels.predicted, in_group, labels.positive_index)
    scores = {"n": rates.pop("n")}
    if labels.positive_index is not None:
        scores["positives"] = int(np.sum(in_group & labels.actual_positive))
        scores["negatives"] = int(np.sum(in_group & ~labels.actual_positive))
    hidden = withheld(rates, missing)
    scores |= {name: None if name in hidden else value for name, value in rates.items()}
    return scores | detectable_gaps(labels, in_group) | insufficiency(missing)


def detectable_gaps(labels: Labels, in_group: np.ndarray) -> dict:
    """The smallest accuracy (and TPR) gap against the rest that this group's rows could detect (alpha 0.05
    two-sided, power 0.8), at the rate of all rows together."""
    gaps = {
        "min_detectable_accuracy_gap": minimum_detectable_difference(
            int(in_group.sum()), int((~in_group).sum()), float(labels.correct.mean())
        )
    }
    if labels.positive_index is not None:
        positive = labels.actual_positive
        pooled_tpr = safe_ratio(np.sum(labels.correct & positive), np.sum(positive))
        gaps["min_detectable_tpr_gap"] = (
            None
            if pooled_tpr is None
            else minimum_detectable_difference(
                int(np.sum(in_group & positive)), int(np.sum(~in_group & positive)), pooled_tpr
            )
        )
    return gaps


def accuracy_versus_rest(labels: Labels, counts: np.ndarray | None) -> dict:
    """Each group's accuracy minus the rest's (negative: the group is worse off), with its interval and p-value."""
    if len(labels.group_masks) < 2:
        return {}
    return {
        name: rate_versus_rest(labels, labels.correct, in_group, ~in_group, ("accuracy",), counts)
        for name, in_group in labels.group_masks.items()
    }


def rate_versus_rest(labels, outcome, group_rows, rest_rows, rate_names, counts, actual=None, class_name=None):
    """The share of `outcome` among the group's rows minus the rest's, or why it is not compared."""
    missing_by_side = {
        "": labels.missing(group_rows, actual, class_name),
        "the rest": labels.missing(rest_rows, actual, class_name),
    }
    if actual is not None:
        group_rows, rest_rows = group_rows & actual, rest_rows & actual
    reason = reason_of(missing_by_side, rate_names)
    if reason:
        return untested(reason)
    hits = int(np.sum(outcome & group_rows)), int(np.sum(outcome & rest_rows))
    sizes = int(np.sum(group_rows)), int(np.sum(rest_rows))
    if min(sizes) == 0:
        return untested(None)
    samples = None
    if counts is not None:
        samples = resampled_rate(counts, outcome, group_rows) - resampled_rate(counts, outcome, rest_rows)
    difference = hits[0] / sizes[0] - hits[1] / sizes[1]
    return tested_difference(difference, samples, two_proportion_p_value(hits, sizes))


def tested_difference(difference: float, samples: np.ndarray | None, p_value: float | None) -> dict:
    """A gap with its interval (None without resamples) and its p-value against zero."""
    return {
        "difference": difference,
        "ci": None if samples is None else interval(samples),
        "p_value": p_value,
        "insufficient_data": False,
        "insufficient_reason": None,
    }


def untested(reason: str | None) -> dict:
    """A gap not measured: too few rows (the reason), or undefined (no rows of the class at all)."""
    return {
        "difference": None,
        "ci": None,
        "p_value": None,
        "insufficient_data": reason is not None,
        "insufficient_reason": reason,
    }


def class_tpr_gaps(labels: Labels, counts: np.ndarray | None = None) -> dict:
    """For a multiclass target: each class's TPR (recall) per group, the best-minus-worst gap, and each group's TPR
    minus the rest's; a group with fewer than min_positives rows of the class gets no TPR for it."""
    gaps = {}
    for class_index, class_name in enumerate(labels.classes):
        actual = labels.true == class_index
        missing = {name: labels.missing(rows, actual, class_name) for name, rows in labels.group_masks.items()}
        tprs = {
            name: None
            if withheld(("tpr",), missing[name])
            else safe_ratio(np.sum(in_group & actual & labels.correct), np.sum(in_group & actual))
            for name, in_group in labels.group_masks.items()
        }
        defined = [value for value in tprs.values() if value is not None]
        versus_rest = {
            name: rate_versus_rest(labels, labels.correct, in_group, ~in_group, ("tpr",), counts, actual, class_name)
            for name, in_group in labels.group_masks.items()
            if len(labels.group_masks) > 1
        }
        gaps[class_name] = {
            "tpr": tprs,
            "gap": max(defined) - min(defined) if len(defined) > 1 else None,
            "tpr_vs_rest": versus_rest,
            "excluded_groups": [
                {
                    "group": name,
                    "size": int(labels.group_masks[name].sum()),
                    "positives": int(np.sum(labels.group_masks[name] & actual)),
                    "reason": "; ".join(missing[name].values()),
                    "withheld": ["tpr"],
                }
                for name in tprs
                if withheld(("tpr",), missing[name])
            ],
        }
    return gaps


def group_rates(
    true_indices: np.ndarray,
    predicted_indices: np.ndarray,
    in_group: np.ndarray,
    positive_index: int | None,
) -> dict:
    """Return size, accuracy and error rate of one group, plus TPR, FPR, selection rate and base rate if binary."""
    group_true, group_predicted = true_indices[in_group], predicted_indices[in_group]
    correct = group_true == group_predicted
    rates = {"n": int(in_group.sum()), "accuracy": float(np.mean(correct)), "error_rate": float(np.mean(~correct))}
    if positive_index is not None:
        actual_positive = group_true == positive_index
        predicted_positive = group_predicted == positive_index
        rates["tpr"] = safe_ratio(np.sum(predicted_positive & actual_positive), np.sum(actual_positive))
        rates["fpr"] = safe_ratio(np.sum(predicted_positive & ~actual_positive), np.sum(~actual_positive))
        rates["selection_rate"] = float(np.mean(predicted_positive))
        rates["base_rate"] = float(np.mean(actual_positive))
    return rates


def accuracy_spread(groups: dict) -> dict:
    """Return the accuracy gap and ratio between the best and worst group (None for all without two groups).

    Ties go to the first group in sorted order.
    """
    accuracies = {name: rates["accuracy"] for name, rates in groups.items()}
    best_group, worst_group = extremes(accuracies, higher_is_better=True)
    if best_group is None:
        return {"accuracy_gap": None, "accuracy_ratio": None, "best_group": None, "worst_group": None}
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
    return {
        name: compare_groups(labels, in_group, counts, ("", "the rest"))
        for name, in_group in labels.group_masks.items()
    }


def privileged_comparison(labels: Labels, privileged_group: str, counts: np.ndarray | None) -> dict:
    """Everyone outside the configured privileged group (unprivileged) against that group."""
    if privileged_group not in labels.group_masks:
        return {"privileged_group": privileged_group, "note": "the privileged group does not occur in this eval set"}
    unprivileged = ~labels.group_masks[privileged_group]
    sides = ("all other groups", f"privileged group {privileged_group!r}")
    return {"privileged_group": privileged_group, **compare_groups(labels, unprivileged, counts, sides)}


def compare_groups(
    labels: Labels, unprivileged: np.ndarray, counts: np.ndarray | None, sides: tuple[str, str] = ("", "the rest")
) -> dict:
    """aif360's four metrics of the unprivileged rows against the others, their intervals and p-values, the
    four-fifths rule; a metric that needs more rows than a side has is None, with the reason."""
    missing_by_side = dict(zip(sides, (labels.missing(unprivileged), labels.missing(~unprivileged))))
    hidden = [name for name in AIF360_METRICS if any(withheld((name,), side) for side in missing_by_side.values())]
    shown = [name for name in AIF360_METRICS if name not in hidden]
    metrics, resampled = dict.fromkeys(AIF360_METRICS), {}
    if shown:  # aif360 takes a while; nothing to compute where every metric is withheld
        metrics = aif360_metrics(labels.actual_positive, labels.predicted_positive, unprivileged)
    if shown and counts is not None:
        resampled = resampled_aif360_metrics(counts, labels.actual_positive, labels.predicted_positive, unprivileged)
    values = {name: metrics[name] if name in shown else None for name in AIF360_METRICS}
    rule, flag = four_fifths(values["disparate_impact"])
    return {
        **values,
        "ci": {}
        if counts is None
        else {name: interval(resampled[name]) if name in shown else None for name in AIF360_METRICS},
        "p_value": {
            name: p_value if name in shown else None
            for name, p_value in aif360_p_values(
                labels.actual_positive, labels.predicted_positive, unprivileged
            ).items()
        },
        "four_fifths_rule": rule,
        "four_fifths_flag": flag,
        "insufficient_data": bool(hidden),
        "insufficient_reason": reason_of(missing_by_side, hidden),
    }


def aif360_p_values(actual_positive: np.ndarray, predicted_positive: np.ndarray, unprivileged: np.ndarray) -> dict:
    """p-values of the statistical parity, equal opportunity and average odds differences against zero."""
    sides = (unprivileged, ~unprivileged)
    selected = tuple(int(np.sum(side & predicted_positive)) for side in sides)
    rows = tuple(int(np.sum(side)) for side in sides)
    true_positives = tuple(int(np.sum(side & actual_positive & predicted_positive)) for side in sides)
    positives = tuple(int(np.sum(side & actual_positive)) for side in sides)
    false_positives = tuple(int(np.sum(side & ~actual_positive & predicted_positive)) for side in sides)
    negatives = tuple(int(np.sum(side & ~actual_positive)) for side in sides)
    return {
        "statistical_parity_difference": two_proportion_p_value(selected, rows),
        "equal_opportunity_difference": two_proportion_p_value(true_positives, positives),
        "average_odds_difference": average_odds_p_value(true_positives, positives, false_positives, negatives),
    }


def four_fifths(impact: float | None) -> tuple[str | None, str | None]:
    """The four-fifths rule both ways: ("fails", "below") under 0.8, ("fails", "above") over 1.25."""
    if impact is None:
        return None, None
    if impact < FOUR_FIFTHS:
        return "fails", "below"
    if impact > FOUR_FIFTHS_ABOVE:
        return "fails", "above"
    return "passes", None


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
    dataset_true = binary_label_dataset(actual_positive, ~unprivileged)
    dataset_predicted = dataset_true.copy(deepcopy=True)
    dataset_predicted.labels = predicted_positive.astype(float).reshape(-1, 1)
    metric = classification_metric()(
        dataset_true, dataset_predicted, unprivileged_groups=UNPRIVILEGED, privileged_groups=PRIVILEGED
    )
    # Zero denominators are reported as None below, so numpy's warnings are noise.
    with np.errstate(divide="ignore", invalid="ignore"):
        return {name: finite_or_none(getattr(metric, name)()) for name in AIF360_METRICS}


@functools.cache
def classification_metric():
    """aif360's ClassificationMetric, imported on first use (it takes seconds)."""
    with quiet_import():
        from aif360.metrics import ClassificationMetric
    return ClassificationMetric
