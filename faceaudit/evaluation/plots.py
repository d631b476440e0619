"""Figures for the report: training curves, confusion matrices, ROC curves, per-group accuracy."""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from faceaudit.figures import plt, save


def plot_training_curves(history_path: Path, out_path: Path, run_info_path: Path | None = None) -> None:
    """The training curves of history.csv; the epochs whose weights early stopping restored (run.json's
    `restored_epochs`, where the run recorded them) are marked."""
    restored = restored_epochs(read_run_info(run_info_path)) if run_info_path is not None else []
    save(training_curves_figure(pd.read_csv(history_path), restored), out_path)


def read_run_info(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def restored_epochs(run_info: dict) -> list[int]:
    """The global epochs (0-based, as in history.csv) whose weights early stopping restored; none where run.json
    does not record them (runs trained before it did)."""
    return [int(entry["epoch"]) for entry in run_info.get("restored_epochs") or []]


def training_curves_figure(history: pd.DataFrame, restored: list[int] = ()):
    """Loss and accuracy (MAE for numeric targets) per epoch, train solid, validation dashed; a dotted line where
    a new fine-tuning step begins, a green dash-dotted line at each epoch whose weights early stopping restored."""
    figure, (loss_axis, quality_axis) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = history["epoch"] + 1
    for axis, kinds in ((loss_axis, ("loss",)), (quality_axis, ("accuracy", "mae"))):
        for column in [c for c in history.columns if c.endswith(kinds) and not c.startswith("val_")]:
            (line,) = axis.plot(epochs, history[column], marker="o", label=f"train {column}")
            if f"val_{column}" in history:
                axis.plot(
                    epochs,
                    history[f"val_{column}"],
                    linestyle="--",
                    marker="o",
                    color=line.get_color(),
                    label=f"val {column}",
                )
        axis.set(xlabel="epoch", ylabel=" / ".join(kinds), title=" / ".join(kinds))
        if not axis.lines:
            axis.set_visible(False)
            continue
        for first_epoch in step_starts(history):
            axis.axvline(first_epoch + 0.5, color="gray", linestyle=":", linewidth=1)
        for number, epoch in enumerate(restored):
            label = "weights restored (early stopping)" if number == 0 else None
            axis.axvline(epoch + 1, color="green", linestyle="-.", linewidth=1.5, label=label)
        axis.legend(fontsize="small")
    return figure


def step_starts(history: pd.DataFrame) -> list[int]:
    """The (1-based) last epoch before each new step."""
    if "step" not in history:
        return []
    changes = history["step"].diff().fillna(0).to_numpy() != 0
    return [int(epoch) for epoch in history["epoch"][changes]]


def plot_metrics(metrics: dict, out_dir: Path) -> None:
    """One confusion matrix and one ROC figure per target."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    for target, result in metrics.items():
        if result["kind"] == "regression":
            continue  # its metrics are a table in the report; there is no confusion matrix or ROC curve
        plot_confusion_matrix(target, result["confusion_matrix"], Path(out_dir) / f"confusion_{target}.png")
        plot_roc(target, result, Path(out_dir) / f"roc_{target}.png")


def plot_confusion_matrix(target: str, confusion: dict, out_path: Path) -> None:
    save(confusion_matrix_figure(target, confusion), out_path)


def confusion_matrix_figure(target: str, confusion: dict):
    """Counts and the rows normalised by the true class, side by side, the class names on both axes."""
    import seaborn as sns

    counts = np.asarray(confusion["counts"])
    row_totals = counts.sum(axis=1, keepdims=True)
    normalised = np.divide(counts, row_totals, out=np.zeros(counts.shape), where=row_totals > 0)
    size = 3 + 0.6 * len(confusion["labels"])
    figure, axes = plt.subplots(1, 2, figsize=(2 * size + 1, size))
    for axis, values, fmt, title in (
        (axes[0], counts, "d", "counts"),
        (axes[1], normalised, ".2f", "normalised by true class"),
    ):
        sns.heatmap(
            values,
            annot=True,
            fmt=fmt,
            cmap="Blues",
            cbar=False,
            ax=axis,
            xticklabels=confusion["labels"],
            yticklabels=confusion["labels"],
        )
        axis.set(xlabel=f"predicted {target}", ylabel=f"true {target}", title=f"{target}: {title}")
    return figure


def plot_roc(target: str, result: dict, out_path: Path) -> None:
    save(roc_figure(target, result), out_path)


def roc_figure(target: str, result: dict):
    """The positive class's ROC curve for a binary target; one curve per class (one-vs-rest) otherwise."""
    roc = result["roc"]
    curves = {result["positive_class"]: roc} if result["kind"] == "binary" else roc["per_class"]
    figure, axis = plt.subplots(figsize=(5.5, 5))
    for name, curve in curves.items():
        if curve["auc"] is not None:
            axis.plot(curve["fpr"], curve["tpr"], label=f"{name}: AUC {curve['auc']:.3f}")
    axis.plot([0, 1], [0, 1], linestyle=":", color="gray", label="chance")
    title = (
        f"ROC, {target} (positive: {result['positive_class']})"
        if result["kind"] == "binary"
        else f"ROC one-vs-rest, {target}"
    )
    axis.set(xlabel="false positive rate", ylabel="true positive rate", title=title)
    axis.legend(loc="lower right", fontsize="small")
    return figure


def plot_group_accuracy(audit: dict, out_path: Path) -> None:
    save(group_accuracy_figure(audit), out_path)


def group_accuracy_figure(audit: dict):
    """Accuracy (MAE for numeric targets) of each group with its 95% interval, one panel per (target, sensitive
    attribute). Each group's size is in its tick label, below the axis, where no error bar can reach it."""
    panels = [
        (target, attribute, result)
        for target, by_attribute in audit.items()
        for attribute, result in by_attribute.items()
        if attribute != "skipped_attributes"
    ]
    figure, axes = plt.subplots(1, max(len(panels), 1), figsize=(4 * max(len(panels), 1), 3.5), squeeze=False)
    for axis, (target, attribute, result) in zip(axes[0], panels):
        names = list(result["groups"])
        measure = "mae" if "mae_spread" in result else "accuracy"
        values = [result["groups"][name][measure] or 0.0 for name in names]
        positions = np.arange(len(names))
        axis.bar(
            positions,
            values,
            color="steelblue",
            capsize=4,
            ecolor="black",
            yerr=interval_error_bars(result["groups"], names, values, f"{measure}_ci"),
        )
        axis.set_xticks(positions, labels=[f"{name}\nn={result['groups'][name]['n']}" for name in names])
        axis.set(ylim=(0, 1.05) if measure == "accuracy" else None, ylabel=measure, title=f"{target} by {attribute}")
        axis.tick_params(axis="x", labelrotation=45 if len(names) > 4 else 0)
    if not panels:
        axes[0][0].text(0.5, 0.5, "no sensitive attribute to audit", ha="center")
        axes[0][0].axis("off")
    return figure


def interval_error_bars(groups: dict, names: list[str], values: list[float], key: str):
    """Matplotlib's (2, n) error bar lengths from each group's interval (e.g. accuracy_ci); a group without one gets
    no bar (zero length) while the others keep theirs; None when no group has an interval."""
    intervals = [groups[name].get(key) for name in names]
    if not any(intervals):
        return None
    lengths = [
        [value - interval[0], interval[1] - value] if interval and value is not None else [0.0, 0.0]
        for value, interval in zip(values, intervals)
    ]
    return np.array(lengths).T.clip(min=0)
