"""Train one run: seeded, checkpointed every epoch (a killed job resumes), recording its history, throughput and where it ran."""

import contextlib
import json
import os
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import pandas as pd

from faceaudit import loss_weights
from faceaudit.arrays import encode_labels, make_dataset
from faceaudit.datasets.common import NUMERIC
from faceaudit.models import LOSSES, build_model, output_kind
from faceaudit.strategies import apply_step


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


def model_targets(spec: dict) -> dict[str, int | None]:
    """{target: number of classes}, None for a numeric target."""
    return {target: None if classes == NUMERIC else len(classes) for target, classes in spec["targets"].items()}


def build_run_model(spec: dict, input_shape: tuple, pixel_range: tuple[float, float]):
    settings = spec["training"]
    transfer_settings = {key: settings[key] for key in ("head", "weights") if key in settings}
    return build_model(spec["model"], input_shape, model_targets(spec), pixel_range, dropout_rate=settings["dropout_rate"],
                       augmentation=settings["augmentation"], seed=spec["seed"], **transfer_settings)


def compile_for_step(model, spec: dict, learning_rate: float) -> None:
    """Compile with the step's learning rate: cross-entropy for class targets (binary for a sigmoid output), the
    configured regression loss for numeric ones; accuracy or MAE as metric."""
    head = spec["training"].get("head", "classifier")
    losses, metrics = {}, {}
    for target, num_classes in model_targets(spec).items():
        if num_classes is None:
            losses[target], metrics[target] = spec["training"]["regression_loss"], ["mae"]
        else:
            losses[target], metrics[target] = LOSSES[output_kind(spec["model"], head)], ["accuracy"]
    optimizer = make_optimizer(spec["hyperparameters"]["optimizer"], learning_rate)
    model.compile(optimizer=optimizer, loss=losses, metrics=metrics)


def precision_policy(requested: bool, gpus: list) -> str:
    """mixed_float16 when asked for and a GPU is there; float32 on CPU, where float16 is slower, not faster."""
    return "mixed_float16" if requested and gpus else "float32"


@contextlib.contextmanager
def global_precision(policy: str):
    import keras

    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def early_stopping_callbacks(settings: dict) -> list:
    import keras

    if settings["patience"] is None:
        return []
    return [keras.callbacks.EarlyStopping(monitor=settings["monitor"], patience=settings["patience"], restore_best_weights=settings["restore_best_weights"], verbose=1)]


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


def train_run(spec: dict, train: tuple, val: tuple, model_path: Path, history_path: Path, run_info_path: Path, checkpoint_dir: Path, threads: int = 2, strategy=None, policy: str | None = None) -> dict:
    """Fit the run's model on (images, rows) train/val splits, step by step; write model, history and run.json.

    Every epoch is checkpointed in checkpoint_dir/step_<i> with the step's epoch log, and each finished step leaves
    its weights there, so a job killed half-way (preempted, cancelled, out of time) continues from its last finished
    epoch when it runs again; the folder is removed at the end. `policy` overrides the precision policy (tests).
    """
    configure_tensorflow(spec["seed"], threads)
    checkpoint_dir = prepare_checkpoint(Path(checkpoint_dir), spec)
    strategy = strategy or distribution_strategy()
    policy = policy or precision_policy(spec["training"]["mixed_precision"], gpu_names())
    (train_images, train_rows), (val_images, val_rows) = train, val
    pixel_range = (float(np.min(train_images)), float(np.max(train_images)))
    weighting = spec["training"]["loss_weighting"]
    weights = loss_weights.sample_weights(train_rows, weighting, spec["targets"])
    batch_size = spec["hyperparameters"]["batch_size"]
    train_data = make_dataset(train_images, encode_labels(train_rows, spec["targets"]), batch_size, shuffle=True, seed=spec["seed"], weights=weights)
    val_data = make_dataset(val_images, encode_labels(val_rows, spec["targets"]), batch_size, shuffle=False)
    with global_precision(policy), strategy.scope():
        model = build_run_model(spec, train_images.shape[1:], pixel_range)
        started = time.perf_counter()
        progress = train_steps(model, spec, train_data, val_data, checkpoint_dir, len(train_images))
        training_seconds = time.perf_counter() - started
    history = combined_history(checkpoint_dir, len(spec["training"]["steps"]))
    history.to_csv(history_path, index=False)
    model.save(model_path)
    info = run_info(spec, threads, model, pixel_range, len(history), training_seconds, progress["images_per_second"])
    info.update(
        resumed_from_epoch=progress["resumed_from_epoch"], replicas=strategy.num_replicas_in_sync, precision_policy=policy,
        step_epochs=[int((history["step"] == index).sum()) for index in range(len(spec["training"]["steps"]))],
        loss_weights=None if weights is None else loss_weights.describe_weights(train_rows, weights, weighting_columns(weighting)),
    )
    Path(run_info_path).write_text(json.dumps(info, indent=2))
    shutil.rmtree(checkpoint_dir)
    return info


