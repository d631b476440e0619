"""Conclusions across training seeds: one configuration trained with several seeds, audited as one.

Each seed's model predicts the same eval set (the split stays fixed across seeds), so a gap seen in one model can be
training noise. For every metric, group rate and gap of the fairness audit (``faceaudit.evaluation.fairness``) this
module gives the per-seed values (equal to those in each seed's own files), their mean, standard deviation, min and
max, and one interval covering both sources of variation. The estimate is the mean over the S seeds; its variance
has two parts, added:

* retraining: the variance of the S per-seed values divided by S;
* test rows: the variance, over bootstrap resamples of the eval set's rows, of the mean over the seeds of the value
  on the resampled rows. All seeds were evaluated on the same rows, so one resample serves every seed: the rows are
  one sample, shared, and their variance does not shrink with more seeds.

``ci`` is mean +- t * standard error, t with the Welch-Satterthwaite degrees of freedom (S - 1 where retraining
dominates, many where the test rows do). With 3 seeds that t is up to 4.3: three values say little about how much a
model moves between seeds, and the interval says so. A directional gap (a group against the rest or the privileged
group) is also tested against zero (``p_value``, two-sided, from the same t); all of a target's p-values are adjusted
as one family (Holm by default, ``faceaudit.evaluation.multiplicity``) and ``ci_family`` is the simultaneous
(Bonferroni) interval for that family; intervals are clipped to the values a statistic can take (a rate to
[0, 1]). Nothing counts the seeds on each side of zero: they share the test rows, so seeds that agree on a gap's
sign are not independent evidence (with no bias at all, 9 of 15 gaps had all 5 seeds on one side; issue 21). A
test that asks the same question as an earlier one (group A against the rest, and the others against A as the
privileged group; in a two-group attribute, each group against the other) is counted once in the family and names
its twin (``same_test_as``).
A percentile two-level bootstrap (seeds, then rows) was measured first and rejected: with few seeds it cannot show
more spread than the seeds drawn, and its 95% interval covered the truth in only 82-85% of simulated studies with
large training noise (``python -m faceaudit.bench.audit --coverage``).

Groups too small for a rate (``min_group_size``, ``min_positives``) get ``insufficient_data`` as in the per-run
audit: the size of a group is the same in every seed, so the same rates are withheld. Undefined values are None.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import t as t_distribution

from faceaudit.evaluation.bootstrap import resample_counts
from faceaudit.evaluation.fairness import (
    SKIPPED_TARGET_ITSELF,
    TESTED_AIF360_METRICS,
    Labels,
    group_column,
    with_intersections,
)
from faceaudit.evaluation.metrics import is_regression, label_indices, numeric_columns
from faceaudit.evaluation.multiplicity import ALPHA, adjust_without_repeats, same_tests
from faceaudit.evaluation.settings import DEFAULT_SETTINGS, AuditSettings
from faceaudit.evaluation.small_groups import Minimums, reason_of
from faceaudit.labels import intersection_name, positive_class_of
from faceaudit.study.result_types import SeedAggregate

METHOD = "mean of seeds; variance = across seeds / S + over bootstrap resamples of the shared rows; Welch t"


class RateColumns:
    """The rates (a weighted numerator over a row mask) that a target's statistics need, computed together: for
    the rows as they are and for every bootstrap resample in one matrix product. Many rates share a vector (a
    group's mask is the denominator of all its rates), so each distinct vector is multiplied once."""

    def __init__(self):
        self.vectors, self.vector_index, self.columns = [], {}, []

    def rate(self, outcome: np.ndarray, rows: np.ndarray) -> int:
        """The share of `outcome` (a boolean or numeric row value) among `rows`; returns the rate's column."""
        numerator = np.where(rows, outcome, 0).astype(np.float64)
        self.columns.append((self.vector(numerator), self.vector(rows.astype(np.float64))))
        return len(self.columns) - 1

    def vector(self, values: np.ndarray) -> int:
        key = values.tobytes()
        if key not in self.vector_index:
            self.vector_index[key] = len(self.vectors)
            self.vectors.append(values)
        return self.vector_index[key]

    def evaluate(self, counts: np.ndarray | None) -> np.ndarray:
        """(1 + resamples, columns): the rates on the rows as they are, then in each resample; NaN where empty."""
        vectors = np.stack(self.vectors, axis=1)
        sums = vectors.sum(axis=0)[None]
        if counts is not None:
            sums = np.vstack([sums, counts @ vectors.astype(np.float32)])
        numerators, denominators = (np.array(index) for index in zip(*self.columns))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(sums[:, denominators] > 0, sums[:, numerators] / sums[:, denominators], np.nan)


@dataclass
class Statistic:
    """One value of the audit: where it goes in the result, how it follows from the rates, whether it is a
    directional gap tested against zero, and why it is withheld (None: it is not)."""

    path: tuple[str, ...]
    value: Callable[[np.ndarray], np.ndarray]
    tested: bool = False
    withheld_reason: str | None = None


def column(index: int) -> Callable[[np.ndarray], np.ndarray]:
    return lambda rates: rates[:, index]


def difference(first: int, second: int) -> Callable[[np.ndarray], np.ndarray]:
    return lambda rates: rates[:, first] - rates[:, second]


def aggregate_seeds(
    seed_predictions: dict[str, pd.DataFrame],
    targets: dict[str, list[str]],
    sensitive_attributes: list[str],
    positive_classes: dict[str, str],
    intersections: list[list[str]] = (),
    privileged_groups: dict[str, str] | None = None,
    settings: AuditSettings = DEFAULT_SETTINGS,
) -> SeedAggregate:
    """Return ``{"runs": [...], target: {...}}``: every statistic of every target across the seeds' predictions.

    ``seed_predictions`` maps each seed's run name to its predictions of one eval set (the same rows in the same
    order); the other arguments are those of ``audit_fairness`` (``settings.resamples``: bootstrap
    resamples of the rows).
    """
    if settings.resamples < 2:
        raise ValueError(
            f"the test rows' variance needs at least 2 bootstrap resamples (audit.bootstrap_resamples), got "
            f"{settings.resamples}"
        )
    runs = list(seed_predictions)
    check_same_rows(seed_predictions)
    tables = {run: with_intersections(table, intersections) for run, table in seed_predictions.items()}
    attributes = [*sensitive_attributes, *(intersection_name(parts) for parts in intersections)]
    n_rows = len(next(iter(tables.values())))
    counts = resample_counts(n_rows, settings.resamples, settings.seed)
    context = Settings(
        positive_classes, privileged_groups or {}, Minimums(settings.min_group_size, settings.min_positives)
    )
    result = {"runs": runs, "resamples": settings.resamples, "method": METHOD}
    for target, classes in targets.items():
        per_seed = [target_statistics(tables[run], target, classes, attributes, context) for run in runs]
        statistics = per_seed[0][0]
        values = np.stack([columns.evaluate(counts) for _, columns in per_seed])  # (seeds, 1 + resamples, columns)
        result[target] = summarise(runs, statistics, values, settings.multiple_comparisons)
        add_group_sizes(result[target], tables[runs[0]])
        result[target]["skipped_attributes"] = {
            attribute: SKIPPED_TARGET_ITSELF for attribute in attributes if target in attribute.split("+")
        }
    return result


def add_group_sizes(audit: dict, table: pd.DataFrame) -> None:
    """Each group's number of rows (the same in every seed) beside its values."""
    for attribute, audited in audit.get("attributes", {}).items():
        sizes = pd.Series(group_column(table, attribute)).value_counts()
        for name, group in audited.get("groups", {}).items():
            group["n"] = int(sizes[name])


def check_same_rows(seed_predictions: dict[str, pd.DataFrame]) -> None:
    """Every seed must have predicted the same rows in the same order (the eval set is fixed across seeds)."""
    (first_run, first), *others = seed_predictions.items()
    for run, table in others:
        if len(table) != len(first) or not np.array_equal(table["path"].to_numpy(), first["path"].to_numpy()):
            raise ValueError(
                f"the predictions of {run!r} are not of the same rows as those of {first_run!r} "
                f"({len(table)} against {len(first)} rows): the seeds of a configuration must share their eval set"
            )


@dataclass
class Settings:
    positive_classes: dict[str, str]
    privileged_groups: dict[str, str]
    minimums: Minimums


def target_statistics(table, target, classes, attributes, settings: Settings) -> tuple[list[Statistic], RateColumns]:
    """The statistics of one target in one seed's predictions, and the rates they are built from."""
    columns = RateColumns()
    if is_regression(classes):
        return regression_statistics(table, target, attributes, columns, settings.minimums), columns
    true_indices, predicted_indices = label_indices(table, target, classes)
    positive_index = None
    if len(classes) == 2:
        positive_index = classes.index(positive_class_of(target, classes, settings.positive_classes))
    overall = Labels(true_indices, predicted_indices, np.full(len(table), "all"), positive_index, classes)
    statistics = overall_statistics(overall, columns)
    for attribute in attributes:
        if target in attribute.split("+"):
            continue
        labels = Labels(
            true_indices,
            predicted_indices,
            group_column(table, attribute),
            positive_index,
            classes,
            settings.minimums,
        )
        statistics += attribute_statistics(attribute, labels, columns, settings.privileged_groups.get(attribute))
    return statistics, columns


def overall_statistics(labels: Labels, columns: RateColumns) -> list[Statistic]:
    everyone = np.ones(len(labels.true), dtype=bool)
    recalls = [columns.rate(labels.correct, labels.true == index) for index in range(len(labels.classes))]
    statistics = [
        Statistic(("overall", "accuracy"), column(columns.rate(labels.correct, everyone))),
        Statistic(("overall", "balanced_accuracy"), lambda rates: np.nanmean(rates[:, recalls], axis=1)),
    ]
    if labels.positive_index is not None:
        for name, outcome, rows in binary_rates(labels, everyone):
            statistics.append(Statistic(("overall", name), column(columns.rate(outcome, rows))))
    return statistics


def binary_rates(labels: Labels, rows: np.ndarray) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, outcome, rows) of a binary target's TPR, FPR, selection rate and base rate over some rows."""
    positive, selected = labels.actual_positive, labels.predicted_positive
    return [
        ("tpr", selected, rows & positive),
        ("fpr", selected, rows & ~positive),
        ("selection_rate", selected, rows),
        ("base_rate", positive, rows),
    ]


