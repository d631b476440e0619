"""Ordinal age bins: exact, within-one-bin and mean absolute bin distance, overall and per group, on hand-made
predictions whose answers are counted by hand."""

import pandas as pd
import pytest

from faceaudit.evaluation.fairness import audit_fairness
from faceaudit.evaluation.metrics import compute_metrics
from faceaudit.evaluation.ordinal import FAIRFACE_AGE_BINS, ordinal_targets
from faceaudit.evaluation.settings import AuditSettings

AGE = list(FAIRFACE_AGE_BINS)
# (true bin, predicted bin): group A is off by 0, 1, 2 and 8 bins; group B by 0, 0, 1 and 0.
PAIRS = {"A": [(3, 3), (3, 4), (5, 3), (0, 8)], "B": [(1, 1), (2, 2), (4, 5), (6, 6)]}


def age_predictions() -> pd.DataFrame:
    rows = [(group, true, predicted) for group, pairs in PAIRS.items() for true, predicted in pairs]
    return pd.DataFrame(
        {
            "path": [f"{index}.jpg" for index in range(len(rows))],
            "age_true": [AGE[true] for _, true, _ in rows],
            "age_pred": [AGE[predicted] for _, _, predicted in rows],
            **{
                f"age_score_{index}": [1.0 if predicted == index else 0.0 for *_, predicted in rows]
                for index in range(9)
            },
            "group": [group for group, *_ in rows],
        }
    )


def test_overall_scores_count_bins_off():
    metrics = compute_metrics(age_predictions(), {"age": AGE}, {}, ordinal_targets=["age"])
    assert metrics["age"]["ordinal"] == {
        "exact_accuracy": 0.5,
        "within_one_accuracy": 0.75,
        "mean_absolute_bin_distance": 12 / 8,
    }
    assert "ordinal" not in compute_metrics(age_predictions(), {"age": AGE}, {})["age"]


def test_each_group_gets_its_scores_with_intervals_that_hold_them():
    audit = audit_fairness(
        age_predictions(), {"age": AGE}, ["group"], {}, ordinal_targets=["age"], settings=AuditSettings(resamples=400)
    )
    groups = audit["age"]["group"]["groups"]
    first, second = groups["A"]["ordinal"], groups["B"]["ordinal"]
    assert (first["exact_accuracy"], first["within_one_accuracy"], first["mean_absolute_bin_distance"]) == (
        0.25,
        0.5,
        11 / 4,
    )
    assert (second["exact_accuracy"], second["within_one_accuracy"], second["mean_absolute_bin_distance"]) == (
        0.75,
        1.0,
        0.25,
    )
    # Every row of B is within one bin, so every resample says so; A's distances run from 0 to 8.
    assert second["within_one_accuracy_ci"] == [1.0, 1.0]
    low, high = first["mean_absolute_bin_distance_ci"]
    assert 0 <= low < 11 / 4 < high <= 8
    # Not a new tested gap: the family of p-values is what it was without the ordinal blocks.
    plain = audit_fairness(age_predictions(), {"age": AGE}, ["group"], {}, settings=AuditSettings(resamples=400))
    assert audit["age"]["group"]["multiple_comparisons"] == plain["age"]["group"]["multiple_comparisons"]


def test_a_group_too_small_for_its_accuracy_gets_no_ordinal_scores_and_the_reason():
    table = age_predictions().iloc[:5]  # group B keeps one row
    audit = audit_fairness(
        table,
        {"age": AGE},
        ["group"],
        {},
        ordinal_targets=["age"],
        settings=AuditSettings(resamples=0, min_group_size=2),
    )
    block = audit["age"]["group"]["groups"]["B"]["ordinal"]
    assert block["exact_accuracy"] is None
    assert "1" in block["insufficient_reason"]


def test_ordinal_targets_default_to_fairface_age_bins_and_follow_a_declared_list():
    labels = {"age": AGE, "gender": ["Female", "Male"], "age_years": "numeric", "size": ["S", "M", "L"]}
    assert ordinal_targets(labels, ["gender", "age"], None) == ["age"]
    assert ordinal_targets({"age": ["young", "old"]}, ["age"], None) == []
    assert ordinal_targets(labels, {"size": ["S", "M", "L"], "age": AGE}, ["size"]) == ["size"]
    assert ordinal_targets(labels, ["age"], []) == []
    with pytest.raises(ValueError, match="dataset faces.*'age_years'"):
        ordinal_targets(labels, ["age_years"], ["age_years"], dataset="faces")
