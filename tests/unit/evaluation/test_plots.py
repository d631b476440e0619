"""The report's figures drawn from a real audit and real metrics: group sizes clear of the error bars, names drawn as
the characters they hold (no mathtext), restored epochs marked on the training curves."""

import json

import pandas as pd
from matplotlib.container import ErrorbarContainer
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from PIL import Image

from faceaudit.evaluation.fairness import audit_fairness
from faceaudit.evaluation.metrics import compute_metrics
from faceaudit.evaluation.plots import (
    confusion_matrix_figure,
    group_accuracy_figure,
    plot_training_curves,
    read_run_info,
    restored_epochs,
    roc_figure,
    training_curves_figure,
)
from faceaudit.evaluation.settings import AuditSettings
from faceaudit.figures import plt

DOLLAR_CLASS = "$x$"
CLASSES = [DOLLAR_CLASS, "Male"]


def predictions_table() -> pd.DataFrame:
    truth = [DOLLAR_CLASS, "Male"] * 8
    predicted = [DOLLAR_CLASS, "Male", "Male", "Male"] * 4
    return pd.DataFrame(
        {
            "path": [f"{index}.jpg" for index in range(16)],
            "gender_true": truth,
            "gender_pred": predicted,
            "gender_score_0": [0.8, 0.3, 0.4, 0.1] * 4,
            "gender_score_1": [0.2, 0.7, 0.6, 0.9] * 4,
            "group": ["A"] * 8 + ["$y$ group"] * 8,
        }
    )


def rendered(figure):
    figure.canvas.draw()
    return figure.canvas.get_renderer()


def texts_of(figure) -> list[Text]:
    return [text for text in figure.findobj(Text) if text.get_text() and text.get_visible()]


def error_bar_boxes(axis) -> list[Bbox]:
    """Where each error bar is drawn on screen: its vertical line and its two caps."""
    boxes = []
    for container in axis.containers:
        if not isinstance(container, ErrorbarContainer):
            continue
        _, caps, vertical_lines = container.lines
        for collection in vertical_lines:
            boxes += [Bbox(axis.transData.transform(segment)) for segment in collection.get_segments()]
        for cap in caps:
            half_width = cap.get_markersize() * axis.figure.dpi / 72 / 2
            for x, y in axis.transData.transform(cap.get_xydata()):
                boxes.append(Bbox([[x - half_width, y - 1], [x + half_width, y + 1]]))
    return boxes


def test_group_sizes_are_shown_clear_of_the_error_bars():
    audit = audit_fairness(
        predictions_table(), {"gender": CLASSES}, ["group"], {"gender": "Male"}, settings=AuditSettings(resamples=200)
    )
    figure = group_accuracy_figure(audit)
    renderer = rendered(figure)
    (axis,) = figure.axes
    error_bars = error_bar_boxes(axis)
    assert len(error_bars) == 2 * 3, "two groups, each a line and two caps"
    labels = [text for text in texts_of(figure) if "n=" in text.get_text()]
    assert sorted(text.get_text() for text in labels) == ["$y$ group\nn=8", "A\nn=8"]
    for label in labels:
        box = label.get_window_extent(renderer)
        assert not any(box.overlaps(bar) for bar in error_bars), label.get_text()
    plt.close(figure)


def test_names_holding_dollar_signs_are_drawn_literally():
    predictions = predictions_table()
    metrics = compute_metrics(predictions, {"gender": CLASSES}, {"gender": "Male"})["gender"]
    audit = audit_fairness(
        predictions, {"gender": CLASSES}, ["group"], {"gender": "Male"}, settings=AuditSettings(resamples=0)
    )
    figures = [
        confusion_matrix_figure("gender", metrics["confusion_matrix"]),
        roc_figure("gender", {**metrics, "positive_class": DOLLAR_CLASS}),
        group_accuracy_figure(audit),
    ]
    for figure in figures:
        rendered(figure)
        texts = texts_of(figure)
        holding = [text for text in texts if "$" in text.get_text()]
        assert holding, "each figure shows a name with dollar signs"
        for text in texts:
            assert not text.get_parse_math(), f"{text.get_text()!r} would be drawn as mathtext"
        plt.close(figure)
    confusion_ticks = [label.get_text() for label in figures[0].axes[0].get_xticklabels()]
    assert confusion_ticks == CLASSES
    legend = [text.get_text() for text in figures[1].axes[0].get_legend().get_texts()]
    assert legend[0].startswith(f"{DOLLAR_CLASS}: AUC")


def history() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "epoch": [0, 1, 2, 3, 4],
            "step": [0, 0, 0, 1, 1],
            "step_epoch": [0, 1, 2, 0, 1],
            "loss": [0.9, 0.7, 0.8, 0.6, 0.65],
            "val_loss": [0.95, 0.75, 0.85, 0.7, 0.72],
            "accuracy": [0.5, 0.6, 0.55, 0.7, 0.68],
            "val_accuracy": [0.5, 0.58, 0.5, 0.66, 0.64],
        }
    )


def restored_lines(figure) -> list[float]:
    return [
        line.get_xdata()[0]
        for axis in figure.axes
        for line in axis.lines
        if line.get_color() == "green" and line.get_linestyle() == "-."
    ]


def test_training_curves_mark_the_epochs_early_stopping_restored(tmp_path):
    run_info = tmp_path / "run.json"
    restored = [{"step": 0, "epoch": 1, "step_epoch": 1}, {"step": 1, "epoch": 3, "step_epoch": 0}]
    run_info.write_text(json.dumps({"epochs_completed": 5, "restored_epochs": restored}))

    assert restored_epochs(read_run_info(run_info)) == [1, 3]
    figure = training_curves_figure(history(), restored_epochs(read_run_info(run_info)))
    assert restored_lines(figure) == [2, 4, 2, 4], "on both panels, at the epochs counted from 1 like the axis"
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert legend.count("weights restored (early stopping)") == 1
    plt.close(figure)
    history().to_csv(tmp_path / "history.csv", index=False)
    plot_training_curves(tmp_path / "history.csv", tmp_path / "curves.png", run_info)
    with Image.open(tmp_path / "curves.png") as image:
        assert image.format == "PNG"


def test_training_curves_without_restored_epochs_in_run_json(tmp_path):
    run_info = tmp_path / "run.json"
    run_info.write_text(json.dumps({"epochs_completed": 5}))
    history().to_csv(tmp_path / "history.csv", index=False)

    assert restored_epochs(read_run_info(run_info)) == []
    plot_training_curves(tmp_path / "history.csv", tmp_path / "curves.png", run_info)
    assert (tmp_path / "curves.png").stat().st_size > 1000
    assert restored_lines(training_curves_figure(history(), [])) == []
