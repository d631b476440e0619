"""The accuracy-fairness trade-off: every run and every mitigation as a point of accuracy against a fairness gap.

Per dataset, target, eval set and audited attribute: each run's accuracy (x) against each gap (y) -- the largest
accuracy gap between groups, |equal opportunity difference| and |1 - disparate impact| of all other groups against
the privileged group -- with 95% intervals on both axes. A configuration trained with several seeds is one point at
the mean of its seeds (interval from faceaudit.evaluation.seeds, covering retraining and test rows) with each seed
drawn faintly; a run trained once is its own point (accuracy: Wilson interval over the eval set's rows; gaps: the
audit's bootstrap intervals). The Pareto front (no other point has both higher accuracy and a smaller gap) is marked.
"""

import numpy as np
from scipy.stats import norm

from faceaudit.figures import plt, png_data_uri
from faceaudit.report.overview import run_page_link

GAPS = {
    "accuracy_gap": "largest accuracy gap between groups",
    "equal_opportunity": "|equal opportunity difference| vs the privileged group",
    "disparate_impact": "|1 - disparate impact| vs the privileged group",
}
LABELLED_POINTS = 8
# What each kind of method does when the model is used: what a deployment of it needs.
DECISION_NOTES = {
    "baseline": "One model, one threshold (the class with the highest score).",
    "loss weighting": "Changes training only: at decision time the model is used as it is, no group needed.",
    "in-training": "Changes training only (group DRO, adversary or MMD penalty): at decision time the model is used "
    "as it is, no group needed.",
    "post-processing": "Changes decisions after the model: group-specific (and, for equalized odds, randomised) "
    "thresholds or label flips, so the group must be known at prediction time, and two people with the same score "
    "can get different decisions.",
}


def mitigation_of(run: dict) -> tuple[str, str]:
    """(kind, label) of how a run tries to be fair: baseline, loss weighting, in-training or post-processing."""
    post = run.get("post_processing")
    if post:
        detail = ", ".join(str(post[key]) for key in ("method", "constraint") if post.get(key))
        return "post-processing", f"post-processing: {detail}"
    training = run.get("training", {})
    mitigation = training.get("mitigation") or {}
    if mitigation.get("method", "none") != "none":
        return "in-training", f"in-training: {mitigation['method']}"
    weighting = training.get("loss_weighting", {}).get("method", "none")
    if weighting != "none":
        return "loss weighting", f"loss weighting: {weighting}"
    return "baseline", "baseline"


def tradeoff_section(runs: dict, results: dict, seeds: dict | None, configurations: dict[str, list[str]]) -> dict:
    """The trade-off section's figures and tables (None where no eval set has two points to compare)."""
    seeded = {run: configuration for configuration, names in configurations.items() for run in names}
    aggregates = (seeds or {}).get("aggregates", {})
    points_by_key = {}
    for name, run in runs.items():
        configuration = seeded.get(name)
        if configuration is not None and name != configurations[configuration][0]:
            continue  # one point per configuration trained with several seeds
        for eval_set in run["eval_sets"]:
            for target in run["targets"]:
                for attribute, point in run_points(
                    name,
                    run,
                    results[name],
                    eval_set,
                    target,
                    configuration,
                    aggregates.get(configuration, {}).get(eval_set),
                ):
                    points_by_key.setdefault((run["dataset"], target, eval_set, attribute), []).append(point)
    sections = [comparison(key, points) for key, points in sorted(points_by_key.items()) if len(points) > 1]
    if not sections:
        return None
    kinds = sorted({point["kind"] for section in sections for point in section["points"]})
    return {"sections": sections, "notes": [{"kind": kind, "note": DECISION_NOTES[kind]} for kind in kinds]}


def run_points(name, run, result, eval_set, target, configuration, aggregate):
    """(attribute, point) for every attribute the run's audit compared on this eval set and target."""
    metrics = result["metrics"].get(eval_set, {}).get(target, {})
    audit = result["fairness"].get(eval_set, {}).get(target, {})
    if metrics.get("kind") == "regression" or "accuracy" not in metrics:
        return
    kind, label = mitigation_of(run)
    for attribute, audited in audit.items():
        if attribute in ("skipped_attributes",) or not isinstance(audited, dict) or "groups" not in audited:
            continue
        point = {"kind": kind, "mitigation": label, "link": run_page_link(name)}
        if aggregate is not None and target in aggregate:
            point |= seeded_values(aggregate[target], attribute, configuration)
        else:
            point |= single_run_values(metrics, audited, name)
        yield attribute, point


