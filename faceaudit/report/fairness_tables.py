"""The fairness tables of a run page: per target and sensitive attribute the groups' scores, each group against the
rest, the configured privileged comparison and, for multi-class targets, each class's TPR per group.

Every rate that counts the positive class (TPR, FPR, selection rate, aif360's four metrics) names it in its header.
"""

from faceaudit.evaluation.fairness import AIF360_METRICS
from faceaudit.report.overview import audited_attributes, privileged_label

GROUP_SCORES = {"n": "n", "accuracy": "accuracy", "error_rate": "error rate"}
POSITIVE_RATES = {"tpr": "TPR", "fpr": "FPR", "selection_rate": "selection rate"}
AIF360_NAMES = {
    "disparate_impact": "disparate impact",
    "statistical_parity_difference": "statistical parity difference",
    "equal_opportunity_difference": "equal opportunity difference",
    "average_odds_difference": "average odds difference",
}


def none_as_na(group: str | None) -> str:
    """A best or worst group, or n/a where fewer than two groups had enough rows to be compared."""
    return "n/a" if group is None else group


def of_positive(name: str, positive_class: str | None) -> str:
    return f"{name} (positive: {positive_class})" if positive_class is not None else name


def fairness_context(fairness: dict, metrics: dict) -> list[dict]:
    """Per target: the attributes not audited (and why), and the audit of each other attribute. `metrics` (the same
    eval set's) says each binary target's positive class."""
    return [
        {
            "target": target,
            "positive_class": metrics[target].get("positive_class"),
            "skipped": [
                {"attribute": attribute, "reason": reason}
                for attribute, reason in by_attribute.get("skipped_attributes", {}).items()
            ],
            "audits": [
                regression_audit(attribute, audit)
                if "mae_spread" in audit
                else classification_audit(attribute, audit, metrics[target].get("positive_class"))
                for attribute, audit in audited_attributes(by_attribute)
            ],
        }
        for target, by_attribute in fairness.items()
    ]


def group_columns(audit: dict, positive_class: str | None) -> list[tuple[str, str]]:
    """(key, header) of the per-group scores the audit holds; the rates of the positive class name it."""
    scores = next(iter(audit["groups"].values()))
    names = GROUP_SCORES | {key: of_positive(name, positive_class) for key, name in POSITIVE_RATES.items()}
    return [(key, header) for key, header in names.items() if key in scores]


def classification_audit(attribute: str, audit: dict, positive_class: str | None) -> dict:
    columns = group_columns(audit, positive_class)
    comparisons = {f"{group} vs rest": scores for group, scores in audit.get("vs_rest", {}).items()}
    privileged = audit.get("privileged") or {}
    return {
        "attribute": attribute,
        "kind": "classification",
        "columns": [key for key, _ in columns],
        "headers": [header for _, header in columns],
        "gap": audit["accuracy_gap"],
        "gap_interval": audit.get("accuracy_gap_ci"),
        "best_group": none_as_na(audit["best_group"]),
        "worst_group": none_as_na(audit["worst_group"]),
        "groups": [
            {
                "name": group,
                "n": scores.get("n"),
                "scores": [scores[key] for key, _ in columns],
                "accuracy_interval": scores.get("accuracy_ci"),
                "versus_rest": audit["accuracy_vs_rest"].get(group),
            }
            for group, scores in audit["groups"].items()
        ],
        "versus_rest": comparison_table(comparisons, positive_class) if comparisons else None,
        "privileged": privileged_table(privileged, positive_class),
        "privileged_note": privileged_note(privileged),
        "class_gaps": class_gaps(audit["class_tpr_gaps"]) if "class_tpr_gaps" in audit else None,
    }


def privileged_table(privileged: dict, positive_class: str | None) -> dict | None:
    if "disparate_impact" not in privileged:
        return None
    return comparison_table({privileged_label(privileged["privileged_group"]): privileged}, positive_class)


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
        "gap_interval": audit.get("mae_spread_ci"),
        "best_group": none_as_na(audit["best_group"]),
        "worst_group": none_as_na(audit["worst_group"]),
        "groups": [
            {
                "name": group,
                "n": scores["n"],
                "mae": scores["mae"],
                "mae_interval": scores.get("mae_ci"),
                "mean_error": scores["mean_error"],
                "versus_rest": audit["mae_vs_rest"].get(group),
            }
            for group, scores in audit["groups"].items()
        ],
    }


def comparison_table(comparisons: dict, positive_class: str | None) -> dict:
    """aif360's scores of each comparison of groups, each with its interval, and the four-fifths rule's verdict."""
    return {
        "headers": [
            "comparison",
            *(of_positive(AIF360_NAMES[key], positive_class) for key in AIF360_METRICS),
            "four-fifths rule",
        ],
        "rows": [
            {
                "label": label,
                "four_fifths_rule": scores["four_fifths_rule"] or "n/a",
                "scores": [{"value": scores[key], "interval": scores["ci"].get(key)} for key in AIF360_METRICS],
            }
            for label, scores in comparisons.items()
        ],
    }


def class_gaps(gaps: dict) -> dict:
    groups = list(next(iter(gaps.values()))["tpr"])
    rows = [
        {"name": cls, "tpr": [scores["tpr"][group] for group in groups], "gap": scores["gap"]}
        for cls, scores in gaps.items()
    ]
    return {"groups": groups, "rows": rows}
