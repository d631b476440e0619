"""The worst-subgroups section of a run page, from the audit job's subgroups file (faceaudit.evaluation.subgroups): per
class target the subgroups whose error rate most exceeds the overall one, found by aif360's MDSS bias scan, each held
against the scores chance produces (faceaudit.evaluation.subgroup_null). Only those beyond chance are findings."""

from faceaudit.report.cells import p_value_text, text_cell
from faceaudit.report.render import number

HEADERS = [
    "rank",
    "subgroup",
    "size",
    "errors",
    "error rate",
    "expected error rate",
    "error rate / expected",
    "scan score",
    "chance's 95th percentile",
    "p-value",
    "Holm-adjusted p-value",
    "rows in subgroups above",
]


def definition_text(definition: dict[str, list[str]]) -> str:
    """E.g. group = B and age in {20-29, 50-59}."""
    return " and ".join(
        f"{attribute} = {values[0]}" if len(values) == 1 else f"{attribute} in {{{', '.join(values)}}}"
        for attribute, values in definition.items()
    )


def subgroups_context(subgroups: dict | None) -> dict | None:
    """How the search went and, per target, its worst subgroups (None where the run page has no subgroups file)."""
    if subgroups is None:
        return None
    return {
        "method": subgroups["method"],
        "null_method": subgroups["null_method"],
        "settings": settings_text(subgroups["settings"]),
        "headers": HEADERS,
        "skipped": [f"{target}: not searched ({reason})." for target, reason in subgroups["skipped_targets"].items()],
        "targets": [subgroup_target(target, found) for target, found in subgroups["targets"].items()],
    }


def settings_text(settings: dict) -> str:
    chance = (
        f"{settings['permutations']} shuffles of the errors (seed {settings['seed']})"
        if settings["permutations"]
        else "no shuffles (subgroup_permutations: 0), so no comparison with chance"
    )
    return (
        f"up to {settings['depth']} labels combined in one subgroup, up to {settings['reported']} subgroups reported "
        f"per target, {settings['restarts']} random restarts per scan; {chance}"
    )


def subgroup_target(target: str, found: dict) -> dict:
    binned = [f"{name} in quartile bins {', '.join(bins)}" for name, bins in found.get("binned_attributes", {}).items()]
    findings = sum(bool(subgroup["beyond_chance"]) for subgroup in found["subgroups"])
    return {
        "target": target,
        "summary": f"{target}: {found['errors']} errors in {found['size']} rows (error rate "
        f"{number(found['error_rate'], 3)}); labels scanned: {', '.join(found['scanned_attributes']) or 'none'}"
        + (f"; {'; '.join(binned)}" if binned else "")
        + ".",
        "verdict": verdict(target, found, findings),
        # Candidates that chance explains as well are listed apart, folded, not as findings.
        "secondary": bool(found["null_scores"]) and findings == 0,
        "rows": [
            subgroup_row(rank, subgroup, found["null_95th_percentile"])
            for rank, subgroup in enumerate(found["subgroups"], start=1)
        ],
        "stopped": found.get("stopped"),
    }


def verdict(target: str, found: dict, findings: int) -> str | None:
    """One sentence on what chance explains (None where nothing was reported)."""
    subgroups = found["subgroups"]
    if not subgroups:
        return None
    if not found["null_scores"]:
        return f"{target}: not compared with chance; a high score alone is no finding."
    if findings == 0:
        best = subgroups[0]
        return (
            f"{target}: no subgroup beyond chance. The best score, {number(best['score'], 3)}, has Holm-adjusted p "
            f"{p_value_text(best['adjusted_p_value'])}; chance alone scores {number(found['null_95th_percentile'], 3)} "
            "or more one time in twenty."
        )
    return (
        f"{target}: {findings} of {len(subgroups)} subgroup{'' if len(subgroups) == 1 else 's'} beyond chance "
        "(Holm-adjusted p below 0.05), highlighted."
    )


def subgroup_row(rank: int, subgroup: dict, null_95th_percentile: float | None) -> dict:
    expected = subgroup["expected_error_rate"]
    return {
        "rank": rank,
        "definition": definition_text(subgroup["definition"]),
        "flagged": bool(subgroup["beyond_chance"]),
        "cells": [
            text_cell(subgroup["size"]),
            text_cell(subgroup["errors"]),
            text_cell(number(subgroup["error_rate"], 3)),
            text_cell(number(expected, 3)),
            text_cell(number(subgroup["error_rate"] / expected, 2) if expected else "n/a"),
            text_cell(number(subgroup["score"], 3)),
            text_cell(number(null_95th_percentile, 3)),
            text_cell(p_value_text(subgroup["p_value"])),
            text_cell(p_value_text(subgroup["adjusted_p_value"])),
            text_cell(subgroup["rows_in_subgroups_above"]),
        ],
    }
