"""Both sides of a binary target (issue 21): the comparison tables set beside each metric of the positive class the
equal opportunity difference and four-fifths verdict of the other class, derived from the positive class's numbers.
Tested against the audit run again with the other class positive."""

import pytest

from faceaudit.bench.audit import drawn_seed_predictions
from faceaudit.evaluation.fairness import audit_fairness
from faceaudit.evaluation.settings import AuditSettings
from faceaudit.report.fairness_tables import comparison_table, other_class_values


def audit_with_positive(table, positive: str) -> dict:
    audit = audit_fairness(
        table,
        {"label": ["no", "yes"]},
        ["group"],
        {"label": positive},
        privileged_groups={"group": "A"},
        settings=AuditSettings(resamples=0),
    )
    return audit["label"]["group"]


def test_the_other_classs_eod_and_disparate_impact_equal_the_audit_with_that_class_positive():
    table = next(iter(drawn_seed_predictions(3, seeds=1, rows=900, bias_against_c=1.0).values()))
    yes, no = audit_with_positive(table, "yes"), audit_with_positive(table, "no")
    pairs = [(yes["vs_rest"][group], no["vs_rest"][group]) for group in ("A", "B", "C")]
    pairs.append((yes["privileged"], no["privileged"]))

    for with_yes, with_no in pairs:
        eod, impact = other_class_values(with_yes)
        assert eod == pytest.approx(with_no["equal_opportunity_difference"], abs=1e-9)
        assert impact == pytest.approx(with_no["disparate_impact"], abs=1e-9)


def test_a_four_fifths_verdict_that_changes_with_the_positive_class_is_said():
    # Selection rates 0.9 against 0.95 with "yes" positive: impact 0.95, passes; with "no" positive 0.1 against 0.05:
    # impact 2.0, fails.
    scores = {
        "disparate_impact": 0.9 / 0.95,
        "statistical_parity_difference": 0.9 - 0.95,
        "equal_opportunity_difference": 0.0,
        "average_odds_difference": 0.0,
        "four_fifths_rule": "passes",
    }
    table = comparison_table({"C vs rest": scores}, "yes", "no")

    assert table["changes_with_positive_class"] == (
        "The four-fifths verdict changes with the class counted as positive (yes or no) for: C vs rest."
    )
    assert table["rows"][0]["cells"][-1]["text"] == "fails (disparate impact 2.0000)"
    assert comparison_table({"C vs rest": scores}, "yes")["changes_with_positive_class"] is None
