"""A model card per run, written from the run's own files: what it is for, its data, metrics, fairness findings."""

from faceaudit.evaluation.fairness import TESTED_AIF360_METRICS
from faceaudit.labels import NUMERIC
from faceaudit.report.adjustment import adjustment_text, family_of, of_metric, verdict
from faceaudit.report.audited import audited_model_line, is_audited_run
from faceaudit.report.cells import p_value_text
from faceaudit.report.fairness_tables import AIF360_NAMES
from faceaudit.report.overview import audited_attributes, privileged_label
from faceaudit.report.render import interval_text, number

LIMITATIONS = (
    "Demographic labels are the dataset's own words and categories. They cannot capture what they leave out: "
    "gender recorded as binary, coarse race or group categories that hide variation within them, and ages that "
    "are annotators' estimates binned into ranges. A fairness gap measured here is a gap between these recorded "
    "categories on this data, not a property of people."
)
UNCERTAINTY = (
    "Every figure comes from one training run with one seed. Confidence intervals are 95% bootstrap intervals over "
    "the evaluation set's rows: they show how much a figure would move with another sample of test images, not how "
    "much it would move with another training run."
)

AUDITED_UNCERTAINTY = (
    "Every figure comes from one model trained elsewhere. Confidence intervals are 95% bootstrap intervals over the "
    "evaluation set's rows: they show how much a figure would move with another sample of test images; how much it "
    "would move with another training run of that model this audit cannot tell."
)

# The index's banner: the overview's figures are single runs'; where the page also shows seed aggregates, it says so.
INDEX_UNCERTAINTY = (
    "Each run's figures come from one training run with one seed. Its confidence intervals are 95% bootstrap "
    "intervals over the evaluation set's rows: they show how much a figure would move with another sample of test "
    "images, not how much it would move with another training run."
)
INDEX_SEEDS_UNCERTAINTY = (
    ' The section "Across training seeds" gives the configurations trained with several seeds as one: their means '
    "and intervals cover retraining too."
)


def index_uncertainty(with_seeds: bool) -> str:
    return INDEX_UNCERTAINTY + (INDEX_SEEDS_UNCERTAINTY if with_seeds else "")


SEEDS_UNCERTAINTY = (
    "The figures above come from this one training run; the variance across its configuration's seeds is given "
    "below. Confidence intervals of this run are 95% bootstrap intervals over the evaluation set's rows; those across "
    "seeds cover retraining too."
)


def fairness_findings(fairness: dict, positive_classes: dict | None = None) -> list[str]:
    """Plain sentences: per (target, attribute) the worst group, the groups left out for too few rows, every gap
    that is distinguishable from zero after adjusting for the audit's many comparisons, the four-fifths rule and the
    configured privileged comparison; per target, how many gaps were tested and flagged in its family of
    comparisons. `positive_classes` names each binary target's positive class."""
    findings = []
    for target, by_attribute in fairness.items():
        positive = (positive_classes or {}).get(target)
        for attribute, audit in audited_attributes(by_attribute):
            findings += excluded_findings(target, attribute, audit)
            if audit["best_group"] is None:
                findings.append(f"{target} by {attribute}: fewer than two groups with enough test rows to compare.")
                continue
            best, worst = audit["best_group"], audit["worst_group"]
            if "mae_spread" in audit:
                findings.append(
                    f"{target} by {attribute}: MAE ranges from {number(audit['groups'][best]['mae'], 3)} "
                    f"({best}) to {number(audit['groups'][worst]['mae'], 3)} ({worst})."
                )
            else:
                findings.append(
                    f"{target} by {attribute}: accuracy ranges from {number(audit['groups'][worst]['accuracy'], 3)} "
                    f"({worst}) to {number(audit['groups'][best]['accuracy'], 3)} ({best})."
                )
            findings += distinguishable_gaps(target, attribute, audit, positive)
            findings += privileged_findings(target, attribute, audit.get("privileged"), positive)
        findings += family_findings(target, by_attribute)
    return findings


def excluded_findings(target: str, attribute: str, audit: dict) -> list[str]:
    excluded = audit.get("excluded_groups") or []
    if not excluded:
        return []
    groups = ", ".join(f"{entry['group']} ({entry['size']} rows)" for entry in excluded)
    return [f"{target} by {attribute}: left out of gaps and flags for too few test rows: {groups}."]


def positive_text(positive: str | None) -> str:
    return f"positive class {positive}, " if positive is not None else ""


def adjusted_text(comparison: dict, metric: str | None = None) -> str:
    """E.g. "Holm-adjusted p 0.004" for a flagged gap."""
    return f"adjusted p {p_value_text(of_metric(comparison.get('adjusted_p_value'), metric))}"


