"""The report's comparisons: each configuration that applies a fairness method minus its baseline
(faceaudit.evaluation.comparisons), per eval set and target. First the verdicts (who gained, who lost: levelling up
or down), then the changes they rest on. Only changes distinguishable from zero after the family's adjustment are
styled as findings; the unadjusted 95% intervals are shown, greyed, for reading the size of a change, not its
reality. The method and the verdicts' meaning are the file's own words."""

import json
from pathlib import Path

from faceaudit.report.fairness_tables import AIF360_NAMES
from faceaudit.report.overview import run_page_link
from faceaudit.report.render import interval_text, number

OVERALL = ("accuracy", "balanced_accuracy", "tpr", "fpr", "selection_rate", "mae")
GROUP_RATES = ("accuracy", "tpr", "fpr", "selection_rate", "mae")
RATE_NAMES = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "tpr": "TPR",
    "fpr": "FPR",
    "selection_rate": "selection rate",
    "mae": "MAE",
}
NO_FINDING = "no change distinguishable"
GAP_NAMES = {
    "accuracy_gap": "accuracy gap (best - worst group)",
    "accuracy_vs_rest": "accuracy, group minus the rest",
    "mae_vs_rest": "MAE, group minus the rest",
    "vs_rest": "against the rest",
    "privileged": "others vs privileged",
    "class_tpr_vs_rest": "TPR of a class, group minus the rest",
}
ONE_RUN_EACH = (
    "Each side has one run: the interval covers the test rows only, not retraining. How much the change would vary "
    "with another training seed is not measured; train both with `repeats:` to know."
)


def comparisons_section(files: dict[str, dict[str, Path]]) -> dict | None:
    """The index's comparison section and, per run of a compared configuration, its model card's lines."""
    loaded = {
        configuration: {eval_set: json.loads(Path(path).read_text()) for eval_set, path in by_eval_set.items()}
        for configuration, by_eval_set in files.items()
    }
    entries = [
        comparison_entry(comparison, eval_set, target, compared)
        for by_eval_set in loaded.values()
        for eval_set, comparison in by_eval_set.items()
        for target, compared in comparison["targets"].items()
    ]
    if not entries:
        return None
    explained = {}
    for by_eval_set in loaded.values():
        for comparison in by_eval_set.values():
            explained |= comparison["verdicts_explained"]
    return {
        "entries": entries,
        "verdicts_explained": explained,
        "step_down": any(
            compared["multiple_comparisons"]["method"] == "holm"
            for by_eval_set in loaded.values()
            for comparison in by_eval_set.values()
            for compared in comparison["targets"].values()
        ),
        "card_lines": {
            run: card_lines(by_eval_set)
            for by_eval_set in loaded.values()
            for run in next(iter(by_eval_set.values()))["runs"]
        },
    }


def comparison_entry(comparison: dict, eval_set: str, target: str, compared: dict) -> dict:
    family = compared["multiple_comparisons"]
    positive = comparison["positive_classes"].get(target) if is_binary(compared) else None
    return {
        "title": f"{comparison['configuration']} minus {comparison['baseline']}: {target} on {eval_set}",
        "configuration": side(comparison["configuration"], comparison["runs"]),
        "baseline": side(comparison["baseline"], comparison["baseline_runs"]),
        "how": comparison["how"],
        "method": comparison["method"],
        "retraining_note": None if comparison["retraining_covered"] else ONE_RUN_EACH,
        "family": f"{family['method']} adjustment over a family of {family['family_size']} tests, alpha "
        f"{family['alpha']}",
        "verdicts": verdict_rows(compared, positive),
        "changes": change_rows(compared, positive),
    }


def side(configuration: str, names: list[str]) -> dict:
    return {"name": configuration, "runs": [{"name": name, "link": run_page_link(name)} for name in names]}


def is_binary(compared: dict) -> bool:
    return "tpr" in compared.get("overall", {})


def rate_label(rate: str, positive: str | None) -> str:
    """TPR and FPR say of which class: with the other class positive, TPR is 1 - this FPR, so both sides show."""
    name = RATE_NAMES.get(rate, rate)
    if rate in ("tpr", "fpr", "selection_rate") and positive:
        return f"{name} ({positive} positive)"
    return name


