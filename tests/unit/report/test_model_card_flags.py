"""The model card lists every gap flagged after adjustment (issue 21: a card left out a flagged privileged EOD)."""

from faceaudit.bench.audit import drawn_seed_predictions
from faceaudit.evaluation.fairness import audit_fairness
from faceaudit.evaluation.multiplicity import comparisons
from faceaudit.evaluation.settings import AuditSettings
from faceaudit.report.model_card import fairness_findings


def flags_of(audit: dict) -> int:
    count = 0
    for attribute, audited in audit.items():
        for holder, metric in comparisons(audited) if attribute != "skipped_attributes" else ():
            flag = holder["distinguishable_from_zero"]
            count += bool(flag if metric is None else flag[metric])
    return count


def test_every_flagged_gap_of_every_kind_has_its_sentence():
    table = next(iter(drawn_seed_predictions(5, seeds=1, rows=3000, bias_against_c=2.0).values()))
    binary = audit_fairness(
        table,
        {"label": ["no", "yes"]},
        ["group"],
        {"label": "yes"},
        privileged_groups={"group": "C"},
        settings=AuditSettings(resamples=0),
    )
    privileged = binary["label"]["group"]["privileged"]
    assert privileged["distinguishable_from_zero"]["equal_opportunity_difference"], "the case reported"
    multiclass = table.assign(
        label_true=table["label_true"].where(table.index % 3 > 0, "maybe"),
        label_pred=table["label_pred"].where(table.index % 3 > 0, "maybe"),
    )
    three = audit_fairness(
        multiclass, {"label": ["maybe", "no", "yes"]}, ["group"], {}, settings=AuditSettings(resamples=0)
    )

    for audit, positive in ((binary, {"label": "yes"}), (three, {})):
        findings = " ".join(fairness_findings(audit, positive))
        flagged = flags_of(audit["label"])
        assert flagged > 0
        mentioned = findings.count("adjusted p") - findings.count("not distinguishable from zero, adjusted p")
        assert mentioned == flagged, findings
    assert "equal opportunity difference" in " ".join(fairness_findings(binary, {"label": "yes"}))
