"""Decision thresholds: rates worked out by hand, the same numbers as the fairness audit at 0.5, monotone curves."""

import json

import numpy as np
import pandas as pd
import pytest

from faceaudit.evaluation.fairness import audit_fairness
from faceaudit.evaluation.settings import AuditSettings
from faceaudit.evaluation.thresholds import DIFFERENCES, RATES, THRESHOLDS, audit_thresholds

GENDER = {"gender": ["Female", "Male"]}


def random_table(n=600, seed=0) -> pd.DataFrame:
    """Continuous Male scores (no ties at 0.5), the prediction their argmax, three groups of different skill."""
    rng = np.random.default_rng(seed)
    groups = rng.choice(["A", "B", "C"], size=n, p=[0.5, 0.3, 0.2])
    male = rng.uniform(size=n) < 0.5
    skill = np.select([groups == "A", groups == "B"], [2.0, 1.0], 0.3)
    score = 1 / (1 + np.exp(-(skill * np.where(male, 1, -1) + rng.normal(size=n))))
    return pd.DataFrame(
        {
            "path": [f"{index}.jpg" for index in range(n)],
            "gender_true": np.where(male, "Male", "Female"),
            "gender_pred": np.where(score > 1 - score, "Male", "Female"),
            "gender_score_0": 1 - score,
            "gender_score_1": score,
            "group": groups,
            "race": rng.choice(["x", "y"], size=n),
        }
    )


def test_the_thresholds_are_five_hundredths_apart():
    assert THRESHOLDS == tuple(pytest.approx(0.05 * step) for step in range(1, 20))
    assert THRESHOLDS[0] == 0.05 and THRESHOLDS[9] == 0.5 and THRESHOLDS[-1] == 0.95


def test_hand_computed_rates_and_a_score_at_the_threshold_is_positive():
    """Scores 0.1 (Female), 0.3 (Male), 0.6 (Female), 0.9 (Male): at 0.05 all four are selected; at 0.30 the last
    three (0.3 counts: the rule is score >= threshold), TPR 1, FPR 1/2; at 0.60 the last two; at 0.95 none."""
    table = pd.DataFrame(
        {
            "path": ["a", "b", "c", "d"],
            "gender_true": ["Female", "Male", "Female", "Male"],
            "gender_pred": ["Female", "Female", "Male", "Male"],
            "gender_score_0": [0.9, 0.7, 0.4, 0.1],
            "gender_score_1": [0.1, 0.3, 0.6, 0.9],
        }
    )
    result = audit_thresholds(table, GENDER, [], {"gender": "Male"})["gender"]
    assert result["score_column"] == "gender_score_1" and result["positive_class"] == "Male"
    at = {threshold: index for index, threshold in enumerate(result["thresholds"])}
    expected = {0.05: (1.0, 1.0, 1.0), 0.3: (1.0, 0.5, 0.75), 0.6: (0.5, 0.5, 0.5), 0.95: (0.0, 0.0, 0.0)}
    for threshold, rates in expected.items():
        got = tuple(result["overall"][rate][at[threshold]] for rate in RATES)
        assert got == pytest.approx(rates), threshold


@pytest.mark.parametrize("positive_class", ["Male", "Female"])
def test_at_one_half_the_rates_and_differences_are_those_of_the_fairness_audit(positive_class):
    table = random_table()
    positive = {"gender": positive_class}
    fairness = audit_fairness(
        table, GENDER, ["group"], positive, [["group", "race"]], settings=AuditSettings(resamples=0)
    )["gender"]
    thresholds = audit_thresholds(table, GENDER, ["group"], positive, [["group", "race"]])["gender"]
    half = thresholds["thresholds"].index(0.5)
    for attribute in ("group", "group+race"):
        audited, swept = fairness[attribute], thresholds["attributes"][attribute]
        assert list(swept["groups"]) == list(audited["groups"])
        for name, rates in audited["groups"].items():
            assert swept["groups"][name]["n"] == rates["n"]
            for rate in RATES:
                assert swept["groups"][name][rate][half] == pytest.approx(rates[rate]), (attribute, name, rate)
        for name, metrics in audited["vs_rest"].items():
            for difference in DIFFERENCES:
                got = swept["vs_rest"][name][difference][half]
                assert got == pytest.approx(metrics[difference], abs=1e-12), (attribute, name, difference)


def test_rates_never_rise_with_the_threshold():
    result = audit_thresholds(random_table(seed=1), GENDER, ["group", "race"], {"gender": "Male"}, [["group", "race"]])
    curves = [result["gender"]["overall"]] + [
        group for attribute in result["gender"]["attributes"].values() for group in attribute["groups"].values()
    ]
    assert len(curves) == 1 + 3 + 2 + 6
    for curve in curves:
        for rate in RATES:
            values = np.array(curve[rate])
            assert np.all(np.diff(values) <= 0), rate
            assert values[0] > values[-1], rate  # the curve moves at all over 0.05..0.95


def test_undefined_rates_are_none_and_every_value_is_plain_json():
    """Group B holds no Male: its TPR, and every difference that needs it, is undefined at every threshold."""
    table = random_table(n=40, seed=2)
    table.loc[table["gender_true"] == "Female", "group"] = "B"
    table.loc[table["gender_true"] == "Male", "group"] = "A"
    result = audit_thresholds(table, GENDER, ["group"], {"gender": "Male"})
    group_b = result["gender"]["attributes"]["group"]
    assert group_b["groups"]["B"]["tpr"] == [None] * 19
    assert group_b["vs_rest"]["B"]["equal_opportunity_difference"] == [None] * 19
    assert group_b["vs_rest"]["B"]["statistical_parity_difference"][0] is not None
    assert json.loads(json.dumps(result)) == result


def test_non_binary_targets_and_the_target_itself_are_skipped_with_the_reason():
    table = random_table(n=20)
    table["gender"] = table["gender_true"]
    targets = {**GENDER, "age": ["young", "middle", "old"], "age_years": "numeric"}
    result = audit_thresholds(table, targets, ["group", "gender"], {"gender": "Male"})
    assert list(result["gender"]["attributes"]) == ["group"]
    assert "gender" in result["gender"]["skipped_attributes"]
    assert result["age"] == {"skipped": "decision thresholds apply to binary targets; this one has 3 classes"}
    assert result["age_years"] == {"skipped": "a numeric target has no decision threshold"}
