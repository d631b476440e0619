"""Figures of the calibration and threshold audits: a reliability diagram per (target, attribute), one panel per
group with its bootstrap band, and the rates and group-vs-rest differences of a binary target across thresholds."""

import math
from pathlib import Path

import numpy as np

from faceaudit.evaluation.thresholds import DIFFERENCES, RATES
from faceaudit.figures import plt, save

PANELS_PER_ROW = 4


def plot_calibration(calibration: dict, thresholds: dict, out_dir: Path) -> list[Path]:
    """Write reliability_<target>_<attribute>.png and, for binary targets, thresholds_<target>_<attribute>.png;
    return the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, audit, draw in (
        ("reliability", calibration, reliability_figure),
        ("thresholds", thresholds, threshold_figure),
    ):
        for target, attribute, result in audited_attributes(audit):
            path = out_dir / f"{kind}_{target}_{attribute}.png"
            save(draw(target, attribute, audit[target], result), path)
            written.append(path)
    return written


def audited_attributes(audit: dict) -> list[tuple[str, str, dict]]:
    """(target, attribute, result) for every attribute audited (a skipped target has none)."""
    return [
        (target, attribute, result)
        for target, target_result in audit.items()
        for attribute, result in target_result.get("attributes", {}).items()
    ]


def reliability_figure(target: str, attribute: str, target_result: dict, result: dict):
    """Observed rate against mean confidence per equal-width bin, the diagonal where they agree, the bootstrap band
    of the observed rate, one panel per group; each title gives the group's size and ECE with its interval."""
    names = list(result["groups"])
    columns = min(len(names), PANELS_PER_ROW)
    rows = math.ceil(len(names) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.6 * rows), squeeze=False)
    for axis, name in zip(axes.flat, names):
        draw_reliability(axis, result["groups"][name])
        ece, ci = result["groups"][name]["ece_equal_width"], result["groups"][name]["ece_equal_width_ci"]
        interval_text = f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""
        axis.set_title(f"{name} (n={result['groups'][name]['n']})\nECE {ece:.3f}{interval_text}", fontsize="small")
    for axis in list(axes.flat)[len(names) :]:
        axis.axis("off")
    figure.suptitle(f"calibration of {target} by {attribute}: {target_result['confidence']}", fontsize="medium")
    return figure


def draw_reliability(axis, group: dict) -> None:
    reliability = group["reliability"]
    filled = [index for index, count in enumerate(reliability["count"]) if count > 0]
    confidence = [reliability["confidence"][index] for index in filled]
    axis.plot([0, 1], [0, 1], linestyle=":", color="gray")
    axis.plot(confidence, [reliability["frequency"][index] for index in filled], marker="o", color="steelblue")
    band = [(confidence[number], reliability["frequency_ci"][index]) for number, index in enumerate(filled)]
    band = [(x, ci) for x, ci in band if ci is not None]
    if band:
        x, low, high = ([x for x, _ in band], [ci[0] for _, ci in band], [ci[1] for _, ci in band])
        axis.fill_between(x, low, high, color="steelblue", alpha=0.25)
        axis.vlines(x, low, high, color="steelblue", alpha=0.6, linewidth=1)  # the band of a lone bin is a line
    axis.set(xlim=(0, 1), ylim=(0, 1), xlabel="mean confidence", ylabel="observed rate")


def threshold_figure(target: str, attribute: str, target_result: dict, result: dict):
    """Top row: TPR, FPR and selection rate of each group across thresholds; bottom row: each group's differences
    from the rest (0 is parity, below 0 the group is selected less); a dotted line at 0.5."""
    thresholds = np.asarray(target_result["thresholds"])
    figure, axes = plt.subplots(2, 3, figsize=(13, 7), squeeze=False)
    for axis, rate in zip(axes[0], RATES):
        for name, group in result["groups"].items():
            axis.plot(thresholds, as_floats(group[rate]), marker=".", label=f"{name} (n={group['n']})")
        axis.set(ylim=(-0.02, 1.02), xlabel="threshold", ylabel=rate, title=rate)
    for axis, difference in zip(axes[1], DIFFERENCES):
        curves = {name: as_floats(values[difference]) for name, values in result["vs_rest"].items()}
        for name, curve in curves.items():
            axis.plot(thresholds, curve, marker=".", label=f"{name} vs rest")
        axis.axhline(0, color="gray", linewidth=1)
        reach = symmetric_reach(list(curves.values()))
        axis.set(ylim=(-reach, reach), xlabel="threshold", ylabel=difference, title=difference.replace("_", " "))
    for axis in axes.flat:
        axis.axvline(0.5, color="gray", linestyle=":", linewidth=1)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize="x-small")
    figure.suptitle(f"{target} by {attribute}: positive class {target_result['positive_class']!r}", fontsize="medium")
    return figure


def symmetric_reach(curves: list[np.ndarray], least: float = 0.1) -> float:
    """Half the height of a y axis centred on 0 that shows every curve; at least +-0.1, so that small differences
    are not blown up to look large."""
    finite = [np.nanmax(np.abs(curve)) for curve in curves if np.isfinite(curve).any()]
    return max([least, *finite]) * 1.1


def as_floats(values: list) -> np.ndarray:
    """None (undefined) as NaN, which matplotlib leaves as a gap in the line."""
    return np.array([np.nan if value is None else value for value in values], dtype=float)
