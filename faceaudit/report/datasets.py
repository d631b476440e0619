"""The report's data section: per dataset its split sizes, rejected rows grouped by kind of reason, repaired values,
class counts per split, the sample grid, and the data audit (base rates per group, duplicates and leakage across
splits, image statistics per group)."""

import math
import re

import pandas as pd

from faceaudit.data.leakage import EXCESS, EXPECTED, NO_BASELINE, NONE
from faceaudit.data.summary import class_distributions
from faceaudit.labels import NUMERIC, SPLITS
from faceaudit.report.references import published_rows
from faceaudit.report.render import number
from faceaudit.report.results import optional_figure

EXAMPLES_PER_KIND = 3
# What varies from row to row inside a reason, replaced so that rows refused for the same cause count together:
# a quoted value ("unknown gender value 'X'"), a quoted path (Pillow names the file), what a Pillow error says
# after the file's name, and numbers (line numbers, counts of values or bytes) outside the list of known classes.
QUOTED_VALUE = re.compile(r"(value|partition) '[^']*'")
QUOTED_PATH = re.compile(r"'[^']*[/\\][^']*'")
NUMBER = re.compile(r"\b\d+\b")


def reason_kind(reason: str) -> str:
    """A reject reason without its row-specific parts: "unknown gender value 'X' (known: A, B)" becomes
    "unknown gender value '…' (known: A, B)", "labels.txt line 7: 3 values for 40 attributes" becomes
    "labels.txt line N: N values for N attributes"."""
    text, known, listed = reason.partition("(known:")
    text = QUOTED_PATH.sub("'…'", QUOTED_VALUE.sub(r"\1 '…'", text))
    return NUMBER.sub("N", text) + known + listed


def reject_kinds(rejects: pd.DataFrame) -> list[dict]:
    """One entry per kind of reason, most rows first: the kind, how many rows, and the first few rows' paths."""
    paths_by_kind = {}
    for path, reason in zip(rejects["path"], rejects["reason"], strict=True):
        paths_by_kind.setdefault(reason_kind(reason), []).append(path)
    ranked = sorted(paths_by_kind.items(), key=lambda kind_paths: -len(kind_paths[1]))
    return [{"reason": kind, "rows": len(paths), "examples": paths[:EXAMPLES_PER_KIND]} for kind, paths in ranked]


def distribution_rows(distribution: pd.DataFrame, numeric: bool) -> list[dict]:
    """Rows of a class-count table; for a numeric label its count, mean, std, min and max, rounded."""
    return [
        {"name": value, "counts": [summary_value(value, cell) if numeric else int(cell) for cell in row.tolist()]}
        for value, row in distribution.iterrows()
    ]


def summary_value(statistic: str, value: float) -> str:
    if statistic == "count":
        return f"{int(value):,}"
    return "n/a" if value is None or math.isnan(value) else number(value, 2)


def dataset_context(name: str, dataset: dict, data: dict, files: dict) -> dict:
    """What the data section shows of one dataset: split sizes, rejected and repaired rows, class counts, samples."""
    manifest, rejects, repairs = data["manifest"], data["rejects"], data["repairs"]
    counts = manifest["split"].value_counts()
    return {
        "name": name,
        "layout": dataset["layout"],
        "split_sizes": [{"split": split, "images": int(counts.get(split, 0))} for split in SPLITS],
        "rejected": len(rejects),
        "reject_reasons": reject_kinds(rejects),
        "repairs": None
        if repairs is None or repairs.empty
        else {"headers": list(repairs.columns), "rows": repairs.values.tolist()},
        "distributions": [
            {
                "label": label,
                "headers": [label, *map(str, distribution.columns)],
                "rows": distribution_rows(distribution, dataset["labels"][label] == NUMERIC),
            }
            for label, distribution in class_distributions(manifest, dataset["labels"]).items()
        ],
        "samples": optional_figure(files.get("samples"), f"sample images of {name} with their labels"),
        "audit": audit_context(data.get("data_audit")),
        "published": published_rows(dataset.get("published_results", [])),
    }


def audit_context(audit: dict | None) -> dict | None:
    """The data audit as the page shows it: what it read, leakage findings, duplicate rows, base-rate tables, image
    statistics per group; None where the dataset has no audit file."""
    if audit is None:
        return None
    size = audit["image_size"]
    across = [summary for summary in audit["duplicates"] if "near_copies" in summary]
    return {
        "arrays": f"{size[0]}x{size[1]} px, {'gray' if size[-1] == 1 else 'rgb'}" if size else "no images",
        "distance": audit["settings"]["near_duplicate_distance"],
        "hash_bits": audit["settings"]["hash_bits"],
        "alpha": audit["settings"]["leakage_alpha"],
        "findings": leakage_findings(across),
        "duplicates": [duplicate_row(summary) for summary in audit["duplicates"]],
        "base_rates": [base_rate_table(table) for table in audit["group_labels"]],
        "statistics": [
            statistics_table(section, audit["statistic_descriptions"]) for section in audit["image_statistics"]
        ],
    }


def leakage_findings(across: list[dict]) -> list[dict]:
    """One sentence per finding across splits, leakage first: exact copies (always leakage), near copies beyond the
    dataset's own similarity (possible leakage), near copies at the rate it predicts; a heading marks the first two."""
    exact = [exact_finding(summary) for summary in across if summary["exact_leak"]]
    near = [near_finding(summary) for summary in across if summary["near_copies"]["verdict"] != NONE]
    findings = exact + sorted(near, key=lambda finding: finding["heading"] is None)
    if not findings:
        return [{"heading": None, "text": "No held-out image has an exact or near copy in an earlier split."}]
    return findings


