"""Checkpoints that let a killed job resume: one folder per run (discarded when the spec changed), an epoch log
and a double checkpoint per step (damaged ones set aside by faceaudit.training.resume), finished-step weights written
atomically."""

import json
import shutil
from pathlib import Path

import pandas as pd

from faceaudit.training.callbacks import Progress, StopOnDivergence, Throughput
from faceaudit.training.progress import RunProgress
from faceaudit.training.resume import EPOCH_LOG, resume_point

FINISHED_WEIGHTS = "finished.weights.h5"  # a step's weights once it is done (after early stopping's restore)
RESTORED_EPOCH = "restored_epoch.json"  # the step epoch early stopping restored, written before FINISHED_WEIGHTS


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
    folder: Path,
    progress: RunProgress,
    step: int,
    epochs_before: int,
    extra_callbacks=(),
    epoch_metrics=None,
) -> int:
    """Fit the run's step `step` with every epoch logged to folder/history.csv and checkpointed in folder, resuming
    from the checkpoint there if a usable one is left (resume_point); one console line per epoch, a NaN or infinite
    loss raises TrainingDiverged. `epoch_metrics` is a callback that adds values to each epoch's logs (model
    selection's group accuracies): it runs before the log and the checkpoint. Returns the epoch the fit started at
    (the step's epochs if none was left)."""
    import keras

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    epochs = progress.step_epochs[step]
    first_epoch = resume_point(model, folder, progress.note)
    if 0 < first_epoch < epochs:
        progress.note(f"resuming from the checkpoint in {folder}: {progress.where(step, first_epoch, epochs_before)}")
    callbacks = [
        StopOnDivergence(progress, step, epochs_before),
        *([epoch_metrics] if epoch_metrics is not None else []),
        # The log comes before the checkpoint: an epoch that the checkpoint counts as done is always in the log.
        keras.callbacks.CSVLogger(str(folder / EPOCH_LOG), append=True),
        # Two checkpoints: a job killed while writing one (half an .h5 file) restarts from the one before.
        keras.callbacks.BackupAndRestore(str(folder), double_checkpoint=True, delete_checkpoint=False),
        Throughput(progress.n_train_images, progress.images_per_second),
        Progress(progress, step, epochs_before),
        *extra_callbacks,
    ]
    model.fit(
        train_data, validation_data=val_data, epochs=epochs, callbacks=callbacks, shuffle=False, verbose=2
    )  # shuffled by tf.data
    return min(first_epoch, epochs)


def save_weights_atomically(model, path: Path) -> None:
    partial = path.with_name("partial." + path.name)
    model.save_weights(partial)
    partial.replace(path)


def combined_history(checkpoint_dir: Path, n_steps: int) -> pd.DataFrame:
    """Every step's epoch log in one table: `epoch` counts across steps, `step` and `step_epoch` say where it was."""
    logs = []
    for index in range(n_steps):
        log = read_epoch_log(checkpoint_dir / f"step_{index}" / EPOCH_LOG).rename(columns={"epoch": "step_epoch"})
        log.insert(0, "step", index)
        logs.append(log)
    history = pd.concat(logs, ignore_index=True)
    history.insert(0, "epoch", range(len(history)))
    return history
