"""Classification metrics for a predictions table, one block per target.

The predictions table has, per target ``t``, the columns ``{t}_true`` and
``{t}_pred`` (class names) and ``{t}_score_{k}`` (the model's probability for
class index ``k``).  Every value returned is a plain Python number, string,
list or dict, with ``None`` wherever a value is undefined (a zero
denominator, a ROC curve with only one class present), so the result can be
written with ``json.dump`` as it is.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, roc_auc_score, roc_curve

from faceaudit.evaluation.ordinal import ordinal_scores
from faceaudit.labels import is_numeric, positive_class_of
from faceaudit.study.result_types import Metrics


def compute_metrics(
    predictions: pd.DataFrame,
    targets: dict[str, list[str]],
    positive_classes: dict[str, str],
    ordinal_targets=(),
) -> Metrics:
    """Return ``{target: metrics}`` for every target in ``targets``.

    ``targets`` maps a target name to its class names, in the order of the
    score columns.  ``positive_classes`` names the positive class of a binary
    target; a binary target missing from it uses its last class.

    Every target reports ``accuracy``, ``balanced_accuracy`` (mean per-class
    sensitivity) and ``f1_macro``. Binary targets report ``precision``,
    ``sensitivity``, ``specificity`` and ``f1`` for the positive class, plus a
    ROC curve from its score column; multiclass targets get one ROC curve per
    class (one-vs-rest) and their macro-average AUC.
    Multiclass targets report those four as macro averages: the unweighted
    mean of the one-vs-rest values in ``per_class``, leaving out classes where
    the value is undefined (as scikit-learn does with
    ``zero_division=np.nan``).
    Targets named in ``ordinal_targets`` (ordered bins, e.g. age groups) also get an ``ordinal`` block: exact
    accuracy, accuracy within one bin and mean absolute bin distance (faceaudit.evaluation.ordinal).
    """
    metrics = {
        target: regression_metrics(predictions, target)
        if is_regression(classes)
        else target_metrics(predictions, target, classes, positive_classes)
        for target, classes in targets.items()
    }
    for target in ordinal_targets:
        metrics[target]["ordinal"] = ordinal_scores(*label_indices(predictions, target, targets[target]))
    return metrics


def is_regression(classes) -> bool:
    """A target declared `numeric` (e.g. age in years) instead of with class names."""
    return is_numeric(classes)


def numeric_columns(predictions: pd.DataFrame, target: str) -> tuple[np.ndarray, np.ndarray]:
    """Return ``{target}_true`` and ``{target}_pred`` as numbers; a missing or non-numeric value is a ValueError."""
    columns = [f"{target}_true", f"{target}_pred"]
    require_columns(predictions, columns)
    values = []
    for column in columns:
        numbers = pd.to_numeric(predictions[column], errors="coerce")
        bad = numbers.isna().to_numpy()
        if bad.any():
            position = int(np.argmax(bad))
            raise ValueError(
                f"column {column!r} at row {predictions.index[position]!r} holds "
                f"{predictions[column].iloc[position]!r}, not a number"
            )
        values.append(numbers.to_numpy(dtype=float))
    return values[0], values[1]


def regression_metrics(predictions: pd.DataFrame, target: str) -> dict:
    """MAE, RMSE, mean error (prediction minus truth: positive = overestimates) and R^2 of a numeric target."""
    true, predicted = numeric_columns(predictions, target)
    error = predicted - true
    variance = float(np.var(true))
    return {
        "kind": "regression",
        "n": len(true),
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mean_error": float(np.mean(error)),
        "r2": None if variance == 0 else float(1 - np.mean(error**2) / variance),
    }


def target_metrics(
    predictions: pd.DataFrame,
    target: str,
    classes: list[str],
    positive_classes: dict[str, str],
) -> dict:
    """Return the metrics block of one target (see ``compute_metrics``)."""
    true_indices, predicted_indices = label_indices(predictions, target, classes)
    counts = confusion_matrix(true_indices, predicted_indices, labels=range(len(classes)))
    per_class = per_class_metrics(counts, classes)
    metrics = {
        "kind": "binary" if len(classes) == 2 else "multiclass",
        "n": len(predictions),
        "classes": list(classes),
        "accuracy": safe_ratio(np.trace(counts), counts.sum()),
    }
    macro = macro_averages(per_class)
    metrics["balanced_accuracy"] = macro["sensitivity"]
    metrics["f1_macro"] = macro["f1"]
    if metrics["kind"] == "binary":
        positive_class = positive_class_of(target, classes, positive_classes)
        metrics["positive_class"] = positive_class
        metrics.update(summary_scores(per_class[positive_class]))
        metrics["roc"] = roc_summary(predictions, target, classes.index(positive_class), true_indices)
    else:
        metrics.update(macro)
        metrics["roc"] = one_vs_rest_roc(predictions, target, classes, true_indices)
    metrics["per_class"] = per_class
    metrics["confusion_matrix"] = {
        "labels": list(classes),
        "counts": counts.tolist(),
        "normalised": normalise_rows(counts),
    }
    return metrics


def normalise_rows(counts: np.ndarray) -> list[list[float | None]]:
    """Each row of the confusion matrix divided by its true-class total (None for an absent class)."""
    return [[safe_ratio(cell, row.sum()) for cell in row] for row in counts]


def one_vs_rest_roc(predictions: pd.DataFrame, target: str, classes: list[str], true_indices: np.ndarray) -> dict:
    """A ROC curve per class (that class against all others) and their unweighted mean AUC."""
    curves = {name: roc_summary(predictions, target, index, true_indices) for index, name in enumerate(classes)}
    defined = [curve["auc"] for curve in curves.values() if curve["auc"] is not None]
    return {
        "method": "one-vs-rest, macro average",
        "auc": float(np.mean(defined)) if defined else None,
        "per_class": curves,
    }


def require_columns(predictions: pd.DataFrame, columns: list[str]) -> None:
    """Raise ValueError naming the first of ``columns`` the table lacks."""
    for column in columns:
        if column not in predictions.columns:
            raise ValueError(f"predictions table has no column {column!r}")


def label_indices(predictions: pd.DataFrame, target: str, classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return the class indices of ``{target}_true`` and ``{target}_pred``."""
    if len(classes) < 2:
        raise ValueError(f"target {target!r} needs at least two classes, got {list(classes)}")
    true_column, predicted_column = f"{target}_true", f"{target}_pred"
    require_columns(predictions, [true_column, predicted_column])
    return (
        column_indices(predictions, true_column, target, classes),
        column_indices(predictions, predicted_column, target, classes),
    )


