"""Keras callbacks of a training step: throughput and a console line per epoch, divergence, early stopping."""

import json
import math
import os
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from faceaudit.logs import console_line
from faceaudit.training.progress import RunProgress
from faceaudit.training.resume import EPOCH_LOG


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite: the run cannot recover, whatever the remaining epochs."""


class Throughput(keras.callbacks.Callback):
    """Images/s of each epoch's training part (validation time excluded), appended to `record`."""

    def __init__(self, n_train_images: int, record: list):
        super().__init__()
        self.n_train_images, self.record = n_train_images, record

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()
        self.validation_seconds = 0.0

    def on_test_begin(self, logs=None):
        self.validation_started = time.perf_counter()

    def on_test_end(self, logs=None):
        self.validation_seconds += time.perf_counter() - self.validation_started

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.started - self.validation_seconds
        self.record.append(round(self.n_train_images / seconds, 1))


class Progress(keras.callbacks.Callback):
    """One console line per epoch, with the images/s the Throughput callback (which must come before it) recorded."""

    def __init__(self, progress: RunProgress, step: int, epochs_before: int):
        super().__init__()
        self.progress, self.step, self.epochs_before = progress, step, epochs_before

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.progress.epoch_seconds.append(time.perf_counter() - self.started)
        self.progress.note(self.progress.epoch_line(self.step, epoch, self.epochs_before, logs or {}))


class StopOnDivergence(keras.callbacks.Callback):
    """Raise TrainingDiverged at the first batch whose loss is NaN or infinite, naming where and the learning rate.
    It must come first: an epoch that diverged is then neither logged nor checkpointed."""

    def __init__(self, progress: RunProgress, step: int, epochs_before: int):
        super().__init__()
        self.progress, self.step, self.epochs_before = progress, step, epochs_before
        self.learning_rate = progress.learning_rates[step]

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.check((logs or {}).get("loss"), f"batch {batch + 1}")

    def on_epoch_end(self, epoch, logs=None):
        self.check((logs or {}).get("val_loss"), "validation")

    def check(self, loss, moment: str) -> None:
        if loss is None or math.isfinite(loss):
            return
        rate, progress = self.learning_rate, self.progress
        message = (
            f"{progress.run}: training diverged, the loss became {loss} at step {self.step + 1}/"
            f"{len(progress.step_epochs)}, epoch {self.epoch + 1} of the step (epoch"
            f" {self.epochs_before + self.epoch + 1} of the run), {moment}, with learning rate {rate:g}. The"
            f" run was stopped; {self.remedy(rate)}"
        )
        console_line(message)
        raise TrainingDiverged(message)

    def remedy(self, rate: float) -> str:
        """What to change: the learning rate, or first the in-training mitigation's own settings, whose extreme
        values (a huge strength, group adjustment, or a tiny MMD bandwidth) explode the loss at any learning rate."""
        smaller_rate = f"a smaller learning rate (e.g. {rate / 10:g})"
        method = getattr(self.model, "mitigation_method", None)
        if method is None:
            return f"give it {smaller_rate} in the config."
        return (
            f"it trains with in-training mitigation ({method}): check the experiment's `mitigation` settings first "
            f"(strength, group_adjustment, bandwidth: extreme values make the loss explode at any learning rate), "
            f"then try {smaller_rate}."
        )


def restored_step_epoch(callbacks: list) -> int | None:
    """The step epoch whose weights an EarlyStopping callback put back at the end of the fit (None if none did).

    Keras restores the best epoch's weights whenever restore_best_weights is on and the monitored value was seen,
    whether or not it stopped early."""
    for callback in callbacks:
        if isinstance(callback, keras.callbacks.EarlyStopping) and callback.restore_best_weights:
            if callback.best_weights is not None:
                return int(callback.best_epoch)
    return None


def early_stopping_callbacks(settings: dict) -> list:
    if settings["patience"] is None:
        return []
    return [
        keras.callbacks.EarlyStopping(
            monitor=settings["monitor"],
            patience=settings["patience"],
            restore_best_weights=settings["restore_best_weights"],
            verbose=1,
        )
    ]


