"""Keras callbacks of a training step: throughput per epoch and early stopping."""

import time


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
