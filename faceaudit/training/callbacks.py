"""Keras callbacks of a training step: throughput and a console line per epoch, divergence, early stopping."""

import math
import time

from faceaudit.logs import console_line
from faceaudit.training.progress import RunProgress


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite: the run cannot recover, whatever the remaining epochs."""


def throughput_callback(n_train_images: int, record: list):
    """Images/s of each epoch's training part (validation time excluded)."""
    import keras

    class Throughput(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()
            self.validation_seconds = 0.0

        def on_test_begin(self, logs=None):
            self.validation_started = time.perf_counter()

        def on_test_end(self, logs=None):
            self.validation_seconds += time.perf_counter() - self.validation_started

        def on_epoch_end(self, epoch, logs=None):
            seconds = time.perf_counter() - self.started - self.validation_seconds
            record.append(round(n_train_images / seconds, 1))

    return Throughput()


def progress_callback(progress: RunProgress, step: int, epochs_before: int):
    """One console line per epoch, with the images/s the throughput callback (which must come before it) recorded."""
    import keras

    class Progress(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            progress.epoch_seconds.append(time.perf_counter() - self.started)
            progress.note(progress.epoch_line(step, epoch, epochs_before, logs or {}))

    return Progress()


def divergence_callback(progress: RunProgress, step: int, epochs_before: int):
    """Raise TrainingDiverged at the first batch whose loss is NaN or infinite, naming where and the learning rate.
    It must come first: an epoch that diverged is then neither logged nor checkpointed."""
    import keras

    learning_rate = progress.learning_rates[step]

    class StopOnDivergence(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            self.check((logs or {}).get("loss"), f"batch {batch + 1}")

        def on_epoch_end(self, epoch, logs=None):
            self.check((logs or {}).get("val_loss"), "validation")

        def check(self, loss, moment: str) -> None:
            if loss is None or math.isfinite(loss):
                return
            message = (
                f"{progress.run}: training diverged, the loss became {loss} at step {step + 1}/"
                f"{len(progress.step_epochs)}, epoch {self.epoch + 1} of the step (epoch"
                f" {epochs_before + self.epoch + 1} of the run), {moment}, with learning rate {learning_rate:g}. The"
                f" run was stopped; give it a smaller learning rate (e.g. {learning_rate / 10:g}) in the config."
            )
            console_line(message)
            raise TrainingDiverged(message)

    return StopOnDivergence()


def restored_step_epoch(callbacks: list) -> int | None:
    """The step epoch whose weights an EarlyStopping callback put back at the end of the fit (None if none did).

    Keras restores the best epoch's weights whenever restore_best_weights is on and the monitored value was seen,
    whether or not it stopped early."""
    import keras

    for callback in callbacks:
        if isinstance(callback, keras.callbacks.EarlyStopping) and callback.restore_best_weights:
            if callback.best_weights is not None:
                return int(callback.best_epoch)
    return None


def early_stopping_callbacks(settings: dict) -> list:
    import keras

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
