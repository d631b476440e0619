"""Configuration B minus configuration A: what a mitigation changed, for each group, beyond seed noise.

B (e.g. group-weighted training, or a post-processed model) and its baseline A (the same experiment without the
method) predicted the same eval set, each with one or more training seeds. For every metric, group rate and gap of
the seed audit (``faceaudit.evaluation.seeds``) this module gives B's mean, A's mean, the change B - A, and one
interval for the change that covers both sources of variation:

* retraining, by how the two sides' runs relate (``PAIRINGS``): *paired* where each run of B was made from one run of
  A (a post-processed model from its source), so the change is measured per model and its variance is that of the
  per-model changes over S; *independent* where B and A were trained separately, so the variances of the two means
  add (Welch). A side trained once has no variance of its own to measure: it takes the other side's per-seed
  variance (the same training, another method); where both sides have one run, retraining is not covered at all
  and the file says so (``retraining_covered``): a difference between two runs trained once may be training noise.
* the test rows: B and A were evaluated on the same rows, so one bootstrap resample of the rows serves both sides
  (paired resampling), and the variance of the change over the resamples is added.

``ci`` is change +- t * standard error (Welch-Satterthwaite degrees of freedom), ``p_value`` tests the change
against zero, and all of a target's p-values are adjusted as one family (Holm by default), a test that repeats an
earlier one counted once (``multiplicity.same_tests``). ``ci_family`` is the family's simultaneous (Bonferroni)
interval. Base rates are left out (the rows are the same: they cannot change) and disparate impact, a ratio, gets
an interval without a test, as in the seed audit.

Per attribute and rate where higher or lower is better (``VERDICT_RATES``), a verdict on what happened to the groups
(``VERDICTS``): the group worst served by A is found, and the adjusted changes say whether it gained (levelling up),
whether better-served groups lost (levelling down), both, or neither beyond chance.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from faceaudit.evaluation.bootstrap import resample_counts
from faceaudit.evaluation.fairness import SKIPPED_TARGET_ITSELF, with_intersections
from faceaudit.evaluation.multiplicity import ALPHA, adjust_without_repeats, same_tests
from faceaudit.evaluation.seeds import (
    Estimate,
    Settings,
    Statistic,
    check_same_rows,
    clipped,
    find,
    finite,
    place,
    statistic_values,
    target_statistics,
)
from faceaudit.evaluation.settings import DEFAULT_SETTINGS, AuditSettings
from faceaudit.evaluation.small_groups import Minimums
from faceaudit.labels import intersection_name
from faceaudit.study.result_types import ConfigurationComparison

PAIRINGS = {
    "paired": "each run of the configuration was made from one run of the baseline (the same model, "
    "post-processed): the change is measured per model; retraining variance = variance of the per-model changes / S",
    "independent": "the configuration and the baseline were trained separately: retraining variance = variance of "
    "the configuration's seeds / S + variance of the baseline's seeds / S (a side trained once takes the other "
    "side's per-seed variance)",
}
ROWS = "test rows: both sides predicted the same rows, resampled together (paired bootstrap) for the change"
# Rates judged for a verdict, with the direction that is better: +1 higher (accuracy, TPR), -1 lower (FPR, MAE).
VERDICT_RATES = {"accuracy": 1, "tpr": 1, "fpr": -1, "mae": -1}
VERDICTS = {
    "levelling up": "the group the baseline served worst gained, and no better-served group lost",
    "levelling down": "better-served groups lost, and the worst-served group did not gain",
    "levelling up and down": "the worst-served group gained, and better-served groups lost",
    "worst-served group lost": "the group the baseline served worst lost",
    "better-served groups gained": "better-served groups gained, and the worst-served group did not",
    "no change distinguishable": "no group's change is distinguishable from zero after adjustment",
}
UNTESTED = ("disparate_impact",)
LEFT_OUT = ("base_rate",)


def compare_configurations(
    configuration: dict[str, pd.DataFrame],
    baseline: dict[str, pd.DataFrame],
    targets: dict[str, list[str]],
    sensitive_attributes: list[str],
    positive_classes: dict[str, str],
    intersections: list[list[str]] = (),
    privileged_groups: dict[str, str] | None = None,
    settings: AuditSettings = DEFAULT_SETTINGS,
    paired: bool = False,
) -> ConfigurationComparison:
    """Every statistic of every target, configuration minus baseline, with intervals, adjusted tests and verdicts.

    ``configuration`` and ``baseline`` map each run's name to its predictions of one eval set (the same rows in the
    same order on both sides); ``paired``: the i-th run of the configuration was made from the i-th of the baseline.
    The other arguments are those of ``seeds.aggregate_seeds``."""
    if settings.resamples < 2:
        raise ValueError(f"a comparison needs at least 2 bootstrap resamples, got {settings.resamples}")
    if paired and len(configuration) != len(baseline):
        raise ValueError(
            f"paired runs must be as many on both sides: {len(configuration)} in the configuration, "
            f"{len(baseline)} in the baseline"
        )
    check_same_rows(configuration | baseline)
    attributes = [*sensitive_attributes, *(intersection_name(parts) for parts in intersections)]
    sides = [
        {run: with_intersections(table, intersections) for run, table in side.items()}
        for side in (configuration, baseline)
    ]
    n_rows = len(next(iter(sides[0].values())))
    counts = resample_counts(n_rows, settings.resamples, settings.seed)
    context = Settings(
        positive_classes, privileged_groups or {}, Minimums(settings.min_group_size, settings.min_positives)
    )
    pairing = "paired" if paired else "independent"
    result = {
        "runs": list(configuration),
        "baseline_runs": list(baseline),
        "pairing": pairing,
        "retraining_covered": max(len(configuration), len(baseline)) > 1,
        "resamples": settings.resamples,
        "positive_classes": dict(positive_classes),
        "method": f"change = mean of the configuration's runs - mean of the baseline's; variance = retraining ("
        f"{PAIRINGS[pairing]}) + {ROWS}; Welch t",
        "verdicts_explained": VERDICTS,
        "targets": {},
    }
    for target, classes in targets.items():
        values = [side_values(side, target, classes, attributes, context, counts) for side in sides]
        statistics = values[0][0]
        if [statistic.path for statistic in statistics] != [statistic.path for statistic in values[1][0]]:
            raise ValueError(f"{target}: the configuration's and the baseline's predictions have different groups")
        compared = compare_target(statistics, values[0][1], values[1][1], paired, settings.multiple_comparisons)
        compared["verdicts"] = verdicts(compared)
        compared["skipped_attributes"] = {
            attribute: SKIPPED_TARGET_ITSELF for attribute in attributes if target in attribute.split("+")
        }
        result["targets"][target] = compared
    return result


def side_values(tables: dict, target, classes, attributes, context: Settings, counts) -> tuple[list, np.ndarray]:
    """One side's statistics (base rates left out) and their values: (runs, 1 + resamples, statistics)."""
    per_run = [target_statistics(table, target, classes, attributes, context) for table in tables.values()]
    values = np.stack(
        [statistic_values(statistics, columns.evaluate(counts)[None])[0] for statistics, columns in per_run]
    )
    statistics = per_run[0][0]
    kept = [index for index, statistic in enumerate(statistics) if statistic.path[-1] not in LEFT_OUT]
    return [statistics[index] for index in kept], values[:, :, kept]


