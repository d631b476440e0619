"""Tests of faceaudit.evaluation.fairness on hand-built tables whose rates are worked out by hand."""

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from faceaudit.evaluation.fairness import AIF360_METRICS, audit_fairness
from faceaudit.evaluation.settings import AuditSettings
from faceaudit.evaluation.significance import average_odds_p_value, two_proportion_p_value

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
    # The base rate (share of actual positives) stands beside the selection rate: A selects 3/4 of a half-positive
    # group, B 1/4 of one.
    for name, base_rate in {"A": 2 / 4, "B": 2 / 4, "C": 1 / 2}.items():
        expected[name] |= {"base_rate": base_rate, "positives": round(base_rate * expected[name]["n"])}
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
    assert audit["gender"]["group"]["accuracy_gap"] is None, "a gap needs two groups"
    assert audit["gender"]["group"]["best_group"] is None


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
        "import sys\n"
        "assert 'tensorflow' not in sys.modules, 'an audit job has no use for TensorFlow'\n"
        "import tensorflow\n"
        "assert tensorflow.constant(2).numpy() == 2, 'and a later import of it still works'\n"
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
    unresampled = audit_fairness(
        three_group_table(), GENDER, ["group"], {"gender": "Male"}, settings=AuditSettings(resamples=0)
    )
    # No intervals without resamples; the p-value does not need them: C 1 of 2 right, the rest 6 of 8.
    assert only(unresampled["gender"]["group"]["accuracy_vs_rest"]["C"], ["difference", "ci", "p_value"]) == {
        "difference": pytest.approx(1 / 2 - 6 / 8),
        "ci": None,
        "p_value": pytest.approx(two_proportion_p_value((1, 6), (2, 8))),
    }
    assert "accuracy_ci" not in unresampled["gender"]["group"]["groups"]["A"]


def test_four_fifths_rule_is_checked_both_ways(three_group_audit):
    vs_rest = three_group_audit["gender"]["group"]["vs_rest"]
    verdicts = {name: (vs_rest[name]["four_fifths_rule"], vs_rest[name]["four_fifths_flag"]) for name in vs_rest}
    assert verdicts == {
        "A": ("fails", "above"),  # DI = (3/4) / (1/6) = 4.5 > 1.25
        "B": ("fails", "below"),  # DI = (1/4) / (3/6) = 0.5 < 0.8
        "C": ("fails", "below"),  # DI = 0
    }


@pytest.mark.parametrize(
    ("selected_in_group", "verdict"),
    [(39, ("fails", "below")), (40, ("passes", None)), (62, ("passes", None)), (63, ("fails", "above"))],
)
def test_four_fifths_rule_bounds_are_0_8_and_1_25(selected_in_group, verdict):
    # 100 rows per group; the rest (B) selects 50: DI = selected_in_group / 50.
    rows = [("A", "Male", "Male" if index < selected_in_group else "Female") for index in range(100)]
    rows += [("B", "Male", "Male" if index < 50 else "Female") for index in range(100)]
    comparison = audit_fairness(
        table(rows), GENDER, ["group"], {"gender": "Male"}, settings=AuditSettings(resamples=0)
    )["gender"]["group"]
    impact = comparison["vs_rest"]["A"]
    assert impact["disparate_impact"] == pytest.approx(selected_in_group / 50)
    assert (impact["four_fifths_rule"], impact["four_fifths_flag"]) == verdict


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
        settings=AuditSettings(resamples=50),
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
    audit = audit_fairness(predictions, {"age": "numeric"}, ["group"], {}, settings=AuditSettings(resamples=200))[
        "age"
    ]["group"]
    assert audit["groups"]["A"]["mae"] == pytest.approx(2 / 3)
    assert audit["groups"]["B"]["mean_error"] == pytest.approx((10 - 10 + 6) / 3)
    assert audit["mae_spread"] == pytest.approx(26 / 3 - 2 / 3)
    assert audit["worst_group"] == "B"
    assert audit["mae_vs_rest"]["B"]["difference"] == pytest.approx(26 / 3 - 2 / 3)
    low, high = audit["groups"]["B"]["mae_ci"]
    assert 6 <= low <= 26 / 3 <= high <= 10
    json.dumps(audit, allow_nan=False)