def attribute_statistics(attribute: str, labels: Labels, columns: RateColumns, privileged: str | None) -> list:
    """Group rates, the accuracy spread, each group against the rest, and (binary) aif360's differences."""
    statistics, accuracies = [], {}
    for name, in_group in labels.group_masks.items():
        missing = labels.missing(in_group)
        accuracy = columns.rate(labels.correct, in_group)
        reason = reason_of({"": missing}, ["accuracy"])
        statistics.append(
            Statistic(("attributes", attribute, "groups", name, "accuracy"), column(accuracy), False, reason)
        )
        if reason is None:
            accuracies[name] = accuracy
        if labels.positive_index is not None:
            for rate, outcome, rows in binary_rates(labels, in_group):
                path = ("attributes", attribute, "groups", name, rate)
                statistics.append(
                    Statistic(path, column(columns.rate(outcome, rows)), False, reason_of({"": missing}, [rate]))
                )
        statistics.append(versus_rest(attribute, labels, columns, name, in_group))
    accuracy_columns = list(accuracies.values())
    statistics.append(
        Statistic(
            ("attributes", attribute, "accuracy_gap"),
            lambda rates: np.nanmax(rates[:, accuracy_columns], axis=1) - np.nanmin(rates[:, accuracy_columns], axis=1),
            withheld_reason=None if len(accuracy_columns) > 1 else "fewer than two groups with enough rows",
        )
    )
    if labels.positive_index is None:
        return statistics + class_tpr_statistics(attribute, labels, columns)
    for name, in_group in labels.group_masks.items():
        statistics += aif360_statistics(("attributes", attribute, "vs_rest", name), labels, columns, in_group)
    if privileged is not None and privileged in labels.group_masks:
        unprivileged = ~labels.group_masks[privileged]
        statistics += aif360_statistics(("attributes", attribute, "privileged"), labels, columns, unprivileged)
    return statistics


