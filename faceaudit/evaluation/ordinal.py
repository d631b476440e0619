"""Ordinal targets (age groups): how far off a wrong bin is, not only whether it is wrong.

For a target whose classes are ordered bins (FairFace's nine age groups), three figures: exact accuracy, accuracy
within one bin (the predicted bin is the true one or a neighbour), and the mean absolute bin distance |predicted
index - true index|. Overall in the metrics file, and per group with bootstrap intervals in the fairness audit
(an ``ordinal`` block beside each group's rates; not tested as gaps).

Which targets are ordinal: a dataset's ``ordinal:`` list names its ordinal labels; without it (null), a label named
``age`` whose classes are FairFace's nine bins, in order, is ordinal and nothing else is.
"""

from __future__ import annotations

import numpy as np

from faceaudit.evaluation.bootstrap import interval, resampled_mean
from faceaudit.labels import is_numeric

FAIRFACE_AGE_BINS = ("0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70")
ORDINAL_SCORES = ("exact_accuracy", "within_one_accuracy", "mean_absolute_bin_distance")


def ordinal_targets(labels: dict, targets, declared: list[str] | None, dataset: str = "?") -> list[str]:
    """The targets (of `targets`, names or a {name: classes} dict) that are ordinal: those in `declared` (the
    dataset's `ordinal:` list), or with `declared` None, an `age` label with FairFace's bins."""
    if declared is None:
        declared = [name for name, classes in labels.items() if is_fairface_age(name, classes)]
    for name in declared:
        if name not in labels or is_numeric(labels[name]):
            raise ValueError(
                f"dataset {dataset}: `ordinal` names {name!r}, which is not a label with class names "
                f"(its labels with classes: {[label for label, classes in labels.items() if not is_numeric(classes)]})"
            )
    return [name for name in targets if name in declared]


def is_fairface_age(name: str, classes) -> bool:
    return name == "age" and not is_numeric(classes) and tuple(classes) == FAIRFACE_AGE_BINS


def bin_distances(true_indices: np.ndarray, predicted_indices: np.ndarray) -> np.ndarray:
    """How many bins each prediction is off (0: right)."""
    return np.abs(np.asarray(predicted_indices) - np.asarray(true_indices)).astype(float)


def ordinal_scores(true_indices: np.ndarray, predicted_indices: np.ndarray) -> dict:
    """Exact accuracy, accuracy within one bin and mean absolute bin distance (None for all without rows)."""
    distance = bin_distances(true_indices, predicted_indices)
    if len(distance) == 0:
        return dict.fromkeys(ORDINAL_SCORES)
    return {
        "exact_accuracy": float(np.mean(distance == 0)),
        "within_one_accuracy": float(np.mean(distance <= 1)),
        "mean_absolute_bin_distance": float(np.mean(distance)),
    }


def ordinal_group_blocks(
    true_indices: np.ndarray,
    predicted_indices: np.ndarray,
    group_masks: dict[str, np.ndarray],
    counts: np.ndarray | None,
    withheld_reasons: dict[str, str | None],
) -> dict:
    """Per group: its ordinal scores and their bootstrap intervals (``*_ci``, from the audit's shared resample
    `counts`; none without them). A group with a reason in `withheld_reasons` (too few rows) gets None and the
    reason, as its other rates do."""
    distance = bin_distances(true_indices, predicted_indices)
    per_row = {
        "exact_accuracy": (distance == 0).astype(float),
        "within_one_accuracy": (distance <= 1).astype(float),
        "mean_absolute_bin_distance": distance,
    }
    blocks = {}
    for name, rows in group_masks.items():
        reason = withheld_reasons.get(name)
        if reason:
            blocks[name] = {**dict.fromkeys(ORDINAL_SCORES), "insufficient_reason": reason}
            continue
        block = ordinal_scores(true_indices[rows], predicted_indices[rows])
        if counts is not None:
            for score, values in per_row.items():
                block[f"{score}_ci"] = interval(resampled_mean(counts, values, rows))
        blocks[name] = block | {"insufficient_reason": None}
    return blocks