def single_run_values(metrics: dict, audited: dict, name: str) -> dict:
    privileged = audited.get("privileged") or {}
    intervals = privileged.get("ci") or {}
    return {
        "label": name,
        "seeds": 1,
        "accuracy": {"value": metrics["accuracy"], "ci": wilson(metrics["accuracy"], metrics["n"]), "seeds": []},
        "gaps": {
            "accuracy_gap": {"value": audited.get("accuracy_gap"), "ci": audited.get("accuracy_gap_ci"), "seeds": []},
            "equal_opportunity": distance_from(
                0.0, privileged.get("equal_opportunity_difference"), intervals.get("equal_opportunity_difference"), []
            ),
            "disparate_impact": distance_from(
                1.0, privileged.get("disparate_impact"), intervals.get("disparate_impact"), []
            ),
        },
    }


def seeded_values(audit: dict, attribute: str, configuration: str) -> dict:
    audited = audit.get("attributes", {}).get(attribute, {})
    privileged = audited.get("privileged", {})
    accuracy = audit["overall"]["accuracy"]
    gap = audited.get("accuracy_gap", {})
    return {
        "label": configuration,
        "seeds": len(accuracy["per_seed"]),
        "accuracy": {"value": accuracy["mean"], "ci": accuracy["ci"], "seeds": seed_values(accuracy)},
        "gaps": {
            "accuracy_gap": {"value": gap.get("mean"), "ci": gap.get("ci"), "seeds": seed_values(gap)},
            "equal_opportunity": summary_distance(0.0, privileged.get("equal_opportunity_difference")),
            "disparate_impact": summary_distance(1.0, privileged.get("disparate_impact")),
        },
    }


def seed_values(summary: dict) -> list[float]:
    return [value for value in summary.get("per_seed", {}).values() if value is not None]


def summary_distance(reference: float, summary: dict | None) -> dict:
    if not summary:
        return {"value": None, "ci": None, "seeds": []}
    seeds = [abs(value - reference) for value in seed_values(summary)]
    return distance_from(reference, summary.get("mean"), summary.get("ci"), seeds)


def distance_from(reference: float, value, interval, seeds: list[float]) -> dict:
    """|value - reference| and the interval of that distance: from 0 where the interval spans the reference."""
    if value is None:
        return {"value": None, "ci": None, "seeds": seeds}
    if not interval:
        return {"value": abs(value - reference), "ci": None, "seeds": seeds}
    low, high = (value_ - reference for value_ in interval)
    bounds = [0.0 if low <= 0 <= high else min(abs(low), abs(high)), max(abs(low), abs(high))]
    return {"value": abs(value - reference), "ci": bounds, "seeds": seeds}


def wilson(rate: float, rows: int, confidence: float = 0.95) -> list[float] | None:
    """Wilson score interval of a proportion measured on `rows` rows."""
    if not rows:
        return None
    z = norm.ppf(1 - (1 - confidence) / 2)
    centre = (rate + z**2 / (2 * rows)) / (1 + z**2 / rows)
    half = z / (1 + z**2 / rows) * np.sqrt(rate * (1 - rate) / rows + z**2 / (4 * rows**2))
    return [float(centre - half), float(centre + half)]


def pareto_front(points: list[tuple[float, float]]) -> list[bool]:
    """For each (accuracy, gap): True where no other point has accuracy at least as high and a gap at least as
    small, one of them strictly."""
    return [
        not any((other_x >= x and other_y <= y) and (other_x > x or other_y < y) for other_x, other_y in points)
        for x, y in points
    ]


