"""Calibration per group: does a score of 0.8 come true 80% of the time, in every group?

For each class target the pair (confidence, outcome) is calibrated:

* binary targets: the positive class's score, and whether the true class is the positive class;
* multi-class targets, top-label: the highest class score, and whether that class (the argmax) is the true one.

For the whole eval set and for each group of every sensitive attribute and intersection the audit reports

* ``ece_equal_width``: expected calibration error over ``bins`` equal-width confidence bins ([0, 0.1), ...,
  [0.9, 1]): the row-weighted mean over bins of |mean confidence - observed rate|;
* ``ece_equal_mass``: the same over ``bins`` bins holding equally many of the group's rows (sorted by confidence), so
  scores crowded into a narrow range are still resolved;
* ``brier``: the mean of (confidence - outcome)^2 (for a multi-class target the top-label Brier score);
* ``reliability``: per equal-width bin its row count, mean confidence and observed rate, the diagram's points;

and, per attribute, ``ece_gap``: the largest group ECE minus the smallest, for each binning.

Every value gets a bootstrap 95% interval (``*_ci``) from the same multinomial resamples as the fairness audit
(faceaudit.evaluation.bootstrap), bins fixed as the original rows set them. ECE is biased upward where a bin holds
few rows (noise alone looks like miscalibration), so a small group's ECE reads high even when it is calibrated.
Undefined values are None, so the result can be written with ``json.dump`` as it is.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from faceaudit.evaluation.bootstrap import interval, resample_counts, resampled_mean
from faceaudit.evaluation.fairness import SKIPPED_TARGET_ITSELF, group_column, with_intersections
from faceaudit.evaluation.metrics import finite_or_none, is_regression, label_indices, require_columns
from faceaudit.evaluation.settings import DEFAULT_SETTINGS, AuditSettings
from faceaudit.labels import intersection_name, positive_class_of

BINNINGS = ("equal_width", "equal_mass")
SKIPPED_NUMERIC_TARGET = "a numeric target has no class scores to calibrate"
SKIPPED_DECISIONS = (
    "every score is 0 or 1: these are decisions (e.g. a post-processing method that outputs decisions, or imported "
    "hard labels), not probabilities, so calibration does not apply"
)


def audit_calibration(
    predictions: pd.DataFrame,
    targets: dict[str, list[str]],
    sensitive_attributes: list[str],
    positive_classes: dict[str, str],
    intersections: list[list[str]] = (),
    settings: AuditSettings = DEFAULT_SETTINGS,
) -> dict:
    """Return ``{target: {kind, confidence, positive_class (binary), bins, overall, attributes: {attribute:
    {groups: {group: calibration}, ece_gap}}, skipped_attributes}}``; a numeric target gets ``{"kind":
    "regression", "skipped": reason}``.

    Arguments as for audit_fairness; ``settings.calibration_bins`` confidence bins per binning,
    ``settings.resamples`` bootstrap resamples (0: no intervals) drawn with ``settings.seed``.
    """
    bins = settings.calibration_bins
    table = with_intersections(predictions, intersections)
    attributes = [*sensitive_attributes, *(intersection_name(parts) for parts in intersections)]
    counts = resample_counts(len(table), settings.resamples, settings.seed) if settings.resamples else None
    return {
        target: {"kind": "regression", "skipped": SKIPPED_NUMERIC_TARGET}
        if is_regression(classes)
        else calibrate_target(table, target, classes, attributes, positive_classes, bins, counts)
        for target, classes in targets.items()
    }


def class_score_matrix(predictions: pd.DataFrame, target: str, n_classes: int) -> np.ndarray:
    """The (rows x classes) scores of ``{target}_score_{k}``; a missing, non-finite or out-of-[0, 1] score is a
    ValueError naming its column and row."""
    columns = [f"{target}_score_{index}" for index in range(n_classes)]
    require_columns(predictions, columns)
    for column in columns:
        scores = pd.to_numeric(predictions[column], errors="coerce").to_numpy(dtype=float)
        bad = ~(np.isfinite(scores) & (scores >= 0) & (scores <= 1))
        if bad.any():
            position = int(np.argmax(bad))
            raise ValueError(
                f"column {column!r} at row {predictions.index[position]!r} holds "
                f"{predictions[column].iloc[position]!r}: a class score must be a number from 0 to 1"
            )
    return predictions[columns].to_numpy(dtype=float)


def confidence_and_outcome(
    predictions: pd.DataFrame, target: str, classes: list[str], positive_classes: dict[str, str]
) -> tuple[np.ndarray, np.ndarray, dict]:
    """The scores calibrated, whether each came true (0/1), and what they are (for the JSON)."""
    true_indices, _ = label_indices(predictions, target, classes)
    scores = class_score_matrix(predictions, target, len(classes))
    if len(classes) == 2:
        positive_class = positive_class_of(target, classes, positive_classes)
        positive_index = classes.index(positive_class)
        description = {
            "kind": "binary",
            "positive_class": positive_class,
            "confidence": f"score of the positive class {positive_class!r}",
        }
        return scores[:, positive_index], (true_indices == positive_index).astype(float), description
    description = {"kind": "multiclass", "confidence": "top label: the highest class score, right if argmax is true"}
    return scores.max(axis=1), (scores.argmax(axis=1) == true_indices).astype(float), description


def only_decisions(scores: np.ndarray) -> bool:
    """True where every score is exactly 0 or 1: decisions, whose "calibration" would only restate the error rate."""
    return bool(np.all((scores == 0) | (scores == 1)))


def calibrate_target(table, target, classes, attributes, positive_classes, bins, counts) -> dict:
    confidence, outcome, description = confidence_and_outcome(table, target, classes, positive_classes)
    if only_decisions(class_score_matrix(table, target, len(classes))):
        return {"kind": description["kind"], "skipped": SKIPPED_DECISIONS}
    calibration = Calibration(confidence, outcome, bins, counts)
    result = {**description, "bins": bins, "overall": calibration.of_group(np.ones(len(table), dtype=bool))[0]}
    result["attributes"], result["skipped_attributes"] = {}, {}
    for attribute in attributes:
        if target in attribute.split("+"):
            result["skipped_attributes"][attribute] = SKIPPED_TARGET_ITSELF
            continue
        result["attributes"][attribute] = calibration.of_attribute(group_column(table, attribute))
    return result


class Calibration:
    """One target's confidences and outcomes, binned and resampled per group."""

    def __init__(self, confidence: np.ndarray, outcome: np.ndarray, bins: int, counts: np.ndarray | None):
        self.confidence, self.outcome, self.bins, self.counts = confidence, outcome, bins, counts
        self.equal_width_bins = equal_width_bins(confidence, bins)

    def of_attribute(self, group_labels: np.ndarray) -> dict:
        groups, resampled = {}, {}
        for name in sorted(set(group_labels)):
            groups[name], resampled[name] = self.of_group(group_labels == name)
        return {"groups": groups, "ece_gap": {binning: ece_gap(groups, resampled, binning) for binning in BINNINGS}}

    def of_group(self, rows: np.ndarray) -> tuple[dict, dict]:
        """The group's calibration (dict for the JSON) and its resampled ECE per binning (for the gap's interval)."""
        result = {
            "n": int(rows.sum()),
            "mean_confidence": float(self.confidence[rows].mean()),
            "observed_rate": float(self.outcome[rows].mean()),
        }
        resampled = {}
        bin_indices = {
            "equal_width": self.equal_width_bins,
            "equal_mass": equal_mass_bins(self.confidence, rows, self.bins),
        }
        for binning, bin_index in bin_indices.items():
            result[f"ece_{binning}"] = float(self.ece(np.ones((1, len(rows))), rows, bin_index)[0])
            resampled[binning] = self.ece(self.counts, rows, bin_index) if self.counts is not None else None
            result[f"ece_{binning}_ci"] = interval(resampled[binning]) if self.counts is not None else None
        squared_error = (self.confidence - self.outcome) ** 2
        result["brier"] = float(squared_error[rows].mean())
        result["brier_ci"] = (
            interval(resampled_mean(self.counts, squared_error, rows)) if self.counts is not None else None
        )
        result["reliability"] = self.reliability(rows)
        return result, resampled

    def ece(self, weights: np.ndarray, rows: np.ndarray, bin_index: np.ndarray) -> np.ndarray:
        """ECE in each row of ``weights`` (how often each table row counts): sum over bins of
        |sum of (confidence - outcome)| over the group's total weight. NaN where the group has no weight."""
        gaps = weights @ bin_sums(self.confidence - self.outcome, rows, bin_index, self.bins, weights.dtype)
        total = weights @ rows.astype(weights.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(total > 0, np.abs(gaps).sum(axis=1) / total, np.nan)

    def reliability(self, rows: np.ndarray) -> dict:
        """Per equal-width bin: rows, mean confidence, observed rate and its bootstrap interval (the band)."""
        ones = np.ones((1, len(rows)))
        count, confidence_sum, outcome_sum = (
            (ones @ bin_sums(values, rows, self.equal_width_bins, self.bins, float))[0]
            for values in (np.ones(len(rows)), self.confidence, self.outcome)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            confidence, frequency = confidence_sum / count, outcome_sum / count
        return {
            "bin_edges": np.linspace(0, 1, self.bins + 1).tolist(),
            "count": count.astype(int).tolist(),
            "confidence": [finite_or_none(value) for value in confidence],
            "frequency": [finite_or_none(value) for value in frequency],
            "frequency_ci": self.frequency_intervals(rows, count),
        }

    def frequency_intervals(self, rows: np.ndarray, count: np.ndarray) -> list:
        if self.counts is None:
            return [None] * self.bins
        drawn = self.counts @ bin_sums(np.ones(len(rows)), rows, self.equal_width_bins, self.bins, np.float32)
        came_true = self.counts @ bin_sums(self.outcome, rows, self.equal_width_bins, self.bins, np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):
            frequency = np.where(drawn > 0, came_true / drawn, np.nan)
        return [interval(frequency[:, index]) if count[index] else None for index in range(self.bins)]


def equal_width_bins(confidence: np.ndarray, bins: int) -> np.ndarray:
    """Bin k holds confidences in [k/bins, (k+1)/bins); a confidence of exactly 1 goes to the last bin."""
    return np.minimum((confidence * bins).astype(int), bins - 1)


def equal_mass_bins(confidence: np.ndarray, rows: np.ndarray, bins: int) -> np.ndarray:
    """The group's rows sorted by confidence and cut into ``bins`` runs whose sizes differ by at most one (equal
    confidences may fall on both sides of a cut); rows outside the group get bin 0, which the group's sums ignore."""
    members = np.flatnonzero(rows)
    ordered = members[np.argsort(confidence[members], kind="stable")]
    bin_index = np.zeros(len(confidence), dtype=int)
    bin_index[ordered] = np.arange(len(ordered)) * bins // max(len(ordered), 1)
    return bin_index


def bin_sums(values: np.ndarray, rows: np.ndarray, bin_index: np.ndarray, bins: int, dtype) -> np.ndarray:
    """A (rows x bins) matrix holding each group row's value in its bin's column, so that weights @ matrix sums
    the values per bin in every resample at once."""
    matrix = np.zeros((len(values), bins), dtype=dtype)
    members = np.flatnonzero(rows)
    matrix[members, bin_index[members]] = values[members]
    return matrix


def ece_gap(groups: dict, resampled: dict, binning: str) -> dict:
    """Largest minus smallest group ECE, which groups they are, and the interval of the gap over resamples."""
    eces = {name: values[f"ece_{binning}"] for name, values in groups.items()}
    worst, best = max(eces, key=eces.get), min(eces, key=eces.get)
    gap = {"gap": eces[worst] - eces[best], "worst_group": worst, "best_group": best, "ci": None}
    if all(samples[binning] is not None for samples in resampled.values()):
        stacked = np.vstack([samples[binning] for samples in resampled.values()])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a group absent from a resample
            gap["ci"] = interval(np.nanmax(stacked, axis=0) - np.nanmin(stacked, axis=0))
    return gap