def compare_target(statistics: list[Statistic], configuration, baseline, paired: bool, method: str) -> dict:
    """Each statistic's change, nested by its path; p-values adjusted as a family, repeats counted once."""
    result, estimates = {}, {}
    for index, statistic in enumerate(statistics):
        if statistic.withheld_reason is not None:
            summary, estimates[statistic.path] = withheld(statistic.withheld_reason), None
        else:
            summary, estimates[statistic.path] = compare_one(configuration[:, :, index], baseline[:, :, index], paired)
        if not is_tested(statistic):
            del summary["p_value"]
        place(result, statistic.path, summary)
    tested = [index for index, statistic in enumerate(statistics) if is_tested(statistic)]
    tested = [index for index in tested if estimates[statistics[index].path] is not None]
    changes = {
        statistics[index].path: change_values(configuration[:, :, index], baseline[:, :, index], paired)
        for index in tested
    }
    family_size = adjust_without_repeats(result, same_tests(changes), method, find)
    for index in tested:
        statistic = statistics[index]
        interval = estimates[statistic.path].interval(1 - ALPHA / max(family_size, 1))
        find(result, statistic.path)["ci_family"] = clipped(interval, change_bounds(statistic))
    for statistic in statistics:
        if estimates[statistic.path] is not None:
            summary = find(result, statistic.path)
            summary["ci"] = clipped(summary["ci"], change_bounds(statistic))
    result["multiple_comparisons"] = {"method": method, "family_size": family_size, "alpha": ALPHA}
    return result


