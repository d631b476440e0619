"""The fairness tables of a run page: per target and sensitive attribute the groups' scores, each group against the
rest, the configured privileged comparison and, for multi-class targets, each class's TPR per group; the groups left
out for too few rows, and every gap tested against zero with its raw and adjusted p-value.

Every rate that counts the positive class (TPR, FPR, base and selection rate, aif360's four metrics) names it in
its header. A rate the audit withheld is an "insufficient data" cell (cells.py).
"""

from faceaudit.evaluation.fairness import AIF360_METRICS, TESTED_AIF360_METRICS
from faceaudit.report.adjustment import adjustment_text, family_of, family_sentence, of_metric, verdict
from faceaudit.report.cells import (
    insufficient_cell,
    interval_cell,
    p_value_text,
    rate_cell,
    text_cell,
    value_and_interval_cell,
)
from faceaudit.report.overview import audited_attributes, privileged_label
from faceaudit.report.render import number

# (key, header, counts the positive class) of the per-group scores, in the order shown: the base rate (the
# group's share of true positives) stands beside its selection rate.
GROUP_RATES = (
    ("accuracy", "accuracy", False),
    ("error_rate", "error rate", False),
    ("tpr", "TPR", True),
    ("fpr", "FPR", True),
    ("base_rate", "base rate", True),
    ("selection_rate", "selection rate", True),
)
DETECTABLE_GAPS = (
    ("min_detectable_accuracy_gap", "smallest detectable accuracy gap", False),
    ("min_detectable_tpr_gap", "smallest detectable TPR gap", True),
)
AIF360_NAMES = {
    "disparate_impact": "disparate impact",
    "statistical_parity_difference": "statistical parity difference",
    "equal_opportunity_difference": "equal opportunity difference",
    "average_odds_difference": "average odds difference",
}
RATE_NAMES = {key: name for key, name, _ in GROUP_RATES} | {"mae": "MAE", "mean_error": "mean error"}
VERDICTS = {True: "yes", False: "no", None: "not tested"}


def none_as_na(group: str | None) -> str:
    """A best or worst group, or n/a where fewer than two groups had enough rows to be compared."""
    return "n/a" if group is None else group


def of_positive(name: str, positive_class: str | None) -> str:
    return f"{name} (positive: {positive_class})" if positive_class is not None else name


def fairness_context(fairness: dict, metrics: dict) -> list[dict]:
    """Per target: the attributes not audited (and why), what the flags mean, and the audit of each other
    attribute. `metrics` (the same eval set's) says each binary target's positive class."""
    contexts = []
    for target, by_attribute in fairness.items():
        positive_class = metrics[target].get("positive_class")
        other_class = next((name for name in metrics[target].get("classes", []) if name != positive_class), None)
        family = family_of(by_attribute)
        contexts.append(
            {
                "target": target,
                "positive_class": positive_class,
                "family": family_sentence(target, family) if family else None,
                "skipped": [
                    {"attribute": attribute, "reason": reason}
                    for attribute, reason in by_attribute.get("skipped_attributes", {}).items()
                ],
                "audits": [
                    regression_audit(attribute, audit)
                    if "mae_spread" in audit
                    else classification_audit(attribute, audit, positive_class, other_class)
                    for attribute, audit in audited_attributes(by_attribute)
                ],
            }
        )
    return contexts


def group_columns(audit: dict, positive_class: str | None) -> list[tuple[str, str]]:
    """(key, header) of the per-group rates and detectable gaps the audit holds; those of the positive class name
    it."""
    scores = next(iter(audit["groups"].values()))
    return [
        (key, of_positive(name, positive_class) if positive else name)
        for key, name, positive in (*GROUP_RATES, *DETECTABLE_GAPS)
        if key in scores
    ]


def withheld_reason(scores: dict) -> str | None:
    return scores.get("insufficient_reason") if scores.get("insufficient_data") else None