def counted(group: str, true_positive: int, false_negative: int, false_positive: int, true_negative: int) -> list:
    """(group, true, predicted) rows with these counts of a confusion matrix; Male is the positive class."""
    return (
        [(group, "Male", "Male")] * true_positive
        + [(group, "Male", "Female")] * false_negative
        + [(group, "Female", "Male")] * false_positive
        + [(group, "Female", "Female")] * true_negative
    )


SMALL_GROUP_RULE = AuditSettings(min_group_size=30, min_positives=10)


@pytest.fixture(scope="module")
def audit_with_a_group_of_12():
    """A: 50 rows, accuracy 0.9; B: 50 rows, accuracy 0.7; C: 12 rows, all wrong (6 positives)."""
    rows = counted("A", 23, 2, 3, 22) + counted("B", 18, 7, 8, 17) + counted("C", 0, 6, 6, 0)
    return audit_fairness(
        table(rows), GENDER, ["group"], {"gender": "Male"}, privileged_groups={"group": "C"}, settings=SMALL_GROUP_RULE
    )["gender"]["group"]


def test_a_group_of_12_has_insufficient_data_and_no_rates(audit_with_a_group_of_12):
    group_c = audit_with_a_group_of_12["groups"]["C"]
    assert group_c["insufficient_data"] is True
    assert group_c["insufficient_reason"].startswith("12 rows, fewer than min_group_size 30")
    assert only(group_c, ["n", "positives", "negatives"]) == {"n": 12, "positives": 6, "negatives": 6}
    rates = ("accuracy", "error_rate", "tpr", "fpr", "selection_rate", "base_rate", "accuracy_ci")
    assert only(group_c, rates) == dict.fromkeys(rates)
    assert audit_with_a_group_of_12["groups"]["A"]["insufficient_data"] is False
    assert audit_with_a_group_of_12["groups"]["A"]["insufficient_reason"] is None


def test_a_group_of_12_takes_no_part_in_the_best_worst_gap(audit_with_a_group_of_12):
    audit = audit_with_a_group_of_12
    assert (audit["best_group"], audit["worst_group"]) == ("A", "B"), "C (all wrong) would be the worst"
    assert audit["accuracy_gap"] == pytest.approx(0.9 - 0.7)
    assert audit["accuracy_ratio"] == pytest.approx(0.7 / 0.9)
    assert audit["accuracy_gap_ci"][1] < 0.9, "C's accuracy 0 is not in the resampled spread"


def test_excluded_groups_say_who_was_left_out_and_why(audit_with_a_group_of_12):
    [excluded] = audit_with_a_group_of_12["excluded_groups"]
    assert excluded == {
        "group": "C",
        "size": 12,
        "positives": 6,
        "reason": "12 rows, fewer than min_group_size 30; 6 rows whose true class is 'Male', fewer than min_positives "
        "10; 6 rows whose true class is not 'Male', fewer than min_positives 10",
        "withheld": ["accuracy", "error_rate", "tpr", "fpr", "selection_rate", "base_rate"],
    }


def test_a_small_group_gets_no_comparison_no_flag_and_no_p_value(audit_with_a_group_of_12):
    audit = audit_with_a_group_of_12
    versus_rest = audit["vs_rest"]["C"]
    assert only(versus_rest, AIF360_METRICS) == dict.fromkeys(AIF360_METRICS)
    assert (versus_rest["four_fifths_rule"], versus_rest["four_fifths_flag"]) == (None, None)
    assert versus_rest["insufficient_data"] is True and "12 rows" in versus_rest["insufficient_reason"]
    assert set(versus_rest["p_value"].values()) == {None} and set(versus_rest["ci"].values()) == {None}
    assert set(versus_rest["distinguishable_from_zero"].values()) == {None}
    assert audit["accuracy_vs_rest"]["C"]["difference"] is None
    assert audit["accuracy_vs_rest"]["C"]["distinguishable_from_zero"] is None
    privileged = audit["privileged"]
    assert privileged["disparate_impact"] is None
    assert "privileged group 'C': 12 rows, fewer than min_group_size 30" in privileged["insufficient_reason"]
    # A and B are compared with the rest, C's rows included in it: A against B + C (62 rows, 13 + 6 wrong).
    assert audit["accuracy_vs_rest"]["A"]["difference"] == pytest.approx(45 / 50 - 35 / 62)
    assert audit["vs_rest"]["A"]["p_value"]["statistical_parity_difference"] is not None


