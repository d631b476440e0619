"""The subgroups a model gets most wrong, found rather than named in the config: for each class target, aif360's
MDSS bias scan looks for the subgroup of the labelled attributes whose error rate most exceeds the overall one.

Each scan runs over `depth` attributes at a time (every combination of them), so that no subgroup restricts more
labels than that; the best of those scans is the worst subgroup. The next one is searched among the rows outside it,
and so on, so that the reported subgroups are different people rather than variations of the first one. Each is then
held against what chance scores (faceaudit.evaluation.subgroup_null)."""

import itertools
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from faceaudit.evaluation.multiplicity import ALPHA
from faceaudit.evaluation.subgroup_null import NULL_METHOD, null_95th_percentile, null_scores, with_p_values
from faceaudit.labels import is_numeric
from faceaudit.quiet_import import quiet_import
from faceaudit.study.result_types import Subgroups

__all__ = ["SearchSettings", "find_subgroups", "read_predictions"]

METHOD = (
    "aif360 MDSS bias_scan (Bernoulli scoring): observations are the errors, expectations the target's overall "
    "error rate, scanning for subgroups with more errors than that rate predicts; the score is the penalised "
    "log-likelihood ratio of that excess. Each subgroup is searched among the rows outside the subgroups above it."
)
NUMERIC_BINS = 4
# The config's `audit:` keys, by the field each one sets.
CONFIG_KEYS = {
    "depth": "subgroup_depth",
    "reported": "subgroups_reported",
    "restarts": "subgroup_scan_restarts",
    "permutations": "subgroup_permutations",
    "seed": "seed",
}


@dataclass(frozen=True)
class SearchSettings:
    """How far the search goes: labels combined in one subgroup, subgroups reported, random restarts per scan; and
    how its scores are held against chance: `permutations` shuffles of the errors (0: none), drawn from `seed`."""

    depth: int = 2
    reported: int = 3
    restarts: int = 5
    permutations: int = 100
    seed: int = 0

    def __post_init__(self):
        # Holm multiplies the smallest p-value, 1 / (permutations + 1), by the number of subgroups reported.
        if self.permutations > 0 and self.reported / (self.permutations + 1) >= ALPHA:
            raise ValueError(
                f"subgroup_permutations: {self.permutations} shuffles cannot put any of {self.reported} reported "
                f"subgroups beyond chance (the smallest adjusted p-value would be {self.reported} / "
                f"{self.permutations + 1}); use at least {round(self.reported / ALPHA)}, or 0 for no comparison"
            )

    @classmethod
    def from_audit(cls, audit: dict) -> "SearchSettings":
        """From the config's `audit:` block (or the part a rule passes): the keys it has, defaults for the rest."""
        return cls(**{field: audit[key] for field, key in CONFIG_KEYS.items() if key in audit})


def read_predictions(path: Path) -> pd.DataFrame:
    """A predictions file with every value as the text it holds (class names such as "10-19" stay names)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def find_subgroups(
    predictions: pd.DataFrame,
    targets: dict[str, list[str] | str],
    scanned_attributes: dict[str, list[str] | str],
    settings: SearchSettings,
    source: str = "the predictions",
) -> Subgroups:
    """Per class target, its worst subgroups over `scanned_attributes` ({label: classes or "numeric"}; the target
    itself is left out), each held against chance. Numeric targets are listed under "skipped_targets" with the
    reason."""
    result = {
        "method": METHOD,
        "null_method": NULL_METHOD,
        "settings": asdict(settings),
        "targets": {},
        "skipped_targets": {},
    }
    for target, classes in targets.items():
        if is_numeric(classes):
            result["skipped_targets"][target] = "numeric target: the search looks for excess errors of a class target"
            continue
        attributes, orders, bins = attribute_table(predictions, target, scanned_attributes, source)
        errors = (predictions[f"{target}_pred"] != predictions[f"{target}_true"]).astype(int)
        found = search_target(attributes, orders, errors, settings)
        result["targets"][target] = {**against_chance(found, attributes, errors, settings), "binned_attributes": bins}
    return result


def attribute_table(predictions: pd.DataFrame, target: str, scanned_attributes: dict, source: str):
    """The labels other than the target, as text, with each one's values in order (its classes, then any others);
    numeric labels cut into quartile bins, whose names are returned apart too."""
    columns, orders, bins = {}, {}, {}
    for name, classes in scanned_attributes.items():
        if name == target:
            continue
        values = attribute_column(predictions, name, source)
        if is_numeric(classes):
            values, bins[name] = quartile_bins(values, name, source)
            classes = bins[name]
        columns[name] = values
        orders[name] = [*classes, *sorted(set(values) - set(classes))]
    return pd.DataFrame(columns, index=predictions.index), orders, bins


def attribute_column(predictions: pd.DataFrame, name: str, source: str) -> pd.Series:
    """A sensitive attribute's own column, or the true label of another target (`<name>_true`)."""
    for column in (name, f"{name}_true"):
        if column in predictions.columns:
            return predictions[column].astype(str)
    raise ValueError(
        f"{source} has no column {name!r} or {name + '_true'!r} for the subgroup search; "
        f"its columns are {list(predictions.columns)}"
    )


