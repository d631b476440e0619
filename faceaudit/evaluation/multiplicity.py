"""Many comparisons in one audit: adjusting their p-values over the whole family.

A target's audit in one fairness file tests many gaps against zero (every group against the rest, every aif360
difference, every class's TPR); at 5% each, some would look real by chance alone. Every comparison that carries a
`p_value` is one member of the family; `adjust_family` adds its `adjusted_p_value` and whether it is
`distinguishable_from_zero` (adjusted p below 0.05).
"""

import numpy as np

METHODS = ("holm", "bh", "none")
ALPHA = 0.05


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error rate): the i-th smallest p times (m - i + 1), made
    non-decreasing in that order and capped at 1."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    scaled = (len(p) - np.arange(len(p))) * p[order]
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return adjusted


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate): the i-th smallest p times m / i, made
    non-increasing from the largest down and capped at 1."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)[::-1]
    scaled = len(p) / np.arange(len(p), 0, -1) * p[order]
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(1.0, np.minimum.accumulate(scaled))
    return adjusted


def adjust_p_values(p_values, method: str) -> np.ndarray:
    """Adjusted p-values by `method`: holm, bh (Benjamini-Hochberg) or none (the raw p-values)."""
    if method not in METHODS:
        raise ValueError(f"multiple_comparisons must be one of {', '.join(METHODS)}, got {method!r}")
    p = np.asarray(p_values, dtype=float)
    if method == "none" or len(p) == 0:
        return p.copy()
    return holm(p) if method == "holm" else benjamini_hochberg(p)


def comparisons(node):
    """(holder, metric) of every p-value in a nested audit: metric is None where `p_value` is one number and the
    metric's name where it is a dict of them (aif360's differences)."""
    if isinstance(node, dict):
        if "p_value" in node:
            if isinstance(node["p_value"], dict):
                yield from ((node, metric) for metric in node["p_value"])
            else:
                yield node, None
        for value in node.values():
            yield from comparisons(value)


def adjust_family(audit, method: str) -> int:
    """Adjust every p-value in `audit` (one target's audit) as one family, in place; return the family's size.

    A comparison without a p-value (too few rows, no bootstrap) is no member; its adjusted p-value and
    `distinguishable_from_zero` are None, which says it was not tested, not that it was tested and found equal.
    """
    slots = list(comparisons(audit))
    raw = [holder["p_value"] if metric is None else holder["p_value"][metric] for holder, metric in slots]
    tested = [index for index, p in enumerate(raw) if p is not None]
    adjusted = dict(zip(tested, adjust_p_values([raw[index] for index in tested], method).tolist()))
    for index, (holder, metric) in enumerate(slots):
        value = adjusted.get(index)
        verdict = None if value is None else bool(value < ALPHA)
        if metric is None:
            holder["adjusted_p_value"], holder["distinguishable_from_zero"] = value, verdict
        else:
            holder.setdefault("adjusted_p_value", {})[metric] = value
            holder.setdefault("distinguishable_from_zero", {})[metric] = verdict
    return len(tested)


def same_tests(changes: dict[tuple, np.ndarray]) -> dict[tuple, tuple]:
    """{statistic: the earlier statistic it repeats} among tested statistics whose values, on the rows as they are
    and in every resample (and in every seed), are those of an earlier one or their negation: one question asked
    twice, e.g. "group A against the rest" and "the others against A (privileged)", or in a two-group attribute "A
    against the rest" and "B against the rest". Counting such a test twice would make the family larger than the
    number of questions it asks."""
    seen, repeated = {}, {}
    for path, values in changes.items():
        normalised = np.round(np.asarray(values, dtype=np.float64), 9) + 0.0  # + 0.0: -0.0 becomes 0.0
        key, negated = normalised.tobytes(), (-normalised + 0.0).tobytes()
        if key in seen or negated in seen:
            repeated[path] = seen.get(key, seen.get(negated))
        else:
            seen[key] = path
    return repeated


def adjust_without_repeats(audit: dict, repeated: dict[tuple, tuple], method: str, find) -> int:
    """adjust_family over the tests that are asked once (`repeated`: {path: path of the test it repeats}, paths of
    holders with one p-value each; `find(audit, path)` is the holder)."""
    repeats = [
        (find(audit, path), None, find(audit, original), None, " / ".join(original))
        for path, original in repeated.items()
    ]
    return adjust_family_once(audit, repeats, method)


def adjust_family_once(audit: dict, repeats: list[tuple], method: str) -> int:
    """adjust_family over the tests that are asked once; each repeat then takes the adjusted p-value and verdict of
    the test it repeats, and names it (`same_test_as`). `repeats`: (holder, metric, twin holder, twin metric, twin's
    name), metric None where the holder's p_value is one number, else the key of its dict of p-values."""
    held = [slot_value(holder, "p_value", metric) for holder, metric, *_ in repeats]
    for holder, metric, *_ in repeats:
        set_slot(holder, "p_value", metric, None)
    family_size = adjust_family(audit, method)
    for (holder, metric, twin, twin_metric, name), p_value in zip(repeats, held):
        set_slot(holder, "p_value", metric, p_value)
        for key in ("adjusted_p_value", "distinguishable_from_zero"):
            set_slot(holder, key, metric, slot_value(twin, key, twin_metric))
        set_slot(holder, "same_test_as", metric, name)
    return family_size


def slot_value(holder: dict, key: str, metric: str | None):
    return holder.get(key) if metric is None else (holder.get(key) or {}).get(metric)


def set_slot(holder: dict, key: str, metric: str | None, value) -> None:
    if metric is None:
        holder[key] = value
    else:
        holder.setdefault(key, {})[metric] = value
