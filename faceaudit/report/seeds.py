"""The report's view across training seeds: per configuration trained with several seeds, each eval set and target,
the mean, the spread across seeds, the interval covering retraining and test rows, and the flags after adjustment
(faceaudit.evaluation.seeds); seeds drawn as points beside each bar."""

import json
from pathlib import Path

import numpy as np

from faceaudit.evaluation.seeds import METHOD as MEAN_AND_WELCH_T
from faceaudit.figures import plt, png_data_uri
from faceaudit.report.fairness_tables import AIF360_NAMES
from faceaudit.report.overview import run_page_link
from faceaudit.report.render import interval_text, number

GAP_KINDS = {
    "accuracy_vs_rest": "accuracy, group minus the rest",
    "mae_vs_rest": "MAE, group minus the rest",
    "vs_rest": "against the rest",
    "privileged": "against the privileged group",
    "class_tpr_vs_rest": "TPR of a class, group minus the rest",
}


# What the page says of an interval method, by the `method` an aggregate file records: the page describes the method
# that made the numbers, and says so where it does not know it (a file from another version).
INTERVAL_METHODS = {
    MEAN_AND_WELCH_T: (
        "a 95% interval around the mean of the seeds: mean ± t × standard error, whose variance adds the variance "
        "across seeds (divided by their number) to the variance over bootstrap resamples of the eval set's rows "
        "(shared by every seed), with t at the Welch-Satterthwaite degrees of freedom. With few seeds t is large (4.3 "
        "with three seeds where retraining dominates): three values say little about how much a model moves between "
        "seeds, and the interval is wide accordingly"
    ),
}


def interval_method_text(methods: set[str]) -> str:
    """The sentence describing the intervals of the aggregates shown, from the method each file records."""
    known = [INTERVAL_METHODS[method] for method in sorted(methods) if method in INTERVAL_METHODS]
    unknown = sorted(method for method in methods if method not in INTERVAL_METHODS)
    parts = known + [f"as the result file records its method: {method!r}" for method in unknown]
    return "; ".join(parts) if parts else "no interval method recorded"


def seeds_section(files: dict, configurations: dict[str, list[str]], runs: dict) -> list[dict]:
    """The report's seeds section: one entry per configuration trained with several seeds."""
    aggregates = {
        configuration: {eval_set: json.loads(Path(path).read_text()) for eval_set, path in by_eval_set.items()}
        for configuration, by_eval_set in files.items()
    }
    section = [configuration_context(name, aggregates[name], configurations[name], runs) for name in aggregates]
    if not section:
        return None
    methods = {aggregate["method"] for by_eval_set in aggregates.values() for aggregate in by_eval_set.values()}
    return {
        "configurations": section,
        "interval_method": interval_method_text(methods),
        "aggregates": aggregates,
        "seed_runs": configurations,
        # Whether a family was adjusted step-down (Holm): the page then says why a flag can sit beside a family
        # interval that touches zero.
        "step_down": any(
            aggregate[target]["multiple_comparisons"]["method"] == "holm"
            for by_eval_set in aggregates.values()
            for aggregate in by_eval_set.values()
            for target in targets_of(aggregate)
        ),
        "comparisons": comparison_figures(aggregates, runs, configurations),
        "card_lines": {
            run: card_lines(run, configuration, aggregates[configuration], configurations[configuration])
            for configuration in aggregates
            for run in configurations[configuration]
        },
    }