def is_tested(statistic: Statistic) -> bool:
    return statistic.path[-1] not in UNTESTED


def change_bounds(statistic: Statistic) -> tuple[float | None, float | None]:
    """A change of a rate or of a difference of rates lies in [-2, 2] at most, of a rate in [-1, 1]; a change of a
    ratio or of an error in years is unbounded."""
    name = statistic.path[-1]
    if name in ("disparate_impact", "mae") or "mae_vs_rest" in statistic.path:
        return None, None
    return (-2.0, 2.0) if statistic.tested else (-1.0, 1.0)


def change_values(configuration: np.ndarray, baseline: np.ndarray, paired: bool) -> np.ndarray:
    """The change on the rows as they are and in each resample: per pair of runs where paired, else of the means."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if paired:
            return configuration - baseline
        return np.nanmean(configuration, axis=0) - np.nanmean(baseline, axis=0)


def compare_one(configuration: np.ndarray, baseline: np.ndarray, paired: bool) -> tuple[dict, Estimate | None]:
    """One statistic's change: configuration (runs, 1 + resamples) minus baseline (runs, 1 + resamples)."""
    estimate = change_estimate(configuration, baseline, paired)
    summary = {
        "configuration": mean_of(configuration[:, 0]),
        "baseline": mean_of(baseline[:, 0]),
        "change": None if estimate is None else estimate.mean,
        "ci": None if estimate is None else estimate.interval(0.95),
        "standard_error": None if estimate is None else estimate.standard_error,
        "degrees_of_freedom": None if estimate is None else finite(estimate.degrees_of_freedom),
        "p_value": None if estimate is None else estimate.p_value(),
        "ci_family": None,
        "insufficient_data": False,
        "insufficient_reason": None,
    }
    return summary, estimate