SELECTION_MONITORS = {"worst_group_accuracy": "max", "accuracy_gap": "min"}  # catalog.MODEL_SELECTION_MONITORS
SELECTION_LOG = "selection.json"  # the step's selection candidates: [{"step_epoch", "value"}], best last


def group_accuracies(predicted, truth, groups) -> dict[str, float]:
    """Worst group's accuracy and the largest minus the smallest group accuracy, over every group present."""
    correct = np.asarray(predicted) == np.asarray(truth)
    accuracies = [float(correct[np.asarray(groups) == group].mean()) for group in sorted(set(groups))]
    return {"worst_group_accuracy": min(accuracies), "accuracy_gap": max(accuracies) - min(accuracies)}


def predicted_classes(output) -> np.ndarray:
    """Class indices from a target's scores: argmax of softmax columns, p > 0.5 for one sigmoid unit."""
    scores = np.asarray(output)
    scores = scores.reshape(len(scores), -1)
    return (scores[:, 0] > 0.5).astype(int) if scores.shape[1] == 1 else scores.argmax(axis=1)


class ModelSelection(keras.callbacks.Callback):
    """After every epoch, log val_worst_group_accuracy and val_accuracy_gap of `selection["target"]` over the groups
    of `selection["attributes"]`, and keep the weights of the best epoch by `selection["monitor"]` on disk
    (folder/selected_<epoch>.weights.h5, listed in folder/selection.json), so that a resumed step still knows them.

    A candidate is only dropped once a later epoch's checkpoint is saved: a job killed after saving a new best but
    before its checkpoint redoes that epoch and can still go back to the best before it. Must come before the
    CSVLogger (which logs the values) and EarlyStopping (which may watch them)."""

    def __init__(self, selection: dict, val_data, truth, groups, folder):
        super().__init__()
        self.selection, self.val_data, self.truth, self.groups = selection, val_data, truth, groups
        self.folder, self.monitor = Path(folder), selection["monitor"]
        self.sign = 1.0 if SELECTION_MONITORS[self.monitor] == "max" else -1.0
        self.candidates: list[dict] = []

    def on_train_begin(self, logs=None):
        log = self.folder / EPOCH_LOG
        done = len(pd.read_csv(log)) if log.exists() and log.stat().st_size else 0  # resume_point trimmed it
        stored_path = self.folder / SELECTION_LOG
        stored = json.loads(stored_path.read_text()) if stored_path.exists() else []
        self.keep([candidate for candidate in stored if candidate["step_epoch"] < done][-1:], stored)

    def on_epoch_begin(self, epoch, logs=None):
        self.keep(self.candidates[-1:], self.candidates)  # the previous epoch's checkpoint is saved by now

    def on_epoch_end(self, epoch, logs=None):
        target_output = self.model.predict(self.val_data, verbose=0)[self.selection["target"]]
        values = group_accuracies(predicted_classes(target_output), self.truth, self.groups)
        if logs is not None:
            logs.update({f"val_{name}": value for name, value in values.items()})
        best = self.best()
        if best is None or self.sign * values[self.monitor] > self.sign * best["value"]:
            path = self.weights_path(epoch)
            partial = path.with_name("partial." + path.name)
            self.model.save_weights(partial)
            os.replace(partial, path)
            self.keep([*self.candidates, {"step_epoch": int(epoch), "value": values[self.monitor]}], self.candidates)

    def keep(self, kept: list[dict], before: list[dict]) -> None:
        for candidate in before:
            if candidate not in kept:
                self.weights_path(candidate["step_epoch"]).unlink(missing_ok=True)
        self.candidates = list(kept)
        partial = self.folder / ("partial." + SELECTION_LOG)
        partial.write_text(json.dumps(self.candidates))
        os.replace(partial, self.folder / SELECTION_LOG)

    def best(self) -> dict | None:
        return self.candidates[-1] if self.candidates else None

    def restore_best(self) -> dict | None:
        """Load the best epoch's weights into the model; return that candidate (None if no epoch was seen)."""
        best = self.best()
        if best is not None:
            self.model.load_weights(self.weights_path(best["step_epoch"]))
        return best

    def weights_path(self, epoch: int) -> Path:
        return self.folder / f"selected_{epoch}.weights.h5"