def column_indices(predictions: pd.DataFrame, column: str, target: str, classes: list[str]) -> np.ndarray:
    """Map a column of class names to class indices; unknown names are a ValueError."""
    index_of_class = {name: index for index, name in enumerate(classes)}
    indices = predictions[column].map(index_of_class)
    unknown = indices.isna().to_numpy()
    if unknown.any():
        position = int(np.argmax(unknown))
        raise ValueError(
            f"target {target!r}: value {predictions[column].iloc[position]!r} in column {column!r} "
            f"at row {predictions.index[position]!r} is not one of the classes {list(classes)}"
        )
    return indices.to_numpy(dtype=int)


def per_class_metrics(counts: np.ndarray, classes: list[str]) -> dict:
    """Return one-vs-rest support, precision, sensitivity, specificity and F1 per class."""
    total = counts.sum()
    per_class = {}
    for index, name in enumerate(classes):
        true_positives = counts[index, index]
        false_positives = counts[:, index].sum() - true_positives
        false_negatives = counts[index, :].sum() - true_positives
        true_negatives = total - true_positives - false_positives - false_negatives
        per_class[name] = {
            "support": int(true_positives + false_negatives),
            "precision": safe_ratio(true_positives, true_positives + false_positives),
            "sensitivity": safe_ratio(true_positives, true_positives + false_negatives),
            "specificity": safe_ratio(true_negatives, true_negatives + false_positives),
            # 2TP / (2TP + FP + FN) equals the harmonic mean of precision and
            # recall, and stays defined when only precision's denominator is 0.
            "f1": safe_ratio(2 * true_positives, 2 * true_positives + false_positives + false_negatives),
        }
    return per_class


SUMMARY_SCORES = ("precision", "sensitivity", "specificity", "f1")


def summary_scores(class_metrics: dict) -> dict:
    """Return the four summary scores of one class's metrics."""
    return {name: class_metrics[name] for name in SUMMARY_SCORES}


def macro_averages(per_class: dict) -> dict:
    """Return the unweighted mean over classes of each summary score, skipping undefined ones."""
    averages = {}
    for name in SUMMARY_SCORES:
        defined = [scores[name] for scores in per_class.values() if scores[name] is not None]
        averages[name] = float(np.mean(defined)) if defined else None
    return averages


def roc_summary(
    predictions: pd.DataFrame,
    target: str,
    positive_index: int,
    true_indices: np.ndarray,
) -> dict:
    """Return the ROC curve and AUC of the score column of class ``positive_index`` against all others.

    With only one class present in ``{target}_true`` the curve is undefined:
    the lists are empty and ``auc`` is None.
    """
    score_column = f"{target}_score_{positive_index}"
    require_columns(predictions, [score_column])
    is_positive = (true_indices == positive_index).astype(int)
    if len(np.unique(is_positive)) < 2:
        return {"fpr": [], "tpr": [], "thresholds": [], "auc": None}
    scores = predictions[score_column].to_numpy(dtype=float)
    if not np.isfinite(scores).all():
        raise ValueError(f"column {score_column!r} holds missing or infinite scores")
    false_positive_rates, true_positive_rates, thresholds = roc_curve(is_positive, scores)
    return {
        "fpr": false_positive_rates.tolist(),
        "tpr": true_positive_rates.tolist(),
        # scikit-learn starts the thresholds at +inf, which JSON cannot hold.
        "thresholds": [finite_or_none(threshold) for threshold in thresholds],
        "auc": float(roc_auc_score(is_positive, scores)),
    }


def safe_ratio(numerator, denominator) -> float | None:
    """Return numerator / denominator as a float, or None when the denominator is 0."""
    if denominator == 0:
        return None
    return float(numerator / denominator)


def finite_or_none(value) -> float | None:
    """Return ``value`` as a float, or None when it is NaN or infinite."""
    value = float(value)
    return value if math.isfinite(value) else None
