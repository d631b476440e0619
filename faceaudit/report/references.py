"""Published reference numbers (a dataset's `published_results`) beside the study's own: in the data section as the
sources state them, and on a run page with the run's value of the same metric where it has one."""

from faceaudit.report.render import number

AIF360_METRICS = (
    "disparate_impact",
    "statistical_parity_difference",
    "equal_opportunity_difference",
    "average_odds_difference",
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
    """E.g. "accuracy of gender" or "disparate_impact of gender, race Others vs the privileged group"."""
    text = entry["metric"] + (f" of {entry['target']}" if entry.get("target") else "")
    if entry.get("attribute"):
        text += f", {entry['attribute']}" + (f" {entry['group']}" if entry.get("group") else "")
    elif entry.get("group"):
        text += f", group {entry['group']}"
    return text


def run_references(published: list[dict], run_targets, metrics: dict, fairness: dict) -> list[dict]:
    """The published results about this run's targets (or about no one target), each with this run's value of the
    same metric per eval set where the run measured it ("not measured" where not)."""
    rows = []
    for entry in published:
        target = entry.get("target")
        if target is not None and target not in run_targets:
            continue
        ours = [
            f"{eval_set}: {number(value)}"
            for eval_set in metrics
            if (value := own_value(entry, metrics[eval_set], fairness[eval_set])) is not None
        ]
        rows.append(published_rows([entry])[0] | {"ours": "; ".join(ours) or "not measured here"})
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
        privileged = audit.get("privileged", {})
        if "privileged_group" in privileged and privileged.get(metric) is not None:
            return privileged[metric]
        return audit.get("vs_rest", {}).get(group, {}).get(metric)
    return audit["groups"].get(group, {}).get(metric)