def weighting_columns(weighting: dict) -> list[str]:
    """The label columns whose groups a weighting method distinguishes (for describing the weights)."""
    if weighting["method"] == "class":
        return [weighting["target"]]
    if weighting["method"] == "reweighing":
        return [*weighting["attributes"], weighting["target"]]
    return list(weighting["attributes"])


def train_steps(model, spec: dict, train_data, val_data, checkpoint_dir: Path, n_train_images: int) -> dict:
    """Run the strategy's steps in order, skipping those a previous attempt finished; returns the images/s of every
    epoch trained now and the global epoch this attempt started at (None when it started from scratch)."""
    images_per_second, started_at, epochs_before = [], None, 0
    for index, step in enumerate(spec["training"]["steps"]):
        step_dir = checkpoint_dir / f"step_{index}"
        finished = step_dir / "finished.weights.h5"
        if not finished.exists():
            if index > 0:
                model.load_weights(checkpoint_dir / f"step_{index - 1}" / "finished.weights.h5")
            first_epoch = train_step(model, spec, step, step_dir, train_data, val_data, n_train_images, images_per_second)
            started_at = epochs_before + first_epoch if started_at is None else started_at
            save_weights_atomically(model, finished)
        epochs_before += len(read_epoch_log(step_dir / "history.csv"))
    return {"images_per_second": images_per_second, "resumed_from_epoch": started_at or None}


def train_step(model, spec: dict, step: dict, step_dir: Path, train_data, val_data, n_train_images: int, images_per_second: list) -> int:
    """Fit one step (resuming from its checkpoint if there is one); return the step's epoch it started at."""
    apply_step(model, step["trainable"], spec["training"].get("unfreeze_last", 0))
    compile_for_step(model, spec, step["learning_rate"])
    return fit_with_checkpoints(model, train_data, val_data, step["epochs"], step_dir, n_train_images, images_per_second,
                                early_stopping_callbacks(step["early_stopping"]))


def fit_with_checkpoints(model, train_data, val_data, epochs: int, folder: Path, n_train_images: int, images_per_second: list, extra_callbacks: list = ()) -> int:
    """Fit with every epoch logged to folder/history.csv and checkpointed in folder, resuming from the checkpoint
    there if any; appends each epoch's images/s; returns the epoch the fit started at (`epochs` if none was left)."""
    import keras

    Path(folder).mkdir(parents=True, exist_ok=True)
    callbacks = [
        # The log comes first: an epoch that the checkpoint counts as done is always in the log.
        keras.callbacks.CSVLogger(str(Path(folder) / "history.csv"), append=True),
        # Two checkpoints: a job killed while writing one (half an .h5 file) restarts from the one before.
        keras.callbacks.BackupAndRestore(str(folder), double_checkpoint=True, delete_checkpoint=False),
        throughput_callback(n_train_images, images_per_second),
        *extra_callbacks,
    ]
    history = model.fit(train_data, validation_data=val_data, epochs=epochs, callbacks=callbacks, shuffle=False, verbose=2)  # shuffled by tf.data
    return history.epoch[0] if history.epoch else epochs


def save_weights_atomically(model, path: Path) -> None:
    partial = path.with_name("partial." + path.name)
    model.save_weights(partial)
    partial.replace(path)


def combined_history(checkpoint_dir: Path, n_steps: int) -> pd.DataFrame:
    """Every step's epoch log in one table: `epoch` counts across steps, `step` and `step_epoch` say where it was."""
    logs = []
    for index in range(n_steps):
        log = read_epoch_log(checkpoint_dir / f"step_{index}" / "history.csv").rename(columns={"epoch": "step_epoch"})
        log.insert(0, "step", index)
        logs.append(log)
    history = pd.concat(logs, ignore_index=True)
    history.insert(0, "epoch", range(len(history)))
    return history


def gpu_names() -> list[str]:
    import tensorflow as tf

    return [device.name for device in tf.config.list_physical_devices("GPU")]


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
        "gpus": gpu_names(),
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
    }
