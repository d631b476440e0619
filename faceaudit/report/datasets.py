"""The report's data section: per dataset its split sizes, rejected rows grouped by kind of reason, repaired values,
class counts per split and the sample grid."""

import math
import re

import pandas as pd

from faceaudit.data.summary import class_distributions
from faceaudit.labels import NUMERIC, SPLITS
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
    }