def test_few_actual_positives_withhold_the_tpr_but_not_the_accuracy():
    # A: 40 rows but only 5 actual positives; B: 40 rows, 20 positives.
    rows = counted("A", 4, 1, 5, 30) + counted("B", 15, 5, 5, 15)
    audit = audit_fairness(table(rows), GENDER, ["group"], {"gender": "Male"}, settings=SMALL_GROUP_RULE)["gender"][
        "group"
    ]
    group_a = audit["groups"]["A"]
    assert group_a["accuracy"] == pytest.approx(34 / 40) and group_a["fpr"] == pytest.approx(5 / 35)
    assert group_a["tpr"] is None
    assert group_a["insufficient_reason"] == "5 rows whose true class is 'Male', fewer than min_positives 10"
    assert audit["excluded_groups"][0]["withheld"] == ["tpr"]
    assert (audit["best_group"], audit["worst_group"]) == ("A", "B"), "A's accuracy still counts"
    for name, side in (("A", ""), ("B", "the rest: ")):
        comparison = audit["vs_rest"][name]
        assert comparison["equal_opportunity_difference"] is None
        assert comparison["average_odds_difference"] is None
        assert comparison["statistical_parity_difference"] is not None and comparison["disparate_impact"] is not None
        assert comparison["insufficient_reason"] == (
            f"{side}5 rows whose true class is 'Male', fewer than min_positives 10"
        )
        assert comparison["p_value"]["equal_opportunity_difference"] is None
        assert comparison["p_value"]["statistical_parity_difference"] is not None


def test_each_group_gets_the_gap_its_size_could_detect(audit_with_a_group_of_12):
    from faceaudit.evaluation.power import minimum_detectable_difference

    groups = audit_with_a_group_of_12["groups"]
    overall_accuracy, overall_tpr = (45 + 35 + 0) / 112, (23 + 18 + 0) / 56
    assert groups["C"]["min_detectable_accuracy_gap"] == pytest.approx(
        minimum_detectable_difference(12, 100, overall_accuracy)
    )
    assert groups["C"]["min_detectable_tpr_gap"] == pytest.approx(minimum_detectable_difference(6, 50, overall_tpr))
    assert groups["C"]["min_detectable_accuracy_gap"] > 1.5 * groups["A"]["min_detectable_accuracy_gap"]