def exact_finding(summary: dict) -> dict:
    first, second = summary["splits"]
    count, images = summary["images_with_exact_copy"], summary["images"]
    return {"heading": "Leakage", "text": f"{count:,} of {images:,} {second} images have an exact copy in {first}."}


def near_finding(summary: dict) -> dict:
    first, second = summary["splits"]
    near = summary["near_copies"]
    baseline = near["baseline"]
    held_out = f"{near['with_near_copy']:,} of {near['images']:,} {second} images ({rate_text(near)})"
    if near["verdict"] == NO_BASELINE:
        text = f"{held_out} have a near copy in {first}, too small a split to tell whether that is more than its own "
        return {"heading": None, "text": text + "similarity predicts; inspect the examples."}
    own = (
        f"{baseline['with_near_copy']:,} of {baseline['images']:,} {first} images ({rate_text(baseline)}) have one "
        f"among the other {first} images"
    )
    test = f"one-sided Fisher exact p = {near['p_value']:.2g}"
    if near["verdict"] == EXCESS:
        text = f"{held_out} have a near copy in {first}, more than the dataset's own similarity predicts: {own} ({test}"
        return {"heading": "Possible leakage", "text": text + f", below {near['alpha']:.2g}); inspect the examples."}
    text = f"{second} vs {first}: near copies at the rate the dataset's own similarity predicts (inspect the examples):"
    text += f" {held_out} have one"
    return {"heading": None, "text": text + f" in {first}; {own} ({test}, not below {near['alpha']:.2g})."}


def rate_text(rate: dict) -> str:
    return f"{100 * rate['rate']:.1f}%, 95% interval {100 * rate['low']:.1f}-{100 * rate['high']:.1f}%"


def share(count: int, total: int) -> str:
    return f"{count:,} ({100 * count / total:.1f}%)" if total else f"{count:,}"


def duplicate_row(summary: dict) -> dict:
    first, second = summary["splits"]
    near = summary.get("near_copies")
    return {
        "splits": f"within {first}" if first == second else f"{second} vs {first}",
        "images": summary["images"],
        "exact": share(summary["images_with_exact_copy"], summary["images"]),
        "near": share(summary["images_with_near_copy"], summary["images"]),
        "exact_pairs": summary["exact_pairs"],
        "near_pairs": summary["near_pairs"],
        "judgement": "" if near is None else NEAR_VERDICTS[near["verdict"]],
        "leak": summary.get("exact_leak", False) or (near is not None and near["verdict"] == EXCESS),
        "examples": [
            f"{kind}: {pair['second']['split']} row {pair['second']['row']} ({pair['second']['path']}) ~ "
            f"{pair['first']['split']} row {pair['first']['row']} ({pair['first']['path']})"
            + (f", {pair['distance']} bits apart" if kind == "near" else "")
            for kind, pairs in summary["examples"].items()
            for pair in pairs
        ],
    }


NEAR_VERDICTS = {
    EXCESS: "more than its own similarity predicts",
    EXPECTED: "as its own similarity predicts",
    NO_BASELINE: "too few images to compare",
    NONE: "none",
}


def base_rate_table(table: dict) -> dict:
    """One table per sensitive attribute and label: a row per split and group, a cell per class as count (share);
    for a numeric label, the group's mean and standard deviation."""
    headers = ["split", table["attribute"], "n", *(table["classes"] or ["mean", "sd"])]
    rows = []
    for split, groups in table["splits"].items():
        for group in groups:
            if table["numeric"]:
                cells = [number(group["mean"], 2), number(group["sd"], 2)]
            else:
                cells = [rate_cell(count, rate) for count, rate in zip(group["counts"], group["rates"], strict=True)]
            rows.append({"split": split, "group": group["group"], "n": group["n"], "cells": cells})
    return {"attribute": table["attribute"], "label": table["label"], "headers": headers, "rows": rows}


def rate_cell(count: int, rate: float | None) -> str:
    return f"{count:,}" if rate is None else f"{count:,} ({100 * rate:.1f}%)"


def statistics_table(section: dict, descriptions: dict) -> dict:
    """A row per group: n, then per statistic its mean [95% interval] and median (quartiles); and per statistic the
    gap between the highest and lowest group means, also in pooled standard deviations."""
    names = list(descriptions)
    rows = [
        {"group": group["group"], "n": group["n"], "cells": [statistic_cell(group[name]) for name in names]}
        for group in section["groups"]
    ]
    gaps = [gap_text(section["gaps"][name]) for name in names]
    return {
        "attribute": section["attribute"],
        "headers": [section["attribute"], "n", *names],
        "rows": rows,
        "gaps": gaps,
    }


def statistic_cell(described: dict) -> str:
    if described["mean"] is None:
        return "n/a"
    interval = "" if described["low"] is None else f" [{described['low']:.1f}, {described['high']:.1f}]"
    return (
        f"{described['mean']:.1f}{interval}; median {described['median']:.1f} "
        f"({described['q25']:.1f}-{described['q75']:.1f})"
    )


def gap_text(gap: dict | None) -> str:
    if gap is None:
        return "n/a"
    standardised = "" if gap["standardised"] is None else f" ({gap['standardised']:.2f} sd)"
    return f"{gap['highest']} - {gap['lowest']}: {gap['difference']:.1f}{standardised}"