def versus_rest(attribute: str, labels: Labels, columns: RateColumns, name: str, in_group: np.ndarray) -> Statistic:
    """A group's accuracy minus the rest's (negative: the group is worse off)."""
    reason = reason_of({"": labels.missing(in_group), "the rest": labels.missing(~in_group)}, ["accuracy"])
    gap = difference(columns.rate(labels.correct, in_group), columns.rate(labels.correct, ~in_group))
    return Statistic(("attributes", attribute, "accuracy_vs_rest", name), gap, True, reason)


def class_tpr_statistics(attribute: str, labels: Labels, columns: RateColumns) -> list[Statistic]:
    """A multi-class target: each class's TPR per group, and each group's TPR minus the rest's."""
    statistics = []
    for class_index, class_name in enumerate(labels.classes):
        actual = labels.true == class_index
        for name, in_group in labels.group_masks.items():
            missing = {"": labels.missing(in_group, actual, class_name)}
            tpr = columns.rate(labels.correct, in_group & actual)
            path = ("attributes", attribute, "groups", name, f"tpr[{class_name}]")
            statistics.append(Statistic(path, column(tpr), False, reason_of(missing, ["tpr"])))
            missing["the rest"] = labels.missing(~in_group, actual, class_name)
            rest = columns.rate(labels.correct, ~in_group & actual)
            path = ("attributes", attribute, "class_tpr_vs_rest", class_name, name)
            statistics.append(Statistic(path, difference(tpr, rest), True, reason_of(missing, ["tpr"])))
    return statistics