def verdict_rows(compared: dict, positive: str | None) -> list[dict]:
    rows = []
    for attribute, by_rate in compared["verdicts"].items():
        for rate, verdict in by_rate.items():
            if verdict.get("verdict") is None:
                rows.append(
                    {
                        "attribute": attribute,
                        "rate": rate_label(rate, positive),
                        "verdict": "not judged",
                        "detail": verdict.get("reason", ""),
                        "flagged": False,
                    }
                )
                continue
            worst = verdict["worst"]
            better = "higher" if verdict["higher_is_better"] else "lower"
            detail = (
                f"worst served by the baseline: {verdict['worst_group']} ({number(worst['baseline'], 3)} -> "
                f"{number(worst['configuration'], 3)}); gained: {', '.join(verdict['gained']) or 'none'}; lost: "
                f"{', '.join(verdict['lost']) or 'none'} ({better} is better)"
            )
            rows.append(
                {
                    "attribute": attribute,
                    "rate": rate_label(rate, positive),
                    "verdict": verdict["verdict"],
                    "detail": detail,
                    "flagged": verdict["verdict"] != NO_FINDING,
                }
            )
    return rows


def change_rows(compared: dict, positive: str | None) -> list[dict]:
    """The changes behind the verdicts: overall metrics, each group's rates, each attribute's gaps."""
    rows = [
        change_row("overall", rate_label(name, positive), compared["overall"][name])
        for name in OVERALL
        if name in compared.get("overall", {})
    ]
    for attribute, audited in compared.get("attributes", {}).items():
        for group, rates in audited.get("groups", {}).items():
            rows += [
                change_row(f"{attribute} = {group}", rate_label(rate, positive), rates[rate])
                for rate in GROUP_RATES
                if rate in rates
            ]
        rows += [
            change_row(
                f"{attribute}: {' / '.join(GAP_NAMES.get(part, part) for part in path[:-1])}".rstrip(": "),
                AIF360_NAMES.get(path[-1], GAP_NAMES.get(path[-1], path[-1])),
                change,
            )
            for path, change in gap_changes(audited)
        ]
    return rows


def gap_changes(node: dict, path: tuple = ()) -> list[tuple[tuple, dict]]:
    """(path, change) of every gap's change of one attribute (everything but its groups' own rates): the spread,
    each group against the rest, aif360's metrics against the rest and against the privileged group."""
    if "change" in node:
        return [(path, node)]
    return [
        found
        for key, value in node.items()
        if isinstance(value, dict) and not (path == () and key == "groups")
        for found in gap_changes(value, (*path, key))
    ]


def change_row(where: str, what: str, change: dict) -> dict:
    """One change: both sides, the change, its intervals, adjusted p; flagged only where distinguishable after
    adjustment (a repeated test shows the verdict of the test it repeats, and says so)."""
    return {
        "where": where,
        "what": what,
        "reason": change.get("insufficient_reason"),
        "baseline": change.get("baseline"),
        "configuration": change.get("configuration"),
        "change": change.get("change"),
        "ci": change.get("ci"),
        "ci_family": change.get("ci_family"),
        "adjusted_p_value": change.get("adjusted_p_value"),
        "tested": "p_value" in change,
        "same_test_as": change.get("same_test_as"),
        "flagged": bool(change.get("distinguishable_from_zero")),
    }


def card_lines(by_eval_set: dict) -> list[str]:
    """What the model card of a run of the compared configuration says: each verdict, then every flagged change."""
    lines = []
    for eval_set, comparison in by_eval_set.items():
        lines.append(
            f"[{eval_set}] compared with {comparison['baseline']} ({comparison['how']}; "
            f"{'retraining and test rows' if comparison['retraining_covered'] else 'test rows only, one run each'})."
        )
        for target, compared in comparison["targets"].items():
            positive = comparison["positive_classes"].get(target) if is_binary(compared) else None
            for row in verdict_rows(compared, positive):
                lines.append(
                    f"[{eval_set}] {target}, groups of {row['attribute']}, {row['rate']}: {row['verdict']} "
                    f"({row['detail']})."
                )
            flagged = [row for row in change_rows(compared, positive) if row["flagged"]]
            family = compared["multiple_comparisons"]
            adjustment = f"after {family['method']} adjustment over {family['family_size']} tests"
            if not flagged:
                lines.append(f"[{eval_set}] {target}: no change distinguishable from zero {adjustment}.")
            for row in flagged:
                lines.append(
                    f"[{eval_set}] {target}: {row['where']} {row['what']} changed by {number(row['change'])} "
                    f"{interval_text(row['ci_family'])} (family interval; {adjustment})."
                )
    return lines