def comparison(key: tuple, points: list[dict]) -> dict:
    dataset, target, eval_set, attribute = key
    title = f"{dataset}: {target} on {eval_set}, groups of {attribute}"
    panels = []
    for gap, gap_label in GAPS.items():
        shown = [point for point in points if point["gaps"][gap]["value"] is not None]
        if len(shown) < 2:
            continue
        front = pareto_front([(point["accuracy"]["value"], point["gaps"][gap]["value"]) for point in shown])
        rows = [
            {
                "label": point["label"],
                "link": point["link"],
                "mitigation": point["mitigation"],
                "seeds": point["seeds"],
                "accuracy": point["accuracy"]["value"],
                "accuracy_ci": point["accuracy"]["ci"],
                "gap": point["gaps"][gap]["value"],
                "gap_ci": point["gaps"][gap]["ci"],
                "pareto": on_front,
            }
            for point, on_front in zip(shown, front)
        ]
        if len({point["seeds"] > 1 for point in shown}) > 1:  # one runs beside means of seeds: say which is which
            for row in rows:
                row["pareto"] = row["pareto"] and ("yes (one run)" if row["seeds"] == 1 else "yes (mean of seeds)")
        panels.append({"gap": gap_label, "rows": rows, "figure": tradeoff_figure(shown, gap, gap_label, front, title)})
    return {"title": title, "points": points, "panels": panels}


def tradeoff_figure(points: list[dict], gap: str, gap_label: str, front: list[bool], title: str) -> dict:
    """Accuracy (x) against the gap (y), intervals as error bars, coloured by kind of method (one legend entry each:
    a figure of 500 runs stays readable and quick to draw), seeds faint, the Pareto front joined; the table below the
    figure names every point."""
    figure, axes = plt.subplots(figsize=(13.0, 5.5))  # at 80 dpi about the width of a 1,400 px page
    kinds = sorted({point["kind"] for point in points})
    for kind_index, kind in enumerate(kinds):
        chosen = [point for point in points if point["kind"] == kind]
        x = np.array([point["accuracy"]["value"] for point in chosen], dtype=float)
        y = np.array([point["gaps"][gap]["value"] for point in chosen], dtype=float)
        single = np.array([point["seeds"] == 1 for point in chosen])
        for runs, marker, fill in ((~single, "o", "full"), (single, "D", "none")):  # one run: a hollow diamond
            if runs.any():
                axes.errorbar(
                    x[runs],
                    y[runs],
                    xerr=error_bars(x[runs], [point["accuracy"]["ci"] for point, one in zip(chosen, runs) if one]),
                    yerr=error_bars(y[runs], [point["gaps"][gap]["ci"] for point, one in zip(chosen, runs) if one]),
                    fmt=marker,
                    fillstyle=fill,
                    color=f"C{kind_index}",
                    capsize=2,
                    label=f"{kind} ({'one run' if marker == 'D' else 'mean of seeds'})",
                )
        seeds = [
            (seed_x, seed_y)
            for point in chosen
            if len(point["accuracy"]["seeds"]) == len(point["gaps"][gap]["seeds"])
            for seed_x, seed_y in zip(point["accuracy"]["seeds"], point["gaps"][gap]["seeds"])
        ]
        if seeds:
            axes.scatter(*zip(*seeds), color=f"C{kind_index}", alpha=0.35, s=12)
    if len(points) <= LABELLED_POINTS:  # few points: name each; many: the table below names them
        for point in points:
            axes.annotate(
                point["label"],
                (point["accuracy"]["value"], point["gaps"][gap]["value"]),
                fontsize=6,
                xytext=(4, 4),
                textcoords="offset points",
            )
    on_front = sorted(
        (point["accuracy"]["value"], point["gaps"][gap]["value"]) for point, is_front in zip(points, front) if is_front
    )
    axes.plot(
        *zip(*on_front),
        linestyle="--",
        marker="o",
        fillstyle="none",
        color="black",
        linewidth=0.8,
        markersize=9,
        label="Pareto front",
    )
    axes.set_xlabel("accuracy (higher is better)")
    axes.set_ylabel(f"{gap_label}\n(lower is fairer)", fontsize=8)
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return {"alt": f"trade-off: {title}, {gap_label}", "src": png_data_uri(figure)}


def error_bars(values: np.ndarray, intervals: list) -> np.ndarray:
    """(2, n) distances below and above each value; 0 where a point has no interval."""
    low = np.array([values[index] if not ci else ci[0] for index, ci in enumerate(intervals)], dtype=float)
    high = np.array([values[index] if not ci else ci[1] for index, ci in enumerate(intervals)], dtype=float)
    return np.vstack([np.clip(values - low, 0, None), np.clip(high - values, 0, None)])
