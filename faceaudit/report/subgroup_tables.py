"""The worst-subgroups section of a run page, from the audit job's subgroups file (faceaudit.evaluation.subgroups): per
class target the subgroups whose error rate most exceeds the overall one, found by aif360's MDSS bias scan."""

from faceaudit.report.cells import text_cell
from faceaudit.report.render import number


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
    settings = subgroups["settings"]
    return {
        "method": subgroups["method"],
        "settings": f"up to {settings['depth']} labels combined in one subgroup, up to {settings['reported']} "
        f"subgroups reported per target, {settings['restarts']} random restarts per scan",
        "skipped": [f"{target}: not searched ({reason})." for target, reason in subgroups["skipped_targets"].items()],
        "targets": [subgroup_target(target, found) for target, found in subgroups["targets"].items()],
    }


def subgroup_target(target: str, found: dict) -> dict:
    binned = [f"{name} in quartile bins {', '.join(bins)}" for name, bins in found.get("binned_attributes", {}).items()]
    return {
        "target": target,
        "summary": f"{target}: {found['errors']} errors in {found['size']} rows (error rate "
        f"{number(found['error_rate'], 3)}); labels scanned: {', '.join(found['scanned_attributes']) or 'none'}"
        + (f"; {'; '.join(binned)}" if binned else "")
        + ".",
        "rows": [subgroup_row(rank, subgroup) for rank, subgroup in enumerate(found["subgroups"], start=1)],
        "stopped": found.get("stopped"),
    }


def subgroup_row(rank: int, subgroup: dict) -> dict:
    expected = subgroup["expected_error_rate"]
    return {
        "rank": rank,
        "definition": definition_text(subgroup["definition"]),
        "cells": [
            text_cell(subgroup["size"]),
            text_cell(subgroup["errors"]),
            text_cell(number(subgroup["error_rate"], 3)),
            text_cell(number(expected, 3)),
            text_cell(number(subgroup["error_rate"] / expected, 2) if expected else "n/a"),
            text_cell(number(subgroup["score"], 3)),
            text_cell(subgroup["rows_in_subgroups_above"]),
        ],
    }
