"""Per-example loss weights of the train split: by class, by group, or aif360's reweighing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from faceaudit.aif360_data import PRIVILEGED, UNPRIVILEGED, binary_label_dataset
from faceaudit.labels import NUMERIC, intersection_name, positive_class_of
from faceaudit.quiet_import import quiet_import

METHODS = ("none", "class", "group", "reweighing")


def sample_weights(
    rows: pd.DataFrame,
    weighting: dict,
    targets: dict[str, list[str]],
    privileged_groups: dict[str, str] | None = None,
    positive_classes: dict[str, str] | None = None,
) -> np.ndarray | None:
    """One float32 loss weight per row, or None for method `none`.

    `weighting` is the experiment's `loss_weighting` block. `privileged_groups` and `positive_classes` default to
    the block's own `privileged_groups` and `positive_class` (as the study resolves it), then to the target's last
    class.
    """
    method = weighting["method"]
    if method not in METHODS:
        raise ValueError(f"weighting.method: unknown method '{method}'; expected one of {list(METHODS)}")
    if method == "none":
        return None
    if method == "group":
        return balanced_weights(rows[weighting_attributes(rows, weighting)].astype(str).agg("+".join, axis=1))
    target = weighted_target(weighting, targets)
    if method == "class":
        return balanced_weights(label_column(rows, "weighting.target", target))
    attributes = weighting_attributes(rows, weighting)
    if privileged_groups is None:
        privileged_groups = weighting.get("privileged_groups", {})
    if positive_classes is None:
        positive_classes = {target: weighting["positive_class"]} if weighting.get("positive_class") else {}
    return reweighing_weights(rows, target, targets[target], attributes, privileged_groups, positive_classes)


def weighted_target(weighting: dict, targets: dict[str, list[str]]) -> str:
    target = weighting.get("target") or next(iter(targets))
    if target not in targets:
        raise ValueError(f"weighting.target: '{target}' is not one of the targets {list(targets)}")
    if targets[target] == NUMERIC:
        raise ValueError(
            f"weighting.target: method '{weighting['method']}' weights the classes of '{target}', which is numeric"
        )
    return target


def weighting_attributes(rows: pd.DataFrame, weighting: dict) -> list[str]:
    attributes = list(weighting.get("attributes", []))
    if not attributes:
        raise ValueError(
            f"weighting.attributes: method '{weighting['method']}' needs the attributes whose groups are weighted"
        )
    for attribute in attributes:
        label_column(rows, "weighting.attributes", attribute)
    return attributes


def label_column(rows: pd.DataFrame, key: str, name: str) -> pd.Series:
    if name not in rows.columns:
        raise ValueError(f"{key}: '{name}' is not a label of the dataset; its rows have columns {list(rows.columns)}")
    return rows[name].astype(str)


def balanced_weights(labels: pd.Series) -> np.ndarray:
    """N / (k n_label) for each row's label, k the number of labels present: every label gets the same total weight."""
    counts = labels.value_counts()
    return (len(labels) / (len(counts) * labels.map(counts))).to_numpy(dtype=np.float32)


def reweighing_weights(
    rows: pd.DataFrame,
    target: str,
    classes: list[str],
    attributes: list[str],
    privileged_groups: dict[str, str],
    positive_classes: dict[str, str],
) -> np.ndarray:
    """aif360's Reweighing: w(g, y) = P(g) P(y) / P(g, y), g = privileged or not, y = favourable or not."""
    if len(classes) != 2:
        raise ValueError(f"weighting.target: reweighing needs a binary target; '{target}' has {len(classes)} classes")
    favourable = label_column(rows, "weighting.target", target) == positive_class_of(target, classes, positive_classes)
    privileged = privileged_rows(rows, attributes, privileged_groups)
    with quiet_import():
        from aif360.algorithms.preprocessing import Reweighing

    dataset = binary_label_dataset(favourable.to_numpy(dtype=float), privileged)
    reweighing = Reweighing(unprivileged_groups=UNPRIVILEGED, privileged_groups=PRIVILEGED)
    with np.errstate(divide="ignore", invalid="ignore"):  # an empty (group, label) cell gets no rows anyway
        return reweighing.fit_transform(dataset).instance_weights.astype(np.float32)


def privileged_rows(rows: pd.DataFrame, attributes: list[str], privileged_groups: dict[str, str]) -> np.ndarray:
    """Rows in the privileged group of every attribute; both they and the rest must occur."""
    privileged = np.ones(len(rows), dtype=bool)
    for attribute in attributes:
        if attribute not in privileged_groups:
            raise ValueError(
                f"weighting.attributes: reweighing needs a privileged group of '{attribute}'; "
                "add it under the dataset's privileged_groups"
            )
        privileged &= (rows[attribute].astype(str) == privileged_groups[attribute]).to_numpy()
    if privileged.all() or not privileged.any():
        condition = ", ".join(f"{attribute}={privileged_groups[attribute]}" for attribute in attributes)
        raise ValueError(
            f"privileged_groups: reweighing needs privileged ({condition}) and unprivileged rows; "
            f"the train split has {int(privileged.sum())} privileged of {len(rows)}"
        )
    return privileged


def describe_weights(rows: pd.DataFrame, weights: np.ndarray, attributes: list[str]) -> dict:
    """Size and mean weight of each group formed by `attributes` together (named like `Female+A`), for run.json."""
    names = rows[list(attributes)].astype(str).agg("+".join, axis=1).to_numpy()
    weights = np.asarray(weights, dtype=np.float64)
    return {
        "attributes": intersection_name(attributes),
        "groups": {
            name: {"n": int(np.sum(names == name)), "weight": round(float(weights[names == name].mean()), 6)}
            for name in sorted(set(names))
        },
    }