def quartile_bins(values: pd.Series, name: str, source: str) -> tuple[pd.Series, list[str]]:
    """Cut a numeric label at its quartiles into bins named like "[0, 18]", "(18, 35]" (fewer when values repeat)."""
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.isna().any():
        row = int(numbers.isna().to_numpy().argmax())
        raise ValueError(
            f"{source}, line {row + 2}: numeric label {name!r} holds {values.iloc[row]!r}, which is not a number"
        )
    edges = np.unique(np.quantile(numbers, np.linspace(0, 1, NUMERIC_BINS + 1)))
    if len(edges) == 1:
        label = f"[{number_text(edges[0])}]"
        return pd.Series(label, index=values.index), [label]
    labels = [
        f"{'[' if index == 0 else '('}{number_text(edges[index])}, {number_text(edges[index + 1])}]"
        for index in range(len(edges) - 1)
    ]
    positions = np.searchsorted(edges[1:-1], numbers.to_numpy(), side="left")
    return pd.Series(np.asarray(labels, dtype=object)[positions], index=values.index), labels


def number_text(number: float) -> str:
    return np.format_float_positional(number, trim="-")


def search_target(attributes: pd.DataFrame, orders: dict, errors: pd.Series, settings: SearchSettings) -> dict:
    """The target's overall error rate and its worst subgroups, each searched outside those found before it."""
    expected = float(errors.mean())
    summary = {
        "scanned_attributes": list(attributes.columns),
        "size": len(errors),
        "errors": int(errors.sum()),
        "error_rate": expected,
        "subgroups": [],
        "stopped": None,
    }
    remaining = pd.Series(True, index=errors.index)
    while len(summary["subgroups"]) < settings.reported:
        summary["stopped"] = reason_to_stop(attributes, errors[remaining], expected)
        if summary["stopped"]:
            break
        subset, score = worst_subgroup(attributes[remaining], errors[remaining], expected, settings)
        definition = plain_definition(subset, attributes, orders)
        if not definition or score <= 0:
            summary["stopped"] = "no further subgroup has more errors than the overall error rate predicts"
            break
        matching = members(attributes, definition)
        summary["subgroups"].append(describe(definition, score, matching, remaining, errors, expected))
        remaining &= ~matching
    return summary


def against_chance(found: dict, attributes: pd.DataFrame, errors: pd.Series, settings: SearchSettings) -> dict:
    """The target's search with the null of its best score and each subgroup's p-values (no null where no subgroup
    was reported, or without permutations)."""
    null = []
    if found["subgroups"] and settings.permutations:
        expected = found["error_rate"]  # shuffles keep the number of errors

        def best_score(shuffled: pd.Series) -> float:
            return worst_subgroup(attributes, shuffled, expected, settings)[1]

        highest = max(subgroup["score"] for subgroup in found["subgroups"])
        null = null_scores(best_score, errors, settings.permutations, settings.seed, highest)
    return found | {
        "subgroups": with_p_values(found["subgroups"], null, settings.permutations),
        "null_scores": null,
        "null_95th_percentile": null_95th_percentile(null),
    }


def reason_to_stop(attributes: pd.DataFrame, errors: pd.Series, expected: float) -> str | None:
    if attributes.columns.empty:
        return "no label other than the target to form subgroups"
    if expected == 0 or expected == 1:
        return f"the error rate is {expected:g}: no subgroup can exceed it"
    if not errors.any():
        return "the rows outside the subgroups above have no errors"
    return None


def worst_subgroup(
    attributes: pd.DataFrame, errors: pd.Series, expected: float, settings: SearchSettings
) -> tuple[dict[str, list[str]], float]:
    """The highest-scoring subgroup over every combination of `depth` attributes (the first one on a tie)."""
    with quiet_import():
        from aif360.detectors.mdss_detector import bias_scan

    expectations = pd.Series(expected, index=errors.index)
    best_definition, best_score = {}, 0.0
    for combination in itertools.combinations(attributes.columns, min(settings.depth, len(attributes.columns))):
        subset, score = bias_scan(
            attributes[list(combination)],
            errors,
            expectations,
            favorable_value=1,
            overpredicted=False,  # errors observed above what the overall rate predicts
            scoring="Bernoulli",
            num_iters=settings.restarts,
        )
        if float(score) > best_score:
            best_definition, best_score = subset, float(score)
    return best_definition, best_score


def plain_definition(subset: dict, attributes: pd.DataFrame, orders: dict) -> dict[str, list[str]]:
    """MDSS's subset with attributes and values in their order, without an attribute whose every value in the eval
    set is listed (MDSS's random restarts start from such subsets; that attribute restricts nothing)."""
    definition = {}
    for name in attributes.columns:
        listed = set(subset.get(name, []))
        if listed and not listed >= set(attributes[name]):
            definition[name] = [value for value in orders[name] if value in listed]
    return definition


def members(attributes: pd.DataFrame, definition: dict[str, list[str]]) -> pd.Series:
    matching = pd.Series(True, index=attributes.index)
    for name, values in definition.items():
        matching &= attributes[name].isin(values)
    return matching


def describe(
    definition: dict, score: float, matching: pd.Series, remaining: pd.Series, errors: pd.Series, expected: float
) -> dict:
    """A subgroup as reported: its rows outside the subgroups above it, and how many of its rows those took."""
    scanned = matching & remaining
    return {
        "definition": definition,
        "size": int(scanned.sum()),
        "errors": int(errors[scanned].sum()),
        "error_rate": float(errors[scanned].mean()),
        "expected_error_rate": expected,
        "score": score,
        "rows_in_subgroups_above": int((matching & ~remaining).sum()),
    }
