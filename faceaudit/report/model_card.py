"""A model card per run, written from the run's own files: what it is for, its data, metrics, fairness findings."""

from faceaudit.labels import NUMERIC
from faceaudit.report.overview import privileged_label
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


def fairness_findings(fairness: dict, positive_classes: dict | None = None) -> list[str]:
    """Plain sentences: per (target, attribute) the worst group, every gap the data can tell from zero, and the
    configured privileged comparison. `positive_classes` names each binary target's positive class."""
    findings = []
    for target, by_attribute in fairness.items():
        positive = (positive_classes or {}).get(target)
        for attribute, audit in by_attribute.items():
            if attribute == "skipped_attributes":
                continue
            if audit["best_group"] is None:
                findings.append(f"{target} by {attribute}: fewer than two groups with enough test rows to compare.")
                continue
            if "mae_spread" in audit:
                best, worst = audit["best_group"], audit["worst_group"]
                findings.append(
                    f"{target} by {attribute}: MAE ranges from {number(audit['groups'][best]['mae'], 3)} "
                    f"({best}) to {number(audit['groups'][worst]['mae'], 3)} ({worst})."
                )
                continue
            best, worst = audit["best_group"], audit["worst_group"]
            findings.append(
                f"{target} by {attribute}: accuracy ranges from {number(audit['groups'][worst]['accuracy'], 3)} "
                f"({worst}) to {number(audit['groups'][best]['accuracy'], 3)} ({best})."
            )
            findings += distinguishable_gaps(target, attribute, audit, positive)
            findings += privileged_findings(target, attribute, audit.get("privileged"), positive)
    return findings


def positive_text(positive: str | None) -> str:
    return f"positive class {positive}, " if positive is not None else ""


def distinguishable_gaps(target: str, attribute: str, audit: dict, positive: str | None = None) -> list[str]:
    sentences = []
    for group, comparison in audit.get("accuracy_vs_rest", {}).items():
        low_high = comparison["ci"]
        if low_high and (low_high[1] < 0 or low_high[0] > 0):
            direction = "less" if comparison["difference"] < 0 else "more"
            sentences.append(
                f"{target}: group {attribute}={group} is classified {direction} accurately than the rest "
                f"({comparison['difference']:+.3f}, 95% CI {interval_text(low_high)})."
            )
    for group, comparison in audit.get("vs_rest", {}).items():
        if comparison["four_fifths_rule"] == "fails":
            sentences.append(
                f"{target}: group {attribute}={group} fails the four-fifths rule "
                f"({positive_text(positive)}disparate impact {number(comparison['disparate_impact'], 3)})."
            )
    return sentences


def privileged_findings(target: str, attribute: str, privileged: dict | None, positive: str | None) -> list[str]:
    """The comparison of all other groups with the configured privileged group: disparate impact and statistical
    parity difference with their intervals, and the four-fifths rule's verdict."""
    if not privileged:
        return []
    label = f"{target} by {attribute}, {privileged_label(privileged['privileged_group'])}"
    if "disparate_impact" not in privileged:
        return [f"{label}: not compared, {privileged.get('note', 'no values')}."]
    intervals = privileged.get("ci", {})
    verdict = privileged["four_fifths_rule"]
    return [
        f"{label}: {positive_text(positive)}disparate impact {number(privileged['disparate_impact'], 3)} "
        f"{interval_text(intervals.get('disparate_impact'))}, statistical parity difference "
        f"{number(privileged['statistical_parity_difference'], 3)} "
        f"{interval_text(intervals.get('statistical_parity_difference'))}"
        + (f"; the four-fifths rule {verdict}." if verdict else ".")
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


def model_card(run: dict, info: dict, metrics: dict, fairness: dict, split_sizes: dict) -> dict:
    """The card's sentences: what the model is, what it is for, its data, its metrics and fairness findings, its
    limitations (rendered by model_card.html)."""
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
        "Model": f"{run['model']} ({info['parameters']:,} parameters), input {run['image_size']}x{run['image_size']} "
        f"{run['color']}, trained {info['epochs_completed']} epochs with seed {run['seed']}.",
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
        "uncertainty": UNCERTAINTY,
    }


def positive_classes_of(metrics: dict) -> dict:
    """Each binary target's positive class, from one eval set's metrics."""
    return {target: values["positive_class"] for target, values in metrics.items() if values.get("positive_class")}
