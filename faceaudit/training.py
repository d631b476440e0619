"""Train one run: seeded, checkpointed every epoch (a killed job resumes), recording its history, throughput and where it ran."""

import json
import os
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import pandas as pd

from faceaudit.arrays import encode_labels, make_dataset
from faceaudit.models import build_model


def set_tensorflow_threads(threads: int) -> None:
    """A fixed thread count, not the node's core count: sums split the same way, so results repeat to the last bit."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass  # TensorFlow already ran in this process (a test, a notebook): its thread pools are fixed by now.


def configure_tensorflow(seed: int, threads: int) -> None:
    """Seeded, deterministic ops and a fixed thread count, so a CPU run is repeatable."""
    import keras
    import tensorflow as tf

    set_tensorflow_threads(threads)
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def make_optimizer(name: str, learning_rate: float):
    import keras

    if name == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9)
    raise ValueError(f"unknown optimizer '{name}'; use adam or sgd")


def compile_model(spec: dict, input_shape: tuple, pixel_range: tuple[float, float]):
    targets = {target: len(classes) for target, classes in spec["targets"].items()}
    model = build_model(spec["model"], input_shape, targets, pixel_range)
    hyperparameters = spec["hyperparameters"]
    model.compile(
        optimizer=make_optimizer(hyperparameters["optimizer"], hyperparameters["learning_rate"]),
        loss={target: "sparse_categorical_crossentropy" for target in targets},
        metrics={target: ["accuracy"] for target in targets},
    )
    return model


def distribution_strategy():
    """MirroredStrategy across all visible GPUs when there are several (each batch split between them), else the default."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy([gpu.name for gpu in gpus])
    return tf.distribute.get_strategy()


def prepare_checkpoint(checkpoint_dir: Path, spec: dict) -> Path:
    """The run's checkpoint folder; one left by an attempt with a different spec (the config changed) is discarded."""
    spec_path, spec_text = checkpoint_dir / "spec.json", json.dumps(spec, sort_keys=True)
    if checkpoint_dir.exists() and (not spec_path.exists() or spec_path.read_text() != spec_text):
        shutil.rmtree(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    spec_path.write_text(spec_text)
    return checkpoint_dir


def read_epoch_log(path: Path) -> pd.DataFrame:
    """The epoch log of every attempt: an epoch logged twice (killed before its checkpoint was saved) keeps its last row."""
    epochs = pd.read_csv(path).drop_duplicates("epoch", keep="last").sort_values("epoch").reset_index(drop=True)
    if list(epochs["epoch"]) != list(range(len(epochs))):
        raise ValueError(f"{path} misses epochs: it has {list(epochs['epoch'])}")
    return epochs


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


def train_run(spec: dict, train: tuple, val: tuple, model_path: Path, history_path: Path, run_info_path: Path, checkpoint_dir: Path, threads: int = 2, strategy=None) -> dict:
    """Fit the run's model on (images, rows) train/val splits; write model, history and run.json; return run info.

    Every epoch is checkpointed in checkpoint_dir together with the epoch log, so a job killed half-way (preempted,
    cancelled, out of time) continues from its last finished epoch when it runs again; the folder is removed at the end.
    """
    import keras

    configure_tensorflow(spec["seed"], threads)
    checkpoint_dir = prepare_checkpoint(Path(checkpoint_dir), spec)
    strategy = strategy or distribution_strategy()
    (train_images, train_rows), (val_images, val_rows) = train, val
    pixel_range = (float(np.min(train_images)), float(np.max(train_images)))
    with strategy.scope():
        model = compile_model(spec, train_images.shape[1:], pixel_range)
    hyperparameters = spec["hyperparameters"]
    batch_size = hyperparameters["batch_size"]
    train_data = make_dataset(train_images, encode_labels(train_rows, spec["targets"]), batch_size, shuffle=True, seed=spec["seed"])
    val_data = make_dataset(val_images, encode_labels(val_rows, spec["targets"]), batch_size, shuffle=False)
    images_per_second = []
    epoch_log = checkpoint_dir / "history.csv"
    callbacks = [
        # The log comes first: an epoch that the checkpoint counts as done is always in the log.
        keras.callbacks.CSVLogger(str(epoch_log), append=True),
        # Two checkpoints: a job killed while writing one (half an .h5 file) restarts from the one before.
        keras.callbacks.BackupAndRestore(str(checkpoint_dir), double_checkpoint=True, delete_checkpoint=False),
        throughput_callback(len(train_images), images_per_second),
    ]
    started = time.perf_counter()
    history = model.fit(train_data, validation_data=val_data, epochs=hyperparameters["epochs"], callbacks=callbacks, shuffle=False, verbose=2)  # shuffled by tf.data
    training_seconds = time.perf_counter() - started
    first_epoch = history.epoch[0] if history.epoch else hyperparameters["epochs"]
    epochs = read_epoch_log(epoch_log)
    epochs.to_csv(history_path, index=False)
    model.save(model_path)
    info = run_info(spec, threads, model, pixel_range, len(epochs), training_seconds, images_per_second)
    info.update(resumed_from_epoch=first_epoch or None, replicas=strategy.num_replicas_in_sync)
    Path(run_info_path).write_text(json.dumps(info, indent=2))
    shutil.rmtree(checkpoint_dir)
    return info


def run_info(spec: dict, threads: int, model, pixel_range, epochs_completed: int, training_seconds: float, images_per_second: list) -> dict:
    import keras
    import tensorflow as tf

    summary_lines = []
    model.summary(print_fn=lambda line, **kwargs: summary_lines.append(line))
    return {
        **spec,
        "threads": threads,
        "parameters": int(model.count_params()),
        "architecture": "\n".join(summary_lines),
        "pixel_range": list(pixel_range),
        "epochs_completed": epochs_completed,
        "training_seconds": round(training_seconds, 2),
        "images_per_second": images_per_second,
        "host": socket.gethostname(),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        "gpus": [device.name for device in tf.config.list_physical_devices("GPU")],
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
    }