def distinguishable_gaps(target: str, attribute: str, audit: dict, positive: str | None = None) -> list[str]:
    """The gaps this attribute's audit flags as distinguishable from zero after adjustment (never on an unadjusted
    interval alone), and the four-fifths rule failed either way."""
    sentences = []
    for group, comparison in {**audit.get("accuracy_vs_rest", {}), **audit.get("mae_vs_rest", {})}.items():
        if verdict(comparison):
            worse = comparison["difference"] < 0 if "accuracy_vs_rest" in audit else comparison["difference"] > 0
            quality = "less" if worse else "more"
            what = "classified" if "accuracy_vs_rest" in audit else "predicted"
            sentences.append(
                f"{target}: group {attribute}={group} is {what} {quality} accurately than the rest "
                f"({comparison['difference']:+.3f}, 95% CI {interval_text(comparison['ci'])}, "
                f"{adjusted_text(comparison)})."
            )
    for class_name, gaps in audit.get("class_tpr_gaps", {}).items():
        for group, comparison in gaps["tpr_vs_rest"].items():
            if verdict(comparison):
                sentences.append(
                    f"{target}: group {attribute}={group}, TPR of class {class_name} against the rest "
                    f"{comparison['difference']:+.3f} ({adjusted_text(comparison)})."
                )
    for group, comparison in audit.get("vs_rest", {}).items():
        flagged = [metric for metric in TESTED_AIF360_METRICS if verdict(comparison, metric)]
        if flagged:
            sentences.append(
                f"{target}: group {attribute}={group} against the rest, {positive_text(positive)}"
                + "; ".join(
                    f"{AIF360_NAMES[metric]} {comparison[metric]:+.3f} ({adjusted_text(comparison, metric)})"
                    for metric in flagged
                )
                + "."
            )
        if comparison["four_fifths_rule"] == "fails":
            chance = (
                "; the selection rates' difference is not distinguishable from zero after adjustment, so this may be "
                "chance"
                if verdict(comparison, "statistical_parity_difference") is False
                else ""
            )
            sentences.append(
                f"{target}: group {attribute}={group} fails the four-fifths rule "
                f"({positive_text(positive)}disparate impact {number(comparison['disparate_impact'], 3)}"
                f"{four_fifths_side(comparison)}{chance})."
            )
    return sentences


def four_fifths_side(comparison: dict) -> str:
    flag = comparison.get("four_fifths_flag")
    return {"below": ", below 0.8", "above": ", above 1.25"}.get(flag, "")


def family_findings(target: str, by_attribute: dict) -> list[str]:
    """How many of the target's gaps were tested and how many flagged, in how large a family; where none is
    flagged, the smallest accuracy gap the groups' sizes could have detected, so that "no gap found" reads right."""
    family = family_of(by_attribute)
    if family is None:
        return []
    if family["family_size"] == 0:
        return [f"{target}: no gap could be tested against zero (every comparison lacked test rows)."]
    flagged = sum(bool(flag) for _, audit in audited_attributes(by_attribute) for flag in flags_of(audit))
    counted = "no gap" if flagged == 0 else f"{flagged} gap{'' if flagged == 1 else 's'}"
    sentence = f"{target}: {counted} {adjustment_text(family)}"
    if flagged:
        return [sentence + "."]
    detectable = [
        scores["min_detectable_accuracy_gap"]
        for _, audit in audited_attributes(by_attribute)
        for scores in audit["groups"].values()
        if scores.get("min_detectable_accuracy_gap") is not None
    ]
    if detectable:
        low, high = number(min(detectable), 3), number(max(detectable), 3)
        sizes = low if low == high else f"{low} to {high}"
        sentence += (
            f"; with these test sizes only accuracy gaps of about {sizes} or more could be detected (power 0.8), "
            "so smaller gaps may exist unseen"
        )
    return [sentence + "."]


def flags_of(node):
    """Every distinguishable_from_zero verdict in an attribute's audit (one per tested gap)."""
    if isinstance(node, dict):
        flags = node.get("distinguishable_from_zero")
        if isinstance(flags, dict):
            yield from flags.values()
        elif flags is not None:
            yield flags
        for key, value in node.items():
            if key != "distinguishable_from_zero":
                yield from flags_of(value)