def change_estimate(configuration: np.ndarray, baseline: np.ndarray, paired: bool) -> Estimate | None:
    """The change, its standard error (retraining, then test rows) and Welch degrees of freedom; None where either
    side is undefined on the rows as they are."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a group absent from a resample, an undefined rate
        if paired:
            changes = configuration - baseline
            defined = np.isfinite(changes[:, 0])
            if not defined.any():
                return None
            changes = changes[defined]
            parts = [seed_part(changes[:, 0])]
            row_changes = np.nanmean(changes[:, 1:], axis=0)
            mean = float(changes[:, 0].mean())
        else:
            sides = [side[np.isfinite(side[:, 0])] for side in (configuration, baseline)]
            if any(len(side) == 0 for side in sides):
                return None
            parts = borrowed([seed_part(side[:, 0]) for side in sides])
            row_changes = np.nanmean(sides[0][:, 1:], axis=0) - np.nanmean(sides[1][:, 1:], axis=0)
            mean = float(sides[0][:, 0].mean() - sides[1][:, 0].mean())
        row_variance = np.nanvar(row_changes, ddof=1)
    if not np.isfinite(row_variance):
        return None
    variance = sum(part_variance for part_variance, _ in parts) + row_variance
    seed_terms = sum(part_variance**2 / degrees for part_variance, degrees in parts if degrees > 0)
    degrees_of_freedom = np.inf if seed_terms == 0 else variance**2 / seed_terms
    return Estimate(mean, float(np.sqrt(variance)), float(degrees_of_freedom))


def seed_part(per_run: np.ndarray) -> tuple[float, int]:
    """(variance of the mean over the runs, its degrees of freedom); (0, 0) for one run: nothing to measure."""
    if len(per_run) < 2:
        return 0.0, 0
    return float(per_run.var(ddof=1) / len(per_run)), len(per_run) - 1


def borrowed(parts: list[tuple[float, int]]) -> list[tuple[float, int]]:
    """A side trained once takes the per-seed variance of the other side (scaled to one run), with its degrees of
    freedom: the same training, so about the same noise, which a single run cannot show."""
    (first, first_degrees), (second, second_degrees) = parts
    if first_degrees == 0 and second_degrees > 0:
        return [(second * (second_degrees + 1), second_degrees), (second, second_degrees)]
    if second_degrees == 0 and first_degrees > 0:
        return [(first, first_degrees), (first * (first_degrees + 1), first_degrees)]
    return parts


def withheld(reason: str) -> dict:
    return {
        "configuration": None,
        "baseline": None,
        "change": None,
        "ci": None,
        "standard_error": None,
        "degrees_of_freedom": None,
        "p_value": None,
        "ci_family": None,
        "insufficient_data": True,
        "insufficient_reason": reason,
    }


def mean_of(values: np.ndarray) -> float | None:
    defined = values[np.isfinite(values)]
    return float(defined.mean()) if len(defined) else None


def verdicts(compared: dict) -> dict:
    """{attribute: {rate: verdict}} for every attribute with groups and every rate of VERDICT_RATES they have."""
    found = {}
    for attribute, audited in compared.get("attributes", {}).items():
        groups = audited.get("groups", {})
        rates = [rate for rate in VERDICT_RATES if any(rate in changes for changes in groups.values())]
        found[attribute] = {rate: verdict_of(groups, rate) for rate in rates}
    return found


def verdict_of(groups: dict[str, dict], rate: str) -> dict:
    """What happened to the groups' `rate`: who was worst served by the baseline, who gained and who lost (adjusted
    changes only), and the verdict that follows."""
    direction = VERDICT_RATES[rate]
    judged = {
        name: changes[rate]
        for name, changes in groups.items()
        if rate in changes
        and changes[rate]["baseline"] is not None
        and changes[rate].get("adjusted_p_value") is not None
    }
    if len(judged) < 2:
        return {"verdict": None, "reason": "fewer than two groups with enough rows for this rate"}
    worst = min(judged, key=lambda name: direction * judged[name]["baseline"])
    moves = {name: movement(change, direction) for name, change in judged.items()}
    gained = [name for name, move in moves.items() if move > 0 and name != worst]
    lost = [name for name, move in moves.items() if move < 0 and name != worst]
    return {
        "verdict": verdict_name(moves[worst], bool(gained), bool(lost)),
        "worst_group": worst,
        "worst": {key: judged[worst][key] for key in ("baseline", "configuration", "change", "adjusted_p_value")},
        "gained": gained,
        "lost": lost,
        "higher_is_better": direction > 0,
    }


def movement(change: dict, direction: int) -> int:
    """+1: the group is distinguishably better served (after adjustment), -1: worse, 0: no change distinguishable."""
    if not change.get("distinguishable_from_zero"):
        return 0
    return 1 if direction * change["change"] > 0 else -1


def verdict_name(worst_move: int, others_gained: bool, others_lost: bool) -> str:
    if worst_move < 0:
        return "worst-served group lost"
    if worst_move > 0:
        return "levelling up and down" if others_lost else "levelling up"
    if others_lost:
        return "levelling down"
    if others_gained:
        return "better-served groups gained"
    return "no change distinguishable"