def card_lines(run: str, configuration: str, by_eval_set: dict, seed_runs: list[str]) -> list[str]:
    """What the model card of one seed's run says of the variance across its configuration's seeds."""
    others = ", ".join(name for name in seed_runs if name != run)
    lines = [
        f"This run is one of {len(seed_runs)} training seeds of {configuration} (the others: {others}); its own "
        "figures are one draw of initialisation, batch order and augmentation. Across the seeds:"
    ]
    for eval_set, aggregate in by_eval_set.items():
        for target in targets_of(aggregate):
            audit = aggregate[target]
            main_metric = "accuracy" if "accuracy" in audit["overall"] else "mae"
            summary = audit["overall"][main_metric]
            lines.append(
                f"[{eval_set}] {target} {main_metric}: mean {number(summary['mean'])}, SD {number(summary['sd'])}, "
                f"range {number(summary['min'])} to {number(summary['max'])}, 95% interval covering retraining and "
                f"test rows {interval_text(summary['ci'])}."
            )
            lines.append(f"[{eval_set}] {target}: {flagged_sentence(audit)}")
    return lines


def flagged_sentence(audit: dict) -> str:
    family = audit["multiple_comparisons"]
    flagged = [row for row in gap_rows(audit, []) if row["flagged"]]
    adjustment = f"after {family['method']} adjustment (family of {family['family_size']} comparisons)"
    if not flagged:
        return f"no gap is distinguishable from zero across the seeds {adjustment}."
    gaps = "; ".join(
        f"{row['attribute']} {row['comparison']} {row['name']} {number(row['mean'])} {interval_text(row['ci'])}"
        for row in flagged
    )
    return f"distinguishable from zero across the seeds {adjustment}: {gaps}."


def configuration_context(name: str, by_eval_set: dict, seed_runs: list[str], runs: dict) -> dict:
    return {
        "configuration": name,
        "experiment": runs[seed_runs[0]]["experiment"],
        "runs": [{"name": run, "link": run_page_link(run)} for run in seed_runs],
        "sections": [
            target_context(eval_set, target, aggregate[target], aggregate["runs"])
            for eval_set, aggregate in by_eval_set.items()
            for target in targets_of(aggregate)
        ],
    }


def targets_of(aggregate: dict) -> list[str]:
    return [key for key, value in aggregate.items() if isinstance(value, dict) and "overall" in value]


def target_context(eval_set: str, target: str, audit: dict, seed_runs: list[str]) -> dict:
    family = audit["multiple_comparisons"]
    return {
        "eval_set": eval_set,
        "target": target,
        "family": family,
        "seed_runs": seed_runs,
        "overall": [summary_row(metric, summary, seed_runs) for metric, summary in audit["overall"].items()],
        "groups": group_rows(audit, seed_runs),
        "gaps": gap_rows(audit, seed_runs),
        "figure": group_figure(audit, f"{target} on {eval_set}: group accuracy, mean of seeds (bar) and each seed"),
    }


def summary_row(name: str, summary: dict, seed_runs: list[str]) -> dict:
    """A value's cells: per seed, mean, SD, min, max, 95% interval; greyed with the reason where withheld."""
    reason = summary.get("insufficient_reason")
    return {
        "name": name,
        "reason": reason,
        "per_seed": [summary["per_seed"].get(run) for run in seed_runs],
        "mean": summary["mean"],
        "sd": summary["sd"],
        "min": summary["min"],
        "max": summary["max"],
        "ci": summary["ci"],
    }


def group_rows(audit: dict, seed_runs: list[str]) -> list[dict]:
    rows = []
    for attribute, audited in audit.get("attributes", {}).items():
        for group, values in audited.get("groups", {}).items():
            for rate, summary in values.items():
                if isinstance(summary, dict):
                    row = summary_row(rate, summary, seed_runs)
                    rows.append(row | {"attribute": attribute, "group": group, "n": values.get("n")})
    return rows


def gap_rows(audit: dict, seed_runs: list[str]) -> list[dict]:
    """Every tested gap: the spread across seeds, how many seeds disagree in sign, both intervals, the adjusted
    p-value and the flag."""
    rows = []
    for attribute, audited in audit.get("attributes", {}).items():
        for kind, label in GAP_KINDS.items():
            for comparison, summary in tested_gaps(audited.get(kind, {})):
                row = summary_row(AIF360_NAMES.get(comparison[-1], comparison[-1]), summary, seed_runs)
                row |= {
                    "attribute": attribute,
                    "kind": label,
                    "comparison": " / ".join(comparison[:-1]),
                    "ci_family": summary.get("ci_family"),
                    "p_value": summary.get("p_value"),
                    "adjusted_p_value": summary.get("adjusted_p_value"),
                    "flagged": bool(summary.get("distinguishable_from_zero")),
                    "same_test_as": summary.get("same_test_as"),
                }
                rows.append(row)
    return rows