def privileged_findings(target: str, attribute: str, privileged: dict | None, positive: str | None) -> list[str]:
    """The comparison of all other groups with the configured privileged group: disparate impact and statistical
    parity difference with their intervals, whether the latter is distinguishable from zero after adjustment, and
    the four-fifths rule's verdict."""
    if not privileged:
        return []
    label = f"{target} by {attribute}, {privileged_label(privileged['privileged_group'])}"
    if "disparate_impact" not in privileged:
        return [f"{label}: not compared, {privileged.get('note', 'no values')}."]
    intervals = privileged.get("ci", {})
    verdict_text = privileged["four_fifths_rule"]
    parity = "statistical_parity_difference"
    flag = verdict(privileged, parity)
    adjusted = (
        ""
        if flag is None
        else f" ({'' if flag else 'not '}distinguishable from zero, {adjusted_text(privileged, parity)})"
    )
    flagged = [metric for metric in TESTED_AIF360_METRICS if metric != parity and verdict(privileged, metric)]
    return [
        f"{label}: {positive_text(positive)}disparate impact {number(privileged['disparate_impact'], 3)} "
        f"{interval_text(intervals.get('disparate_impact'))}, statistical parity difference "
        f"{number(privileged[parity], 3)} {interval_text(intervals.get(parity))}{adjusted}"
        + (f"; the four-fifths rule {verdict_text}{four_fifths_side(privileged)}." if verdict_text else "."),
        *(
            f"{label}: {positive_text(positive)}{AIF360_NAMES[metric]} {privileged[metric]:+.3f} "
            f"({adjusted_text(privileged, metric)})."
            for metric in flagged
        ),
    ]


def metric_summary(values: dict) -> str:
    if values["kind"] == "regression":
        return (
            f"MAE {number(values['mae'], 3)}, RMSE {number(values['rmse'], 3)}, "
            f"mean error {number(values['mean_error'], 3)}"
        )
    return (
        f"accuracy {number(values['accuracy'], 3)}, balanced accuracy {number(values['balanced_accuracy'], 3)}, "
        f"F1 {number(values['f1'], 3)}, AUC {number(values['roc']['auc'], 3)}"
    )


def target_description(target: str, classes) -> str:
    """The target and its classes, e.g. gender (Female, Male); a numeric target says so instead."""
    if classes == NUMERIC:
        return f"{target} (numeric, regression)"
    return f"{target} ({', '.join(classes)})"


def metric_line(eval_set: str, target: str, values: dict) -> str:
    positive = values.get("positive_class") if values["kind"] == "binary" else None
    name = f"{target} (positive class {positive})" if positive is not None else target
    return f"{eval_set}, {name}: {metric_summary(values)}"


def model_card(
    run: dict, info: dict, metrics: dict, fairness: dict, split_sizes: dict, seed_lines: list[str] | None = None
) -> dict:
    """The card's sentences: what the model is, what it is for, its data, its metrics and fairness findings, its
    limitations (rendered by model_card.html); `seed_lines` what its configuration's seeds show together
    (faceaudit.report.seeds.card_lines), None for a run trained with one seed only."""
    targets = ", ".join(target_description(target, classes) for target, classes in run["targets"].items())
    metric_lines = [
        metric_line(eval_set, target, values)
        for eval_set, by_target in metrics.items()
        for target, values in by_target.items()
    ]
    findings = [
        finding
        for eval_set, audit in fairness.items()
        for finding in (
            f"[{eval_set}] {sentence}"
            for sentence in fairness_findings(audit, positive_classes_of(metrics.get(eval_set, {})))
        )
    ]
    sections = {
        "Model": model_line(run, info),
        "Intended use": f"Research and teaching: measuring how accurately, and how evenly across groups, a classifier "
        f"of the recorded {', '.join(run['targets'])} performs on the dataset {run['dataset']}. "
        "Not for decisions about people, and not for inferring anyone's gender, age or group identity.",
        "Data": f"Dataset {run['dataset']}; images per split: "
        + ", ".join(f"{split} {count}" for split, count in split_sizes.items())
        + f". Targets: {targets}.",
    }
    return {
        "sections": sections,
        "metric_lines": metric_lines,
        "findings": findings,
        "limitations": LIMITATIONS,
        "uncertainty": AUDITED_UNCERTAINTY if is_audited_run(run) else SEEDS_UNCERTAINTY if seed_lines else UNCERTAINTY,
        "seed_lines": seed_lines or [],
    }


def model_line(run: dict, info: dict) -> str:
    if is_audited_run(run):
        return audited_model_line(run, info)
    return (
        f"{run['model']} ({info['parameters']:,} parameters), input {run['image_size']}x{run['image_size']} "
        f"{run['color']}, trained {info['epochs_completed']} epochs with seed {run['seed']}."
    )


def positive_classes_of(metrics: dict) -> dict:
    """Each binary target's positive class, from one eval set's metrics."""
    return {target: values["positive_class"] for target, values in metrics.items() if values.get("positive_class")}
