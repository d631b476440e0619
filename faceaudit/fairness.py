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

Undefined values (a zero denominator, an infinite ratio) are None, so the
result can be written with ``json.dump`` as it is.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings

import numpy as np
import pandas as pd

from faceaudit.metrics import (
    finite_or_none,
    label_indices,
    positive_class_of,
    require_columns,
    safe_ratio,
)

SKIPPED_TARGET_ITSELF = "the attribute is the target itself"


def audit_fairness(
    predictions: pd.DataFrame,
    targets: dict[str, list[str]],
    sensitive_attributes: list[str],
    positive_classes: dict[str, str],
) -> dict:
    """Return ``{target: {attribute: audit, "skipped_attributes": {...}}}``.

    ``targets`` maps a target name to its class names; ``sensitive_attributes``
    names the table's group columns; ``positive_classes`` names the positive
    class of a binary target (default: its last class).  An attribute with
    the target's own name is not audited for that target and is listed under
    ``skipped_attributes`` with the reason.
    """
    return {
        target: audit_target(predictions, target, classes, sensitive_attributes, positive_classes)
        for target, classes in targets.items()
    }


def audit_target(
    predictions: pd.DataFrame,
    target: str,
    classes: list[str],
    sensitive_attributes: list[str],
    positive_classes: dict[str, str],
) -> dict:
    """Return the audits of one target, one per sensitive attribute."""
    true_indices, predicted_indices = label_indices(predictions, target, classes)
    positive_index = None
    if len(classes) == 2:
        positive_index = classes.index(positive_class_of(target, classes, positive_classes))
    audits, skipped = {}, {}
    for attribute in sensitive_attributes:
        if attribute == target:
            skipped[attribute] = SKIPPED_TARGET_ITSELF
            continue
        group_labels = group_column(predictions, attribute)
        audits[attribute] = audit_attribute(true_indices, predicted_indices, group_labels, positive_index)
    audits["skipped_attributes"] = skipped
    return audits


def group_column(predictions: pd.DataFrame, attribute: str) -> np.ndarray:
    """Return the group names of a sensitive attribute; a missing name is a ValueError."""
    require_columns(predictions, [attribute])
    missing = predictions[attribute].isna().to_numpy()
    if missing.any():
        row = predictions.index[int(np.argmax(missing))]
        raise ValueError(f"sensitive attribute {attribute!r} has a missing value at row {row!r}")
    return predictions[attribute].to_numpy()


def audit_attribute(
    true_indices: np.ndarray,
    predicted_indices: np.ndarray,
    group_labels: np.ndarray,
    positive_index: int | None,
) -> dict:
    """Audit one (target, attribute) pair; ``positive_index`` is None for multiclass targets."""
    group_names = sorted(set(group_labels))
    groups = {
        str(name): group_rates(true_indices, predicted_indices, group_labels == name, positive_index)
        for name in group_names
    }
    audit = {"groups": groups, **accuracy_spread(groups)}
    if positive_index is not None:
        in_groups = {str(name): group_labels == name for name in group_names}
        audit["vs_rest"] = groups_versus_rest(
            true_indices == positive_index, predicted_indices == positive_index, in_groups
        )
    return audit


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


def groups_versus_rest(
    actual_positive: np.ndarray, predicted_positive: np.ndarray, in_groups: dict[str, np.ndarray]
) -> dict:
    """Return each group's aif360 fairness metrics against the rest; empty when there is one group."""
    if len(in_groups) < 2:
        return {}
    binary_label_dataset, classification_metric = load_aif360()
    return {
        name: group_versus_rest(
            actual_positive, predicted_positive, in_group, binary_label_dataset, classification_metric
        )
        for name, in_group in in_groups.items()
    }


def group_versus_rest(
    actual_positive: np.ndarray,
    predicted_positive: np.ndarray,
    in_group: np.ndarray,
    binary_label_dataset,
    classification_metric,
) -> dict:
    """Return DI, SPD, EOD and AOD of one group (unprivileged) against the rest (privileged)."""
    frame = pd.DataFrame({"label": actual_positive.astype(float), "in_group": in_group.astype(float)})
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
        return {
            "disparate_impact": finite_or_none(metric.disparate_impact()),
            "statistical_parity_difference": finite_or_none(metric.statistical_parity_difference()),
            "equal_opportunity_difference": finite_or_none(metric.equal_opportunity_difference()),
            "average_odds_difference": finite_or_none(metric.average_odds_difference()),
        }


def load_aif360():
    """Import aif360 on first use (it takes seconds) and return (BinaryLabelDataset, ClassificationMetric)."""
    with quiet_import():
        from aif360.datasets import BinaryLabelDataset
        from aif360.metrics import ClassificationMetric
    return BinaryLabelDataset, ClassificationMetric


@contextlib.contextmanager
def quiet_import():
    """Silence the noise of importing aif360, then restore the caller's settings.

    aif360 logs a root-logger warning for every optional extra it lacks, and
    ``aif360.metrics`` imports TensorFlow, whose C++ core prints start-up
    lines unless TF_CPP_MIN_LOG_LEVEL is set before it loads.
    """
    root_logger = logging.getLogger()
    placeholder_handler = logging.NullHandler()
    # logging.warning() installs a stderr handler on a handler-less root
    # logger; the placeholder prevents that lasting side effect.
    root_logger.addHandler(placeholder_handler)
    previous_disable_level = root_logger.manager.disable
    logging.disable(logging.WARNING)
    tensorflow_level_was_set = "TF_CPP_MIN_LOG_LEVEL" in os.environ
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        if not tensorflow_level_was_set:
            del os.environ["TF_CPP_MIN_LOG_LEVEL"]
        logging.disable(previous_disable_level)
        root_logger.removeHandler(placeholder_handler)
