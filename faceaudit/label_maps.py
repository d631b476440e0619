"""Label maps: turn another pipeline's label values into a target's classes, row by row, never silently.

A map is None (values must already be classes), a dict {value: class or null} (null leaves the row out on purpose),
or {"bins": [lower edges]} (numbers, e.g. ages in years, into ordered classes). Values are compared as text.
"""

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from faceaudit.labels import is_numeric


@dataclass
class LabelMapResult:
    values: pd.Series  # the class name (str), or a float for a numeric target; None where rejected or left out
    reasons: pd.Series  # "" where the value is fine, else why it was rejected or left out
    left_out: pd.Series  # True where the map left the row out on purpose (counted, not a reject)


def check_label_map(mapping, classes, key: str) -> None:
    """Raise ValueError, naming `key`, for a map that cannot work whatever the values."""
    if mapping is None:
        return
    if not isinstance(mapping, dict):
        raise ValueError(f"{key}: a label map is {{value: class or null}} or {{bins: [lower edges]}}, not {mapping!r}")
    if "bins" in mapping:
        check_bins(mapping, classes, key)
        return
    for source, target in mapping.items():
        if target is None:
            continue
        if is_numeric(classes):
            if not is_finite_number(target):
                raise ValueError(f"{key}: '{source}' maps to '{target}', but the target is numeric: give a number")
        elif str(target) not in classes:
            raise ValueError(f"{key}: '{source}' maps to '{target}', not a class ({describe(classes)})")


def check_bins(mapping: dict, classes, key: str) -> None:
    if len(mapping) != 1:
        raise ValueError(f"{key}: a bins map has only the key 'bins', not {sorted(map(str, mapping))}")
    if is_numeric(classes):
        raise ValueError(f"{key}: bins turn numbers into classes, but the target is numeric")
    edges = mapping["bins"]
    if not isinstance(edges, list) or not all(is_finite_number(edge) for edge in edges):
        raise ValueError(f"{key}: bins must be a list of numbers (lower edges), not {edges!r}")
    if len(edges) != len(classes):
        raise ValueError(
            f"{key}: {len(edges)} bin edges for {len(classes)} classes ({describe(classes)}): "
            "give one lower edge per class"
        )
    if any(later <= earlier for earlier, later in zip(edges, edges[1:])):
        raise ValueError(f"{key}: bin edges must be strictly increasing, not {edges}")


def map_labels(values: pd.Series, mapping, classes, key: str) -> LabelMapResult:
    """Each value's class (or number), with the reason where a value is refused or left out by the map."""
    check_label_map(mapping, classes, key)
    texts = [as_text(value) for value in values]
    if isinstance(mapping, dict) and "bins" in mapping:
        outcomes = [bin_outcome(text, mapping["bins"], classes, key) for text in texts]
    else:
        table = {str(source): target for source, target in (mapping or {}).items()}
        outcomes = [value_outcome(text, table, classes, key) for text in texts]
    mapped, reasons, left_out = zip(*outcomes) if outcomes else ((), (), ())
    return LabelMapResult(
        values=pd.Series(list(mapped), index=values.index, dtype=object),
        reasons=pd.Series(list(reasons), index=values.index, dtype=str),
        left_out=pd.Series(list(left_out), index=values.index, dtype=bool),
    )


def value_outcome(text: str, table: dict, classes, key: str) -> tuple:
    """(mapped value, reason, left out) of one value under a value map (empty for no map)."""
    if text == "":
        return None, f"empty label (classes of {key}'s target: {describe(classes)})", False
    if text in table:
        target = table[text]
        if target is None:
            return None, f"left out by {key} ('{text}' maps to null)", True
        return (float(target) if is_numeric(classes) else str(target)), "", False
    if is_numeric(classes):
        if is_finite_number(text):
            return float(text), "", False
        return None, f"'{text}' is not a finite number ({key}'s target is numeric)", False
    if text in classes:
        return text, "", False
    if table:
        return None, f"no mapping for '{text}' in {key}", False
    return None, f"'{text}' is not a class of {key}'s target (classes: {describe(classes)}); map it in {key}", False


def bin_outcome(text: str, edges: list, classes: list, key: str) -> tuple:
    if not is_finite_number(text):
        return None, f"'{text}' is not a finite number, so it falls in no bin of {key}", False
    index = int(np.searchsorted(np.asarray(edges, dtype=float), float(text), side="right")) - 1
    if index < 0:
        return None, f"'{text}' is below the first bin edge {edges[0]} of {key}", False
    return classes[index], "", False


def as_text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def is_finite_number(value) -> bool:
    if isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def describe(classes) -> str:
    return classes if is_numeric(classes) else ", ".join(classes)