def aif360_statistics(path: tuple, labels: Labels, columns: RateColumns, unprivileged: np.ndarray) -> list:
    """aif360's four metrics of the unprivileged rows against the others, from the same rates aif360 uses."""
    missing = {"": labels.missing(unprivileged), "the rest": labels.missing(~unprivileged)}
    sides = (unprivileged, ~unprivileged)
    selection = [columns.rate(labels.predicted_positive, side) for side in sides]
    tpr = [columns.rate(labels.predicted_positive, side & labels.actual_positive) for side in sides]
    fpr = [columns.rate(labels.predicted_positive, side & ~labels.actual_positive) for side in sides]

    def ratio(rates):
        with np.errstate(divide="ignore", invalid="ignore"):
            return rates[:, selection[0]] / rates[:, selection[1]]

    def average_odds(rates):
        return ((rates[:, fpr[0]] - rates[:, fpr[1]]) + (rates[:, tpr[0]] - rates[:, tpr[1]])) / 2

    values = {
        "disparate_impact": ratio,
        "statistical_parity_difference": difference(*selection),
        "equal_opportunity_difference": difference(*tpr),
        "average_odds_difference": average_odds,
    }
    return [
        Statistic((*path, metric), value, metric in TESTED_AIF360_METRICS, reason_of(missing, [metric]))
        for metric, value in values.items()
    ]


def regression_statistics(table, target, attributes, columns: RateColumns, minimums: Minimums) -> list[Statistic]:
    """A numeric target: MAE overall and per group, and each group's MAE minus the rest's (positive: worse off)."""
    true, predicted = numeric_columns(table, target)
    absolute_error = np.abs(predicted - true)
    everyone = np.ones(len(table), dtype=bool)
    statistics = [Statistic(("overall", "mae"), column(columns.rate(absolute_error, everyone)))]
    for attribute in attributes:
        if target in attribute.split("+"):
            continue
        labels = Labels(true, predicted, group_column(table, attribute), None, [], minimums)
        for name, in_group in labels.group_masks.items():
            group_mae, rest_mae = columns.rate(absolute_error, in_group), columns.rate(absolute_error, ~in_group)
            own = reason_of({"": labels.missing(in_group)}, ["mae"])
            both = reason_of({"": labels.missing(in_group), "the rest": labels.missing(~in_group)}, ["mae"])
            statistics += [
                Statistic(("attributes", attribute, "groups", name, "mae"), column(group_mae), False, own),
                Statistic(("attributes", attribute, "mae_vs_rest", name), difference(group_mae, rest_mae), True, both),
            ]
    return statistics


def summarise(runs, statistics: list[Statistic], values_by_column, method: str) -> dict:
    """Each statistic's per-seed values, spread and interval, nested by its path; p-values adjusted as a family."""
    values = statistic_values(statistics, values_by_column)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a group absent from a resample, an undefined rate
        row_variance = np.nanvar(np.nanmean(values[:, 1:, :], axis=0), axis=0, ddof=1)
    result, estimates = {}, {}
    for index, statistic in enumerate(statistics):
        summary, estimates[statistic.path] = summarise_one(runs, values[:, 0, index], row_variance[index], statistic)
        place(result, statistic.path, summary)
    tested = [
        index
        for index, statistic in enumerate(statistics)
        if statistic.tested and estimates[statistic.path] is not None
    ]
    repeated = same_tests({statistics[index].path: values[:, :, index] for index in tested})
    family_size = adjust_without_repeats(result, repeated, method, find)
    for statistic in statistics:
        if statistic.tested and estimates[statistic.path] is not None:
            interval = estimates[statistic.path].interval(1 - ALPHA / family_size)
            find(result, statistic.path)["ci_family"] = clipped(interval, bounds_of(statistic))
    result["multiple_comparisons"] = {"method": method, "family_size": family_size, "alpha": ALPHA}
    return result


