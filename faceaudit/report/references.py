"""Published reference numbers (a dataset's `published_results`) beside the study's own: in the data section as the
sources state them, and on a run page with the run's value of the same quantity where it has one. A comparison
metric is set beside the run's only where the entry states its population (`compared_with`: the rest, or one
reference group on the two groups' rows), and the run's value is computed for that same population from its group
rates; a published "Others vs White" is never set beside the run's "all non-White vs White"."""

from faceaudit.report.render import number

AIF360_METRICS = (
    "disparate_impact",
    "statistical_parity_difference",
    "equal_opportunity_difference",
    "average_odds_difference",
)
UNSTATED_POPULATION = (
    "not compared: the source's comparison population is not stated (give `compared_with`: rest, or the reference "
    "group)"
)


def published_rows(published: list[dict]) -> list[dict]:
    """The dataset's published results as the data section lists them."""
    return [
        {
            "source": entry["source"],
            "url": entry.get("url"),
            "table": entry.get("table") or "",
            "what": described(entry),
            "value": f"{entry['value']:g}",
            "caveat": entry.get("split_caveat") or "",
        }
        for entry in published
    ]


def described(entry: dict) -> str:
    """E.g. "accuracy of gender" or "disparate_impact of gender, race Others vs White (on their rows only)"."""
    text = entry["metric"] + (f" of {entry['target']}" if entry.get("target") else "")
    if entry.get("attribute"):
        text += f", {entry['attribute']}" + (f" {entry['group']}" if entry.get("group") else "")
    elif entry.get("group"):
        text += f", group {entry['group']}"
    compared_with = entry.get("compared_with")
    if compared_with == "rest":
        text += " vs the rest (all other rows)"
    elif compared_with:
        text += f" vs {compared_with} (on the rows of the two groups only)"
    elif entry["metric"] in AIF360_METRICS:
        text += " (population not stated)"
    return text


def run_references(published: list[dict], run_targets, metrics: dict, fairness: dict) -> list[dict]:
    """The published results about this run's targets (or about no one target), each with this run's value of the
    same metric per eval set where the run measured it ("not measured" where not)."""
    rows = []
    for entry in published:
        target = entry.get("target")
        if target is not None and target not in run_targets:
            continue
        if entry["metric"] in AIF360_METRICS and not entry.get("compared_with"):
            ours = UNSTATED_POPULATION
        else:
            ours = "; ".join(
                f"{eval_set}: {number(value)}"
                for eval_set in metrics
                if (value := own_value(entry, metrics[eval_set], fairness[eval_set])) is not None
            )
        rows.append(published_rows([entry])[0] | {"ours": ours or "not measured here"})
    return rows


def own_value(entry: dict, metrics: dict, fairness: dict):
    """The run's value of the entry's metric for its target (and attribute and group), or None."""
    target, metric = entry.get("target"), entry["metric"]
    if target is None or target not in metrics:
        return None
    attribute, group = entry.get("attribute"), entry.get("group")
    if attribute is None and group is None:
        value = metrics[target].get(metric)
        return value if isinstance(value, int | float) else None
    audit = fairness.get(target, {}).get(attribute or "", {})
    if not audit:
        return None
    if metric in AIF360_METRICS:
        if entry["compared_with"] == "rest":
            return audit.get("vs_rest", {}).get(group, {}).get(metric)
        groups = audit["groups"]
        return pairwise(metric, groups.get(group, {}), groups.get(entry["compared_with"], {}))
    return audit["groups"].get(group, {}).get(metric)


def pairwise(metric: str, group: dict, reference: dict) -> float | None:
    """aif360's metric of `group` (the unprivileged side) against `reference`, on the two groups' rows only, from
    their selection rates, TPRs and FPRs; None where a rate is missing (too few rows) or a ratio undefined."""
    rates = [(side.get("selection_rate"), side.get("tpr"), side.get("fpr")) for side in (group, reference)]
    (selection, tpr, fpr), (reference_selection, reference_tpr, reference_fpr) = rates
    values = {
        "disparate_impact": (selection, reference_selection),
        "statistical_parity_difference": (selection, reference_selection),
        "equal_opportunity_difference": (tpr, reference_tpr),
        "average_odds_difference": (tpr, reference_tpr, fpr, reference_fpr),
    }[metric]
    if any(value is None for value in values):
        return None
    if metric == "disparate_impact":
        return selection / reference_selection if reference_selection else None
    if metric == "average_odds_difference":
        return ((fpr - reference_fpr) + (tpr - reference_tpr)) / 2
    return values[0] - values[1]
