"""Tests of faceaudit.evaluation.multiplicity: Holm and Benjamini-Hochberg against hand-computed values and scipy,
the family-wise error rate Holm promises, and the adjustment of every p-value in a nested audit."""

import numpy as np
import pytest
from conftest import SCHEMA
from scipy.stats import false_discovery_control

from faceaudit.evaluation.multiplicity import adjust_family, adjust_p_values, benjamini_hochberg, holm

P_VALUES = [0.01, 0.04, 0.03, 0.005]


def test_holm_by_hand():
    # Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04 -> running maximum 0.02, 0.03, 0.06, 0.06.
    assert holm(P_VALUES) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_benjamini_hochberg_by_hand_and_as_scipy_computes_it():
    # Sorted 0.005, 0.01, 0.03, 0.04 times 4/1, 4/2, 4/3, 4/4: 0.02, 0.02, 0.04, 0.04 (minimum from the top).
    assert benjamini_hochberg(P_VALUES) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    p = np.random.default_rng(1).random(50) ** 3
    assert benjamini_hochberg(p) == pytest.approx(false_discovery_control(p, method="bh"))


def test_adjusted_p_values_are_capped_at_one_and_never_below_the_raw_ones():
    p = np.random.default_rng(2).random(30)
    for method in ("holm", "bh"):
        adjusted = adjust_p_values(p, method)
        assert np.all(adjusted >= p) and np.all(adjusted <= 1), method
    assert np.all(holm(p) >= benjamini_hochberg(p))
    assert adjust_p_values(p, "none") == pytest.approx(p)
    assert len(adjust_p_values([], "holm")) == 0


def test_unknown_method_is_named():
    with pytest.raises(ValueError, match="holm, bh, none, got 'bonferoni'"):
        adjust_p_values(P_VALUES, "bonferoni")


def test_holm_keeps_the_family_wise_error_rate_of_true_null_families():
    # 4000 families of 25 true null hypotheses: p uniform. Holm: at most 5% of families with any rejection.
    p = np.random.default_rng(3).random((4000, 25))
    any_rejection = np.mean([np.any(holm(family) < 0.05) for family in p])
    raw_any_rejection = np.mean(np.any(p < 0.05, axis=1))
    assert any_rejection <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 4000), any_rejection
    assert raw_any_rejection > 0.7, "without adjustment most families show something"


def test_every_p_value_of_a_nested_audit_is_one_member_of_the_family():
    audit = {
        "group": {
            "accuracy_vs_rest": {"A": {"p_value": 0.001}, "B": {"p_value": None}},
            "vs_rest": {"A": {"p_value": {"statistical_parity_difference": 0.02, "average_odds_difference": 0.5}}},
        },
        "gender+group": {"accuracy_vs_rest": {"Female+A": {"p_value": 0.04}}},
    }
    assert adjust_family(audit, "holm") == 4
    assert audit["group"]["accuracy_vs_rest"]["A"] == {
        "p_value": 0.001,
        "adjusted_p_value": pytest.approx(0.004),
        "distinguishable_from_zero": True,
    }
    assert audit["group"]["accuracy_vs_rest"]["B"]["adjusted_p_value"] is None
    assert audit["group"]["accuracy_vs_rest"]["B"]["distinguishable_from_zero"] is None, "not tested, not false"
    vs_rest = audit["group"]["vs_rest"]["A"]
    assert vs_rest["adjusted_p_value"] == pytest.approx(
        {"statistical_parity_difference": 0.06, "average_odds_difference": 0.5}
    )
    assert vs_rest["distinguishable_from_zero"] == {
        "statistical_parity_difference": False,
        "average_odds_difference": False,
    }
    assert audit["gender+group"]["accuracy_vs_rest"]["Female+A"]["adjusted_p_value"] == pytest.approx(0.08)


def test_the_config_schema_offers_the_methods_the_code_knows():

    import yaml

    from faceaudit.evaluation.multiplicity import METHODS

    schema = yaml.safe_load(SCHEMA.read_text())
    setting = schema["properties"]["audit"]["properties"]["multiple_comparisons"]
    assert tuple(setting["enum"]) == METHODS and setting["default"] == "holm"