def classification_audit(
    attribute: str, audit: dict, positive_class: str | None, other_class: str | None = None
) -> dict:
    columns = group_columns(audit, positive_class)
    binary = "tpr" in next(iter(audit["groups"].values()))
    comparisons = {f"{group} vs rest": scores for group, scores in audit.get("vs_rest", {}).items()}
    privileged = audit.get("privileged") or {}
    headers = ["group", "n", *([f"true {positive_class}"] if binary else [])]
    rate_headers = [header for _, header in columns]
    rate_headers.insert(1, "accuracy 95% CI")
    return {
        "attribute": attribute,
        "kind": "classification",
        "headers": [*headers, *rate_headers, "accuracy minus rest", "95% CI"],
        "gap": audit["accuracy_gap"],
        "gap_interval": audit.get("accuracy_gap_ci") if audit["accuracy_gap"] is not None else None,
        "best_group": none_as_na(audit["best_group"]),
        "worst_group": none_as_na(audit["worst_group"]),
        "groups": [
            classification_group_row(group, scores, columns, binary, audit["accuracy_vs_rest"].get(group))
            for group, scores in audit["groups"].items()
        ],
        "excluded": excluded_lines(audit, positive_class),
        "tests": tests_table(audit, positive_class),
        "versus_rest": comparison_table(comparisons, positive_class, other_class) if comparisons else None,
        "privileged": privileged_table(privileged, positive_class, other_class),
        "privileged_note": privileged_note(privileged),
        "class_gaps": class_gaps(audit["class_tpr_gaps"]) if "class_tpr_gaps" in audit else None,
    }


def classification_group_row(group: str, scores: dict, columns: list, binary: bool, versus_rest: dict | None) -> dict:
    reason = withheld_reason(scores)
    counts = [text_cell(scores["n"]), *([text_cell(scores["positives"])] if binary else [])]
    detectable = {key for key, _, _ in DETECTABLE_GAPS}  # measured from sizes alone, never withheld
    rates = [rate_cell(scores[key], None if key in detectable else reason) for key, _ in columns]
    rates.insert(1, interval_cell(scores.get("accuracy_ci"), reason if scores["accuracy"] is None else None))
    return {
        "name": group,
        "insufficient": reason is not None,
        "cells": [*counts, *rates, *versus_rest_cells(versus_rest)],
    }


def versus_rest_cells(comparison: dict | None) -> list[dict]:
    """A difference from the rest of the groups and its interval (two empty cells where there is none)."""
    if comparison is None:
        return [text_cell(""), text_cell("")]
    reason = comparison.get("insufficient_reason")
    return [rate_cell(comparison["difference"], reason), interval_cell(comparison["ci"], reason)]


def excluded_lines(audit: dict, positive_class: str | None = None) -> list[str]:
    """The groups left out of gaps and flags (and, per class, of a class's TPR), each with its size and why."""
    lines = [excluded_line(entry, positive_class) for entry in audit.get("excluded_groups", [])]
    for class_name, gaps in audit.get("class_tpr_gaps", {}).items():
        lines += [excluded_line(entry, class_name, f"TPR of {class_name}") for entry in gaps.get("excluded_groups", [])]
    return lines


def excluded_line(entry: dict, class_name: str | None, what: str | None = None) -> str:
    """E.g. B (21 rows, 10 of them Male): 21 rows, fewer than min_group_size 25; withheld: accuracy, ..."""
    positives = (
        "" if entry.get("positives") is None or class_name is None else f", {entry['positives']} of them {class_name}"
    )
    withheld = what or ", ".join(RATE_NAMES.get(name, name) for name in entry["withheld"])
    return f"{entry['group']} ({entry['size']} rows{positives}): {entry['reason']}; withheld: {withheld}."