def tested_gaps(node: dict, path: tuple = ()) -> list[tuple[tuple, dict]]:
    """(path, summary) of every summary under `node` that was tested against zero (it has a p_value key)."""
    if "per_seed" in node:
        return [(path, node)] if "p_value" in node else []
    found = []
    for key, value in node.items():
        if isinstance(value, dict):
            found += tested_gaps(value, (*path, key))
    return found


def group_figure(audit: dict, title: str) -> dict | None:
    """Per attribute, each group's mean accuracy (bar, with its interval) and each seed's (points)."""
    bars = [
        (f"{attribute}: {group}", values["accuracy"])
        for attribute, audited in audit.get("attributes", {}).items()
        for group, values in audited.get("groups", {}).items()
        if isinstance(values.get("accuracy"), dict) and values["accuracy"]["mean"] is not None
    ]
    return seed_points_figure(bars, "accuracy", title) if bars else None


def comparison_figures(aggregates: dict, runs: dict, configurations: dict) -> list[dict]:
    """Per eval set and target shared by several configurations: each one's accuracy and largest group accuracy gap,
    mean (bar) and seeds (points), side by side."""
    by_key = {}
    for configuration, by_eval_set in aggregates.items():
        for eval_set, aggregate in by_eval_set.items():
            for target in targets_of(aggregate):
                by_key.setdefault((eval_set, target), []).append((configuration, aggregate[target]))
    figures = []
    for (eval_set, target), entries in by_key.items():
        if len(entries) < 2 or "accuracy" not in entries[0][1]["overall"]:
            continue
        accuracy = [(name, audit["overall"]["accuracy"]) for name, audit in entries]
        gaps = [
            (f"{name}: {attribute}", audited["accuracy_gap"])
            for name, audit in entries
            for attribute, audited in audit.get("attributes", {}).items()
            if audited.get("accuracy_gap", {}).get("mean") is not None
        ]
        title = f"{target} on {eval_set}"
        figures.append(
            {
                "title": title,
                "accuracy": seed_points_figure(accuracy, "accuracy", f"{title}: accuracy"),
                "gap": seed_points_figure(gaps, "best - worst group accuracy", f"{title}: largest group gap")
                if gaps
                else None,
            }
        )
    return figures


def seed_points_figure(bars: list[tuple[str, dict]], ylabel: str, title: str) -> dict:
    """Bars at the mean with the 95% interval, each seed's value a point beside its bar; an embedded PNG."""
    figure, axes = plt.subplots(figsize=(max(4.0, 0.7 * len(bars) + 2), 3.2))
    positions = np.arange(len(bars))
    means = [summary["mean"] for _, summary in bars]
    axes.bar(positions, means, color="#9ecae1", width=0.6)
    for position, (_, summary) in zip(positions, bars):
        if summary.get("ci"):
            low, high = summary["ci"]
            axes.plot([position, position], [low, high], color="black", linewidth=1)
        seeds = [value for value in summary["per_seed"].values() if value is not None]
        offsets = np.linspace(-0.15, 0.15, len(seeds)) if len(seeds) > 1 else [0.0]
        axes.scatter(position + 0.38 + np.asarray(offsets) * 0.3, seeds, color="#d62728", s=12, zorder=3)
    axes.set_xticks(positions, [label for label, _ in bars], rotation=30, ha="right")
    axes.set_ylabel(ylabel, fontsize=8)
    axes.set_title(title, fontsize=9)
    return {"alt": title, "src": png_data_uri(figure)}