def statistic_values(statistics: list[Statistic], rates_by_run: np.ndarray) -> np.ndarray:
    """(runs, 1 + resamples, statistics): each statistic from each run's rates (runs, 1 + resamples, columns)."""
    values = np.stack([statistic.value(rates) for statistic in statistics for rates in rates_by_run])
    return values.reshape(len(statistics), len(rates_by_run), -1).transpose(1, 2, 0)


@dataclass
class Estimate:
    """The mean of the seeds, its standard error (retraining and test rows) and the t distribution's degrees of
    freedom (Welch-Satterthwaite: infinite when the seeds do not differ)."""

    mean: float
    standard_error: float
    degrees_of_freedom: float

    @classmethod
    def of(cls, per_seed: np.ndarray, row_variance: float) -> Estimate | None:
        if len(per_seed) == 0 or not np.isfinite(row_variance):
            return None
        seed_variance = per_seed.var(ddof=1) / len(per_seed) if len(per_seed) > 1 else 0.0
        variance = seed_variance + row_variance
        degrees = np.inf if seed_variance == 0 else variance**2 / (seed_variance**2 / (len(per_seed) - 1))
        return cls(float(per_seed.mean()), float(np.sqrt(variance)), float(degrees))

    def interval(self, confidence: float) -> list[float]:
        half = t_distribution.ppf(1 - (1 - confidence) / 2, self.degrees_of_freedom) * self.standard_error
        return [float(self.mean - half), float(self.mean + half)]

    def p_value(self) -> float:
        if self.standard_error == 0:
            return 1.0 if self.mean == 0 else 0.0
        return float(2 * t_distribution.sf(abs(self.mean) / self.standard_error, self.degrees_of_freedom))


def summarise_one(runs: list[str], per_seed: np.ndarray, row_variance: float, statistic: Statistic) -> tuple:
    """The statistic's summary, and its estimate (None where withheld or undefined)."""
    if statistic.withheld_reason is not None:
        summary = {"per_seed": dict.fromkeys(runs), "mean": None, "sd": None, "min": None, "max": None, "ci": None}
        summary |= {"insufficient_data": True, "insufficient_reason": statistic.withheld_reason}
        return summary | ({"p_value": None, "ci_family": None} if statistic.tested else {}), None
    defined = per_seed[np.isfinite(per_seed)]
    estimate = Estimate.of(defined, row_variance)
    summary = {
        "per_seed": {run: finite(value) for run, value in zip(runs, per_seed)},
        "mean": float(defined.mean()) if len(defined) else None,
        "sd": float(defined.std(ddof=1)) if len(defined) > 1 else None,
        "min": finite(defined.min()) if len(defined) else None,
        "max": finite(defined.max()) if len(defined) else None,
        "ci": None if estimate is None else clipped(estimate.interval(0.95), bounds_of(statistic)),
        "standard_error": None if estimate is None else estimate.standard_error,
        "degrees_of_freedom": None if estimate is None else finite(estimate.degrees_of_freedom),
        "insufficient_data": False,
        "insufficient_reason": None,
    }
    if statistic.tested:
        summary["p_value"] = None if estimate is None else estimate.p_value()
        summary["ci_family"] = None
    return summary, estimate


def bounds_of(statistic: Statistic) -> tuple[float | None, float | None]:
    """The values a statistic can take, to which its intervals are clipped: rates and spreads lie in [0, 1], a
    difference of rates in [-1, 1], disparate impact and MAE are not negative, a difference of MAEs is unbounded."""
    name = statistic.path[-1]
    if name == "disparate_impact" or name == "mae":
        return 0.0, None
    if "mae_vs_rest" in statistic.path:
        return None, None
    return (-1.0, 1.0) if statistic.tested else (0.0, 1.0)


def clipped(interval: list[float], bounds: tuple[float | None, float | None]) -> list[float]:
    low, high = bounds
    return [
        max(interval[0], low) if low is not None else interval[0],
        min(interval[1], high) if high is not None else interval[1],
    ]


def find(tree: dict, path: tuple[str, ...]) -> dict:
    for key in path:
        tree = tree[key]
    return tree


def finite(value) -> float | None:
    return float(value) if np.isfinite(value) else None


def place(tree: dict, path: tuple[str, ...], value) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    tree[path[-1]] = value