def tests_table(audit: dict, positive_class: str | None) -> dict | None:
    """Every gap of this attribute tested against zero, with its raw and adjusted p-value and the verdict after
    adjustment; gaps not tested say why."""
    family = audit.get("multiple_comparisons")
    if family is None:
        return None
    rows = [test_row(f"{group} vs rest", "accuracy", gap) for group, gap in audit.get("accuracy_vs_rest", {}).items()]
    rows += [test_row(f"{group} vs rest", "MAE", gap) for group, gap in audit.get("mae_vs_rest", {}).items()]
    comparisons = {f"{group} vs rest": scores for group, scores in audit.get("vs_rest", {}).items()}
    if "disparate_impact" in (audit.get("privileged") or {}):
        comparisons[privileged_label(audit["privileged"]["privileged_group"])] = audit["privileged"]
    for label, scores in comparisons.items():
        rows += [
            test_row(label, of_positive(AIF360_NAMES[metric], positive_class), scores, metric)
            for metric in TESTED_AIF360_METRICS
        ]
    for class_name, gaps in audit.get("class_tpr_gaps", {}).items():
        rows += [
            test_row(f"{group} vs rest", f"TPR of {class_name}", gap) for group, gap in gaps["tpr_vs_rest"].items()
        ]
    if not rows:
        return None
    tested, flagged = sum(row["tested"] for row in rows), sum(row["flagged"] for row in rows)
    return {
        "headers": [
            "comparison",
            "gap in",
            "difference",
            "95% CI",
            "p-value",
            "adjusted p-value",
            adjustment_text(family),
        ],
        "rows": rows,
        "summary": f"{tested} of {len(rows)} gaps tested against zero; {flagged} {adjustment_text(family)}",
    }


def test_row(comparison: str, measure: str, holder: dict, metric: str | None = None) -> dict:
    difference = holder["difference"] if metric is None else holder[metric]
    interval = holder.get("ci") if metric is None else (holder.get("ci") or {}).get(metric)
    reason = holder.get("insufficient_reason") if difference is None else None
    flag = verdict(holder, metric)
    return {
        "comparison": comparison,
        "measure": measure,
        "tested": flag is not None,
        "flagged": bool(flag),
        "cells": [
            rate_cell(difference, reason),
            interval_cell(interval, reason),
            text_cell(p_value_text(of_metric(holder.get("p_value"), metric))),
            text_cell(p_value_text(of_metric(holder.get("adjusted_p_value"), metric))),
            insufficient_cell(reason) if reason else text_cell(VERDICTS[flag]),
        ],
    }


def privileged_table(privileged: dict, positive_class: str | None, other_class: str | None = None) -> dict | None:
    if "disparate_impact" not in privileged:
        return None
    return comparison_table({privileged_label(privileged["privileged_group"]): privileged}, positive_class, other_class)


def privileged_note(privileged: dict) -> str | None:
    """Why a configured privileged comparison has no table (its group is absent from the eval set)."""
    if not privileged or "disparate_impact" in privileged:
        return None
    return f"{privileged_label(privileged['privileged_group'])}: not compared, {privileged.get('note', 'no values')}."


def regression_audit(attribute: str, audit: dict) -> dict:
    return {
        "attribute": attribute,
        "kind": "regression",
        "gap": audit["mae_spread"],
        "gap_interval": audit.get("mae_spread_ci") if audit["mae_spread"] is not None else None,
        "best_group": none_as_na(audit["best_group"]),
        "worst_group": none_as_na(audit["worst_group"]),
        "groups": [
            {
                "name": group,
                "insufficient": withheld_reason(scores) is not None,
                "cells": [
                    text_cell(scores["n"]),
                    rate_cell(scores["mae"], withheld_reason(scores)),
                    interval_cell(scores.get("mae_ci"), withheld_reason(scores) if scores["mae"] is None else None),
                    rate_cell(scores["mean_error"], withheld_reason(scores)),
                    *versus_rest_cells(audit["mae_vs_rest"].get(group)),
                ],
            }
            for group, scores in audit["groups"].items()
        ],
        "excluded": excluded_lines(audit),
        "tests": tests_table(audit, None),
    }


def four_fifths_text(scores: dict) -> str:
    """The four-fifths rule both ways: disparate impact below 0.8 or above 1.25 fails it."""
    rule, flag = scores.get("four_fifths_rule"), scores.get("four_fifths_flag")
    if rule is None:
        return "n/a"
    if flag == "below":
        return "fails: below 0.8"
    if flag == "above":
        return "fails: above 1.25"
    return "passes (0.8 to 1.25)" if rule == "passes" else rule


