"""Tests of faceaudit.evaluation.fairness on hand-built tables whose rates are worked out by hand."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from faceaudit.evaluation.fairness import AIF360_METRICS, audit_fairness

GENDER = {"gender": ["Female", "Male"]}


def only(values: dict, keys) -> dict:
    """The named entries, leaving out the intervals and flags that other tests check."""
    return {key: values[key] for key in keys}


def table(rows):
    """A predictions table from (group, gender_true, gender_pred) rows."""
    return pd.DataFrame(
        {
            "path": [f"img_{i}.jpg" for i in range(len(rows))],
            "gender_true": [true for _, true, _ in rows],
            "gender_pred": [predicted for _, _, predicted in rows],
            "gender_score_0": [0.2 if predicted == "Male" else 0.8 for _, _, predicted in rows],
            "gender_score_1": [0.8 if predicted == "Male" else 0.2 for _, _, predicted in rows],
            "group": [group for group, _, _ in rows],
            "gender": [true for _, true, _ in rows],
        }
    )


def three_group_table():
    """Male is positive.

    A: TP 2, FN 0, FP 1, TN 1 -> selection 3/4, TPR 1,   FPR 1/2, accuracy 3/4
    B: TP 1, FN 1, FP 0, TN 2 -> selection 1/4, TPR 1/2, FPR 0,   accuracy 3/4
    C: TP 0, FN 1, FP 0, TN 1 -> selection 0,   TPR 0,   FPR 0,   accuracy 1/2
    Group C's rows come first so that the sorted order is checked.
    """
    return table(
        [
            ("C", "Male", "Female"),
            ("C", "Female", "Female"),
            ("A", "Male", "Male"),
            ("A", "Male", "Male"),
            ("A", "Female", "Male"),
            ("A", "Female", "Female"),
            ("B", "Male", "Male"),
            ("B", "Male", "Female"),
            ("B", "Female", "Female"),
            ("B", "Female", "Female"),
        ]
    )


@pytest.fixture(scope="module")
def three_group_audit():
    return audit_fairness(three_group_table(), GENDER, ["group", "gender"], {"gender": "Male"})


def test_groups_are_sorted_with_hand_computed_rates(three_group_audit):
    groups = three_group_audit["gender"]["group"]["groups"]
    assert list(groups) == ["A", "B", "C"]
    expected = {
        "A": {"n": 4, "accuracy": 3 / 4, "error_rate": 1 / 4, "tpr": 1.0, "fpr": 1 / 2, "selection_rate": 3 / 4},
        "B": {"n": 4, "accuracy": 3 / 4, "error_rate": 1 / 4, "tpr": 1 / 2, "fpr": 0.0, "selection_rate": 1 / 4},
        "C": {"n": 2, "accuracy": 1 / 2, "error_rate": 1 / 2, "tpr": 0.0, "fpr": 0.0, "selection_rate": 0.0},
    }
    for name, rates in expected.items():
        assert only(groups[name], rates) == pytest.approx(rates), name


def test_accuracy_gap_ratio_and_extreme_groups(three_group_audit):
    audit = three_group_audit["gender"]["group"]
    assert audit["accuracy_gap"] == pytest.approx(1 / 4)
    assert audit["accuracy_ratio"] == pytest.approx(2 / 3)
    assert audit["best_group"] == "A"  # A and B tie; the first in sorted order wins
    assert audit["worst_group"] == "C"


def test_aif360_group_versus_rest_equals_hand_computation(three_group_audit):
    # Rest of A (B + C): selection 1/6, TPR 1/3, FPR 0.
    # Rest of B (A + C): selection 1/2, TPR 2/3, FPR 1/3.
    # Rest of C (A + B): selection 1/2, TPR 3/4, FPR 1/4.
    expected = {
        "A": {
            "disparate_impact": (3 / 4) / (1 / 6),
            "statistical_parity_difference": 3 / 4 - 1 / 6,
            "equal_opportunity_difference": 1 - 1 / 3,
            "average_odds_difference": ((1 / 2 - 0) + (1 - 1 / 3)) / 2,
        },
        "B": {
            "disparate_impact": (1 / 4) / (1 / 2),
            "statistical_parity_difference": 1 / 4 - 1 / 2,
            "equal_opportunity_difference": 1 / 2 - 2 / 3,
            "average_odds_difference": ((0 - 1 / 3) + (1 / 2 - 2 / 3)) / 2,
        },
        "C": {
            "disparate_impact": 0 / (1 / 2),
            "statistical_parity_difference": 0 - 1 / 2,
            "equal_opportunity_difference": 0 - 3 / 4,
            "average_odds_difference": ((0 - 1 / 4) + (0 - 3 / 4)) / 2,
        },
    }
    vs_rest = three_group_audit["gender"]["group"]["vs_rest"]
    assert list(vs_rest) == ["A", "B", "C"]
    for name, metrics in expected.items():
        assert only(vs_rest[name], metrics) == pytest.approx(metrics), name


def test_attribute_named_like_the_target_is_skipped(three_group_audit):
    audit = three_group_audit["gender"]
    assert "gender" not in audit
    assert audit["skipped_attributes"] == {"gender": "the attribute is the target itself"}


def test_undefined_rates_are_none():
    # X: one positive predicted right, one negative predicted positive; Y has
    # no positives and no positive predictions.  X's rest selects nobody
    # (DI infinite) and Y's TPR has no positives to divide by.
    audit = audit_fairness(
        table(
            [
                ("X", "Male", "Male"),
                ("X", "Female", "Male"),
                ("Y", "Female", "Female"),
                ("Y", "Female", "Female"),
            ]
        ),
        GENDER,
        ["group"],
        {},
    )["gender"]["group"]
    assert audit["groups"]["Y"]["tpr"] is None
    assert only(audit["vs_rest"]["X"], AIF360_METRICS) == {
        "disparate_impact": None,
        "statistical_parity_difference": 1.0,
        "equal_opportunity_difference": None,
        "average_odds_difference": None,
    }
    assert audit["vs_rest"]["Y"]["disparate_impact"] == 0.0
    assert audit["vs_rest"]["Y"]["statistical_parity_difference"] == -1.0
    json.dumps(audit, allow_nan=False)


def test_a_single_group_has_no_comparison():
    audit = audit_fairness(table([("A", "Male", "Male"), ("A", "Female", "Male")]), GENDER, ["group"], {})
    assert audit["gender"]["group"]["vs_rest"] == {}
    assert audit["gender"]["group"]["accuracy_gap"] == 0.0


def test_multiclass_target_has_groups_and_gaps_but_no_vs_rest():
    predictions = three_group_table()
    predictions["age_true"] = ["0-2", "3-9", "0-2", "10-19", "3-9", "3-9", "10-19", "0-2", "0-2", "3-9"]
    predictions["age_pred"] = ["0-2", "0-2", "0-2", "10-19", "3-9", "0-2", "10-19", "0-2", "3-9", "3-9"]
    audit = audit_fairness(predictions, {"age": ["0-2", "3-9", "10-19"]}, ["group", "gender"], {})["age"]
    assert audit["skipped_attributes"] == {}
    by_group = audit["group"]
    assert "vs_rest" not in by_group
    expected = {
        "A": {"n": 4, "accuracy": 3 / 4, "error_rate": 1 / 4},
        "B": {"n": 4, "accuracy": 3 / 4, "error_rate": 1 / 4},
        "C": {"n": 2, "accuracy": 1 / 2, "error_rate": 1 / 2},
    }
    assert list(by_group["groups"]) == list(expected)
    for name, rates in expected.items():
        assert only(by_group["groups"][name], rates) == pytest.approx(rates), name
    assert by_group["accuracy_gap"] == pytest.approx(1 / 4)
    assert by_group["worst_group"] == "C"
    # Female rows (1, 4, 5, 8, 9): 2 of 5 right; Male rows (0, 2, 3, 6, 7): all right.
    assert audit["gender"]["groups"]["Female"]["accuracy"] == pytest.approx(2 / 5)
    assert audit["gender"]["groups"]["Male"]["accuracy"] == pytest.approx(1.0)


def test_whole_audit_is_json_serialisable(three_group_audit):
    text = json.dumps(three_group_audit, allow_nan=False)
    assert json.loads(text) == three_group_audit


def test_missing_attribute_column_is_named():
    with pytest.raises(ValueError, match="race"):
        audit_fairness(three_group_table(), GENDER, ["race"], {})


def test_missing_group_name_is_reported():
    predictions = three_group_table()
    predictions.loc[4, "group"] = None
    with pytest.raises(ValueError, match=r"'group'.*row 4"):
        audit_fairness(predictions, GENDER, ["group"], {})


def test_aif360_import_is_quiet_and_leaves_logging_as_it_was():
    # A fresh interpreter, so that aif360 is imported by audit_fairness itself.
    script = (
        "import logging, os\n"
        "from faceaudit.evaluation.fairness import audit_fairness\n"
        "from test_fairness import GENDER, three_group_table\n"
        "audit_fairness(three_group_table(), GENDER, ['group'], {})\n"
        "assert logging.getLogger().handlers == [], logging.getLogger().handlers\n"
        "assert 'TF_CPP_MIN_LOG_LEVEL' not in os.environ\n"
    )
    environment_without_tf_level = {
        key: value for key, value in __import__("os").environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=environment_without_tf_level,
        cwd=__import__("pathlib").Path(__file__).parent,
    )
    assert result.returncode == 0, result.stderr
    assert "inFairness" not in result.stderr
    assert "WARNING:root" not in result.stderr


def test_bootstrap_recomputes_aif360s_metrics_exactly_on_the_full_sample():
    import numpy as np

    from faceaudit.evaluation.fairness import aif360_metrics, resampled_aif360_metrics

    rng = np.random.default_rng(4)
    actual, predicted, unprivileged = (rng.random(300) < share for share in (0.5, 0.45, 0.3))
    whole_sample = np.ones((1, 300), dtype=np.float32)
    resampled = resampled_aif360_metrics(whole_sample, actual, predicted, unprivileged)
    expected = aif360_metrics(actual, predicted, unprivileged)
    assert {name: float(values[0]) for name, values in resampled.items()} == pytest.approx(expected, rel=1e-5)


def test_intervals_surround_the_estimates_and_can_be_turned_off(three_group_audit):
    by_group = three_group_audit["gender"]["group"]
    for name, rates in by_group["groups"].items():
        low, high = rates["accuracy_ci"]
        assert low <= rates["accuracy"] <= high, name
    low, high = by_group["vs_rest"]["A"]["ci"]["statistical_parity_difference"]
    assert low <= by_group["vs_rest"]["A"]["statistical_parity_difference"] <= high
    assert by_group["accuracy_gap_ci"][1] >= by_group["accuracy_gap"]
    unresampled = audit_fairness(three_group_table(), GENDER, ["group"], {"gender": "Male"}, resamples=0)
    assert unresampled["gender"]["group"]["accuracy_vs_rest"]["C"] == {
        "difference": pytest.approx(1 / 2 - 6 / 8),
        "ci": None,
    }
    assert "accuracy_ci" not in unresampled["gender"]["group"]["groups"]["A"]


def test_four_fifths_rule_is_flagged(three_group_audit):
    vs_rest = three_group_audit["gender"]["group"]["vs_rest"]
    assert vs_rest["A"]["four_fifths_rule"] == "passes"  # DI = (3/4) / (1/6) > 1
    assert vs_rest["B"]["four_fifths_rule"] == "fails"  # DI = (1/4) / (3/6) = 0.5
    assert vs_rest["C"]["four_fifths_rule"] == "fails"  # DI = 0


def test_privileged_group_against_everyone_else():
    audit = audit_fairness(three_group_table(), GENDER, ["group"], {"gender": "Male"}, privileged_groups={"group": "A"})
    privileged = audit["gender"]["group"]["privileged"]
    # Unprivileged B+C: selection 1/6, TPR 1/3, FPR 0; privileged A: selection 3/4, TPR 1, FPR 1/2.
    assert privileged["privileged_group"] == "A"
    assert only(privileged, AIF360_METRICS) == pytest.approx(
        {
            "disparate_impact": (1 / 6) / (3 / 4),
            "statistical_parity_difference": 1 / 6 - 3 / 4,
            "equal_opportunity_difference": 1 / 3 - 1,
            "average_odds_difference": ((0 - 1 / 2) + (1 / 3 - 1)) / 2,
        }
    )


def test_intersections_are_audited_as_one_attribute():
    predictions = three_group_table()
    predictions["age_true"] = ["old", "young"] * 5
    predictions["age_pred"] = ["old"] * 10
    predictions["band"] = ["x", "y"] * 5
    audit = audit_fairness(
        predictions,
        {"age": ["young", "old"], **GENDER},
        ["group", "band"],
        {},
        intersections=[["group", "band"], ["gender", "group"]],
        resamples=50,
    )
    by_intersection = audit["age"]["group+band"]["groups"]
    assert set(by_intersection) == {"A+x", "A+y", "B+x", "B+y", "C+x", "C+y"}
    assert only(by_intersection["C+x"], ["n", "accuracy"]) == {"n": 1, "accuracy": 1.0}
    assert audit["age"]["gender+group"]["groups"]["Female+A"]["n"] == 2
    assert audit["gender"]["skipped_attributes"]["gender+group"] == "the attribute is the target itself"


def test_multiclass_targets_get_per_class_tpr_gaps():
    predictions = three_group_table()
    predictions["age_true"] = ["0-2", "3-9", "0-2", "10-19", "3-9", "3-9", "10-19", "0-2", "0-2", "3-9"]
    predictions["age_pred"] = ["0-2", "0-2", "0-2", "10-19", "3-9", "0-2", "10-19", "0-2", "3-9", "3-9"]
    gaps = audit_fairness(predictions, {"age": ["0-2", "3-9", "10-19"]}, ["group"], {})["age"]["group"][
        "class_tpr_gaps"
    ]
    # 3-9: A has rows 4, 5 (one right), B row 9 (right), C row 1 (wrong).
    assert gaps["3-9"]["tpr"] == {"A": 0.5, "B": 1.0, "C": 0.0}
    assert gaps["3-9"]["gap"] == 1.0
    assert gaps["10-19"]["tpr"] == {"A": 1.0, "B": 1.0, "C": None}


def test_regression_bias_is_the_spread_of_group_mae():
    predictions = pd.DataFrame(
        {
            "path": [f"{index}.jpg" for index in range(6)],
            "age_true": [20, 30, 40, 20, 30, 40],
            "age_pred": [21, 29, 40, 30, 20, 46],  # group A errors 1, 1, 0; group B errors 10, 10, 6
            "group": ["A", "A", "A", "B", "B", "B"],
        }
    )
    audit = audit_fairness(predictions, {"age": "numeric"}, ["group"], {}, resamples=200)["age"]["group"]
    assert audit["groups"]["A"]["mae"] == pytest.approx(2 / 3)
    assert audit["groups"]["B"]["mean_error"] == pytest.approx((10 - 10 + 6) / 3)
    assert audit["mae_spread"] == pytest.approx(26 / 3 - 2 / 3)
    assert audit["worst_group"] == "B"
    assert audit["mae_vs_rest"]["B"]["difference"] == pytest.approx(26 / 3 - 2 / 3)
    low, high = audit["groups"]["B"]["mae_ci"]
    assert 6 <= low <= 26 / 3 <= high <= 10
    json.dumps(audit, allow_nan=False)
