"""Figures for the report: training curves, confusion matrices, ROC curves, per-group accuracy."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def save(figure, path: Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_training_curves(history_path: Path, out_path: Path) -> None:
    """Loss and accuracy per epoch, train (solid) and validation (dashed)."""
    history = pd.read_csv(history_path)
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = history["epoch"] + 1
    for axis, kind in ((loss_axis, "loss"), (accuracy_axis, "accuracy")):
        for column in [c for c in history.columns if c.endswith(kind) and not c.startswith("val_")]:
            line, = axis.plot(epochs, history[column], marker="o", label=f"train {column}")
            if f"val_{column}" in history:
                axis.plot(epochs, history[f"val_{column}"], linestyle="--", marker="o", color=line.get_color(), label=f"val {column}")
        axis.set(xlabel="epoch", ylabel=kind, title=kind)
        axis.legend(fontsize="small")
    save(figure, out_path)


def plot_metrics(metrics: dict, out_dir: Path) -> None:
    """One confusion matrix per target, and a ROC curve per binary target."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    for target, result in metrics.items():
        plot_confusion_matrix(target, result["confusion_matrix"], Path(out_dir) / f"confusion_{target}.png")
        if result["kind"] == "binary":
            plot_roc(target, result, Path(out_dir) / f"roc_{target}.png")


def plot_confusion_matrix(target: str, confusion: dict, out_path: Path) -> None:
    import seaborn as sns

    counts = np.asarray(confusion["counts"])
    row_totals = counts.sum(axis=1, keepdims=True)
    normalised = np.divide(counts, row_totals, out=np.zeros(counts.shape), where=row_totals > 0)
    size = 3 + 0.6 * len(confusion["labels"])
    figure, axes = plt.subplots(1, 2, figsize=(2 * size + 1, size))
    for axis, values, fmt, title in ((axes[0], counts, "d", "counts"), (axes[1], normalised, ".2f", "normalised by true class")):
        sns.heatmap(values, annot=True, fmt=fmt, cmap="Blues", cbar=False, ax=axis,
                    xticklabels=confusion["labels"], yticklabels=confusion["labels"])
        axis.set(xlabel=f"predicted {target}", ylabel=f"true {target}", title=f"{target}: {title}")
    save(figure, out_path)


def plot_roc(target: str, result: dict, out_path: Path) -> None:
    roc = result["roc"]
    figure, axis = plt.subplots(figsize=(4.5, 4.5))
    auc = "n/a" if roc["auc"] is None else f"{roc['auc']:.3f}"
    axis.plot(roc["fpr"], roc["tpr"], label=f"AUC = {auc}")
    axis.plot([0, 1], [0, 1], linestyle=":", color="gray", label="chance")
    axis.set(xlabel="false positive rate", ylabel="true positive rate",
             title=f"ROC, {target} (positive: {result['positive_class']})")
    axis.legend(loc="lower right")
    save(figure, out_path)


def plot_group_accuracy(audit: dict, out_path: Path) -> None:
    """Accuracy of each group, one panel per (target, sensitive attribute); the group's size is written on its bar."""
    panels = [(target, attribute, result) for target, by_attribute in audit.items()
              for attribute, result in by_attribute.items() if attribute != "skipped_attributes"]
    figure, axes = plt.subplots(1, max(len(panels), 1), figsize=(4 * max(len(panels), 1), 3.5), squeeze=False)
    for axis, (target, attribute, result) in zip(axes[0], panels):
        names = list(result["groups"])
        accuracies = [result["groups"][name]["accuracy"] or 0.0 for name in names]
        bars = axis.bar(names, accuracies, color="steelblue")
        for bar, name in zip(bars, names):
            axis.annotate(f"n={result['groups'][name]['n']}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                          ha="center", va="bottom", fontsize="small")
        axis.set(ylim=(0, 1.1), ylabel="accuracy", title=f"{target} by {attribute}")
    if not panels:
        axes[0][0].text(0.5, 0.5, "no sensitive attribute to audit", ha="center")
        axes[0][0].axis("off")
    save(figure, out_path)