def comparison_table(comparisons: dict, positive_class: str | None, other_class: str | None = None) -> dict:
    """aif360's scores of each comparison of groups, each with its interval, and the four-fifths rule's verdict; with
    the other class of a binary target, its equal opportunity difference and four-fifths verdict beside them (which
    class is "positive" is a choice, and a gap in the TPR of one class is a gap in the FPR of the other), and the
    comparisons whose four-fifths verdict changes with that choice."""
    other = (
        []
        if other_class is None
        else [
            of_positive(AIF360_NAMES["equal_opportunity_difference"], other_class),
            of_positive("four-fifths rule", other_class),
        ]
    )
    changed = [
        label
        for label, scores in comparisons.items()
        if other_class is not None
        and four_fifths_fails(scores.get("disparate_impact")) != four_fifths_fails(other_class_values(scores)[1])
    ]
    return {
        "headers": [
            "comparison",
            *(of_positive(AIF360_NAMES[key], positive_class) for key in AIF360_METRICS),
            of_positive("four-fifths rule", positive_class) if other_class else "four-fifths rule",
            *other,
        ],
        "rows": [
            {
                "label": label,
                "cells": [
                    *(
                        value_and_interval_cell(
                            scores[key], (scores.get("ci") or {}).get(key), scores.get("insufficient_reason")
                        )
                        for key in AIF360_METRICS
                    ),
                    four_fifths_cell(scores),
                    *(other_class_cells(scores) if other_class is not None else []),
                ],
            }
            for label, scores in comparisons.items()
        ],
        "changes_with_positive_class": (
            f"The four-fifths verdict changes with the class counted as positive ({positive_class} or "
            f"{other_class}) for: {', '.join(changed)}."
            if changed
            else None
        ),
    }


def other_class_values(scores: dict) -> tuple[float | None, float | None]:
    """(equal opportunity difference, disparate impact) with the other class of a binary target positive, from the
    positive class's: its TPR is 1 - FPR, so its EOD is minus the FPR difference (EOD - 2 AOD); its selection rates
    are 1 - those of the positive class, recovered from DI and SPD."""
    eod, aod = scores.get("equal_opportunity_difference"), scores.get("average_odds_difference")
    impact, parity = scores.get("disparate_impact"), scores.get("statistical_parity_difference")
    other_eod = None if eod is None or aod is None else eod - 2 * aod
    if impact is None or parity is None:
        return other_eod, None
    if impact == 1 or parity == 0:
        return other_eod, 1.0
    reference = parity / (impact - 1)  # the other side's selection rate of the positive class
    compared = impact * reference
    return other_eod, (1 - compared) / (1 - reference) if reference < 1 else None


def four_fifths_fails(impact: float | None) -> bool | None:
    return None if impact is None else not 0.8 <= impact <= 1.25


def other_class_cells(scores: dict) -> list[dict]:
    if scores["disparate_impact"] is None and scores.get("insufficient_reason"):
        return [insufficient_cell(scores["insufficient_reason"])] * 2
    eod, impact = other_class_values(scores)
    verdict = {None: "n/a", True: "fails", False: "passes"}[four_fifths_fails(impact)]
    return [rate_cell(eod), text_cell(f"{verdict} (disparate impact {number(impact)})")]


def four_fifths_cell(scores: dict) -> dict:
    if scores["disparate_impact"] is None and scores.get("insufficient_reason"):
        return insufficient_cell(scores["insufficient_reason"])
    return text_cell(four_fifths_text(scores))


def class_gaps(gaps: dict) -> dict:
    groups = list(next(iter(gaps.values()))["tpr"])
    rows = []
    for class_name, scores in gaps.items():
        reasons = {entry["group"]: entry["reason"] for entry in scores.get("excluded_groups", [])}
        rows.append(
            {
                "name": class_name,
                "cells": [
                    *(rate_cell(scores["tpr"][group], reasons.get(group)) for group in groups),
                    text_cell(number(scores["gap"])),
                ],
            }
        )
    return {"groups": groups, "rows": rows}
