"""Checkpoints that let a killed job resume: one folder per run (discarded when the spec changed), an epoch log
and a double checkpoint per step, finished-step weights written atomically."""

import json
import shutil
from pathlib import Path

import pandas as pd

from faceaudit.training.callbacks import throughput_callback


def prepare_checkpoint(checkpoint_dir: Path, spec: dict) -> Path:
    """The run's checkpoint folder; one left by an attempt with a different spec (the config changed) is discarded."""
    spec_path, spec_text = checkpoint_dir / "spec.json", json.dumps(spec, sort_keys=True)
    if checkpoint_dir.exists() and (not spec_path.exists() or spec_path.read_text() != spec_text):
        shutil.rmtree(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    spec_path.write_text(spec_text)
    return checkpoint_dir


def read_epoch_log(path: Path) -> pd.DataFrame:
    """The epoch log of every attempt: an epoch logged twice (killed before its checkpoint was saved) keeps its last
    row."""
    epochs = pd.read_csv(path).drop_duplicates("epoch", keep="last").sort_values("epoch").reset_index(drop=True)
    if list(epochs["epoch"]) != list(range(len(epochs))):
        raise ValueError(f"{path} misses epochs: it has {list(epochs['epoch'])}")
    return epochs


def fit_with_checkpoints(
    model,
    train_data,
    val_data,
    epochs: int,
    folder: Path,
    n_train_images: int,
    images_per_second: list,
    extra_callbacks: list = (),
) -> int:
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
    history = model.fit(
        train_data, validation_data=val_data, epochs=epochs, callbacks=callbacks, shuffle=False, verbose=2
    )  # shuffled by tf.data
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