def test_every_tested_gap_has_raw_and_adjusted_p_values_and_the_family_size():
    rows = counted("A", 23, 2, 3, 22) + counted("B", 18, 7, 8, 17) + counted("C", 20, 5, 5, 20)
    predictions = table(rows)
    predictions["band"] = ["x", "y"] * (len(rows) // 2)
    groups = {"privileged_groups": {"group": "A"}, "intersections": [["group", "band"]]}
    by_method = {
        method: audit_fairness(
            predictions,
            GENDER,
            ["group", "band"],
            {"gender": "Male"},
            **groups,
            settings=replace(SMALL_GROUP_RULE, multiple_comparisons=method),
        )["gender"]
        for method in ("holm", "bh", "none")
    }
    holm = by_method["holm"]
    # Each question once: group: 3 accuracy + 3 x 3 aif360 differences vs rest (the 3 against privileged A are A
    # against the rest, sign turned); band, two groups: y against the rest is x's, so 1 + 3; group+band: groups of
    # 25, all below 30, so nothing.
    assert holm["group"]["multiple_comparisons"] == {"method": "holm", "family_size": 12 + 4, "alpha": 0.05}
    assert holm["band"]["multiple_comparisons"]["family_size"] == 16
    privileged, twin = holm["group"]["privileged"], holm["group"]["vs_rest"]["A"]
    for metric in ("statistical_parity_difference", "equal_opportunity_difference", "average_odds_difference"):
        assert privileged["same_test_as"][metric] == f"group: A against the rest, {metric}"
        assert privileged["p_value"][metric] == pytest.approx(twin["p_value"][metric])
        assert privileged["adjusted_p_value"][metric] == twin["adjusted_p_value"][metric]
    y, x = holm["band"]["accuracy_vs_rest"]["y"], holm["band"]["accuracy_vs_rest"]["x"]
    assert y["same_test_as"] == "band: x against the rest" and y["adjusted_p_value"] == x["adjusted_p_value"]
    assert y["difference"] == pytest.approx(-x["difference"])
    assert holm["group+band"]["accuracy_vs_rest"]["A+x"]["p_value"] is None
    raw = holm["group"]["accuracy_vs_rest"]["B"]["p_value"]
    adjusted = {
        method: audit["group"]["accuracy_vs_rest"]["B"]["adjusted_p_value"] for method, audit in by_method.items()
    }
    assert adjusted["none"] == raw <= adjusted["bh"] <= adjusted["holm"]
    for audit in by_method.values():
        comparison = audit["group"]["accuracy_vs_rest"]["B"]
        assert comparison["distinguishable_from_zero"] == (comparison["adjusted_p_value"] < 0.05)
    assert set(holm["group"]["vs_rest"]["A"]["adjusted_p_value"]) == {
        "statistical_parity_difference",
        "equal_opportunity_difference",
        "average_odds_difference",
    }
    json.dumps(holm, allow_nan=False)


def test_unknown_adjustment_is_refused_with_its_name():
    with pytest.raises(ValueError, match="holm, bh, none, got 'bonferroni'"):
        audit_fairness(
            three_group_table(), GENDER, ["group"], {}, settings=AuditSettings(multiple_comparisons="bonferroni")
        )


def test_p_values_are_the_two_proportion_z_tests_of_each_gap():
    # A: 400 rows, 360 right (TP 180, FN 20, FP 20, TN 180); B: 400 rows, 320 right. Accuracy: pooled 0.85,
    # z = 0.1 / sqrt(0.85 * 0.15 * 2 / 400) = 3.961, p = 7.47e-5.
    rows = counted("A", 180, 20, 20, 180) + counted("B", 160, 40, 40, 160)
    audit = audit_fairness(table(rows), GENDER, ["group"], {"gender": "Male"}, settings=AuditSettings(resamples=200))[
        "gender"
    ]["group"]
    accuracy = audit["accuracy_vs_rest"]["A"]
    assert accuracy["difference"] == pytest.approx(0.1)
    assert accuracy["p_value"] == pytest.approx(7.47e-5, rel=0.01)
    assert accuracy["distinguishable_from_zero"] is True
    p_values = audit["vs_rest"]["A"]["p_value"]
    assert p_values == pytest.approx(
        {
            "statistical_parity_difference": two_proportion_p_value((200, 200), (400, 400)),
            "equal_opportunity_difference": two_proportion_p_value((180, 160), (200, 200)),
            "average_odds_difference": average_odds_p_value((180, 160), (200, 200), (20, 40), (200, 200)),
        }
    )
    assert p_values["statistical_parity_difference"] == pytest.approx(1.0), "both select 200 of 400"


def test_multiclass_class_tpr_against_the_rest_and_small_classes():
    # Class "a" (40 rows per group): X right 36, Y right 20. Class "b": X has 40 rows, Y only 5.
    rows = (
        [("X", "a", "a")] * 36
        + [("X", "a", "b")] * 4
        + [("Y", "a", "a")] * 20
        + [("Y", "a", "b")] * 20
        + [("X", "b", "b")] * 40
        + [("Y", "b", "b")] * 5
    )
    predictions = pd.DataFrame(
        {
            "path": [f"{index}.jpg" for index in range(len(rows))],
            "kind_true": [true for _, true, _ in rows],
            "kind_pred": [predicted for _, _, predicted in rows],
            "group": [group for group, _, _ in rows],
        }
    )
    gaps = audit_fairness(predictions, {"kind": ["a", "b", "c"]}, ["group"], {}, settings=SMALL_GROUP_RULE)["kind"][
        "group"
    ]["class_tpr_gaps"]
    assert gaps["a"]["tpr"] == {"X": pytest.approx(0.9), "Y": pytest.approx(0.5)}
    assert gaps["a"]["tpr_vs_rest"]["Y"]["difference"] == pytest.approx(0.5 - 0.9)
    assert gaps["a"]["tpr_vs_rest"]["Y"]["distinguishable_from_zero"] is True
    assert gaps["b"]["tpr"] == {"X": 1.0, "Y": None}
    assert gaps["b"]["gap"] is None, "one group left: no gap"
    assert gaps["b"]["excluded_groups"] == [
        {
            "group": "Y",
            "size": 45,
            "positives": 5,
            "reason": "5 rows whose true class is 'b', fewer than min_positives 10",
            "withheld": ["tpr"],
        }
    ]
    assert gaps["b"]["tpr_vs_rest"]["X"]["insufficient_reason"].startswith("the rest: 5 rows whose true class is 'b'")
    assert gaps["c"]["tpr_vs_rest"]["X"]["p_value"] is None, "no row of class c at all"


def test_regression_groups_below_the_minimum_take_no_part_in_the_spread():
    rng = np.random.default_rng(0)
    sizes = {"A": 40, "B": 40, "C": 5}
    errors = {"A": 1.0, "B": 3.0, "C": 20.0}
    groups = [name for name, size in sizes.items() for _ in range(size)]
    true = rng.integers(20, 60, size=len(groups))
    predicted = true + np.array([errors[name] for name in groups]) * rng.choice([-1, 1], size=len(groups))
    predictions = pd.DataFrame(
        {"path": [f"{i}.jpg" for i in range(len(groups))], "age_true": true, "age_pred": predicted, "group": groups}
    )
    audit = audit_fairness(
        predictions, {"age": "numeric"}, ["group"], {}, settings=replace(SMALL_GROUP_RULE, resamples=200)
    )["age"]["group"]
    assert (audit["best_group"], audit["worst_group"]) == ("A", "B")
    assert audit["mae_spread"] == pytest.approx(2.0)
    assert audit["groups"]["C"]["mae"] is None and audit["groups"]["C"]["mae_ci"] is None
    assert audit["excluded_groups"][0]["group"] == "C"
    assert audit["mae_vs_rest"]["C"]["insufficient_data"] is True
    # A (MAE 1) against B and C together (MAE (40 * 3 + 5 * 20) / 45): C's rows still count in the rest.
    assert audit["mae_vs_rest"]["A"]["difference"] == pytest.approx(1 - 220 / 45)
    assert audit["mae_vs_rest"]["A"]["distinguishable_from_zero"] is True
    assert audit["multiple_comparisons"]["family_size"] == 2


def test_the_report_renders_an_audit_whose_groups_are_all_too_small(tmp_path):
    from faceaudit.evaluation.plots import plot_group_accuracy
    from faceaudit.report.fairness_tables import fairness_context
    from faceaudit.report.model_card import fairness_findings
    from faceaudit.report.overview import largest_gap, lowest_disparate_impact
    from faceaudit.report.render import TEMPLATES

    predictions = three_group_table()
    predictions["age_true"], predictions["age_pred"] = [20, 30] * 5, [22, 30] * 5
    audit = audit_fairness(
        predictions,
        {**GENDER, "age": "numeric"},
        ["group"],
        {"gender": "Male"},
        privileged_groups={"group": "A"},
        settings=SMALL_GROUP_RULE,
    )
    assert audit["gender"]["group"]["accuracy_gap"] is None and audit["age"]["group"]["mae_spread"] is None
    assert largest_gap(audit["gender"]) == (None, None, "")
    assert lowest_disparate_impact(audit["gender"]) == (None, "")
    assert fairness_findings(audit) == [
        "gender by group: left out of gaps and flags for too few test rows: A (4 rows), B (4 rows), C (2 rows).",
        "gender by group: fewer than two groups with enough test rows to compare.",
        "gender: no gap could be tested against zero (every comparison lacked test rows).",
        "age by group: left out of gaps and flags for too few test rows: A (4 rows), B (4 rows), C (2 rows).",
        "age by group: fewer than two groups with enough test rows to compare.",
        "age: no gap could be tested against zero (every comparison lacked test rows).",
    ]
    context = fairness_context(audit, {"gender": {"positive_class": "Male"}, "age": {}})
    page = TEMPLATES.from_string('{% import "fairness.html" as f %}{{ f.fairness_section(audit, figure) }}').render(
        audit=context, figure={"alt": "groups", "src": "data:image/png;base64,"}
    )
    assert "accuracy gap n/a  (best n/a, worst n/a)" in page
    assert "None" not in page
    plot_group_accuracy(audit, tmp_path / "groups.png")
    assert (tmp_path / "groups.png").stat().st_size > 0


def test_everyone_right_everywhere_is_not_a_gap():
    everyone_right = counted("A", 20, 0, 0, 20) + counted("B", 20, 0, 0, 20)
    comparison = audit_fairness(table(everyone_right), GENDER, ["group"], {"gender": "Male"})["gender"]["group"][
        "accuracy_vs_rest"
    ]["A"]
    assert (comparison["p_value"], comparison["distinguishable_from_zero"]) == (1.0, False)
