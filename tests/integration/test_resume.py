"""Resume after a kill: a real training process is SIGKILLed half-way, and the next attempt continues its epochs;
checkpoint files damaged the way a kill mid-write leaves them send it back to the older checkpoint or the step's
start, with a line saying so."""

import json
import shutil
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pandas as pd
import pytest
from training_helpers import TARGETS, TRAIN_SCRIPT, labelled_images, run_spec

from faceaudit.data.arrays import read_split
from faceaudit.training.checkpoints import prepare_checkpoint, read_epoch_log
from faceaudit.training.classifier import train_run

GENDER = {"gender": TARGETS["gender"]}
# TRAIN_SCRIPT in a process that SIGKILLs itself as epoch argv[3] begins: epochs 0 .. argv[3] - 1 are then logged, the
# newest checkpoint holds all of them and the older one all but the last.
SCRIPT_KILLED_AT_EPOCH = (
    """
import os, signal, sys
import keras

def kill_at_epoch_begin(self, epoch, logs=None):
    if epoch == int(sys.argv[3]):
        os.kill(os.getpid(), signal.SIGKILL)

keras.callbacks.CSVLogger.on_epoch_begin = kill_at_epoch_begin
"""
    + TRAIN_SCRIPT
)


def write_splits(out):
    for split, (count, seed) in {"train": (96, 1), "val": (32, 2)}.items():
        images, rows = labelled_images(count, seed)
        np.save(out / f"{split}.npy", images)
        rows.to_csv(out / f"{split}.csv", index=False)


def logged_epochs(out) -> int:
    try:
        return len(pd.read_csv(out / "checkpoint/step_0/history.csv"))
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return 0


def train_again(folder, spec, model_path=None) -> dict:
    return train_run(
        spec,
        read_split(folder / "train.npy", folder / "train.csv"),
        read_split(folder / "val.npy", folder / "val.csv"),
        model_path or folder / "model.keras",
        folder / "history.csv",
        folder / "run.json",
        folder / "checkpoint",
        threads=1,
    )


def test_killed_training_resumes_from_its_last_checkpoint(tmp_path):
    write_splits(tmp_path)
    spec = run_spec("small_cnn", {"gender": TARGETS["gender"]}, epochs=8)
    spec["hyperparameters"]["batch_size"] = 2  # ~0.5 s per epoch: time to kill it half-way
    process = subprocess.Popen([sys.executable, "-c", TRAIN_SCRIPT, json.dumps(spec), str(tmp_path)])
    try:
        deadline = time.monotonic() + 120
        while logged_epochs(tmp_path) < 2 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL, "training ended before it could be killed"
    logged_before_kill = pd.read_csv(tmp_path / "checkpoint/step_0/history.csv")
    assert not (tmp_path / "run.json").exists()

    info = train_again(tmp_path, spec)

    history = pd.read_csv(tmp_path / "history.csv")
    assert list(history["epoch"]) == list(range(8))
    resumed = info["resumed_from_epoch"]
    # Killed while writing its newest checkpoint, a run resumes from the one before: one epoch less.
    assert len(logged_before_kill) - 1 <= resumed < 8 and info["epochs_completed"] == 8
    assert len(info["images_per_second"]) == 8 - resumed, "only the remaining epochs were trained"
    pd.testing.assert_frame_equal(history[:resumed].drop(columns=["step", "step_epoch"]), logged_before_kill[:resumed])
    assert json.loads((tmp_path / "run.json").read_text()) == info
    assert keras.models.load_model(tmp_path / "model.keras").count_params() == info["parameters"]
    assert not (tmp_path / "checkpoint").exists()


def kill_after_epochs(spec, folder, epochs: int) -> None:
    """Start TRAIN_SCRIPT and SIGKILL it once `epochs` epochs are logged."""
    process = subprocess.Popen([sys.executable, "-c", TRAIN_SCRIPT, json.dumps(spec), str(folder)])
    try:
        deadline = time.monotonic() + 120
        while logged_epochs(folder) < epochs and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL, "training ended before it could be killed"


def test_killed_group_dro_training_resumes_with_its_group_weights_and_selection(tmp_path, monkeypatch):
    """Group DRO with model selection by the worst group, killed half-way: the next attempt starts from the
    checkpoint with DRO's group weights as they were (not uniform again) and still keeps the best epoch."""
    from faceaudit.training import checkpoints

    write_splits(tmp_path)
    mitigation = {"method": "group_dro", "attributes": ["group"], "strength": 0.5, "group_adjustment": 0.0}
    selection = {"monitor": "worst_group_accuracy", "attributes": ["group"], "target": "gender"}
    spec = run_spec("mlp", GENDER, epochs=6, mitigation=mitigation, model_selection=selection)
    spec["hyperparameters"]["batch_size"] = 2
    kill_after_epochs(spec, tmp_path, 2)
    logged_before_kill = pd.read_csv(tmp_path / "checkpoint/step_0/history.csv")
    resumed_weights = {}

    def resume_point_seen(model, folder, note):  # the real resume_point, with what it loaded written down
        epoch = real_resume_point(model, folder, note)
        resumed_weights[epoch] = model.group_weights.numpy().copy()
        return epoch

    real_resume_point = checkpoints.resume_point
    monkeypatch.setattr(checkpoints, "resume_point", resume_point_seen)
    info = train_again(tmp_path, spec)

    [(epoch, weights)] = resumed_weights.items()
    assert epoch == info["resumed_from_epoch"] >= 1
    assert not np.allclose(weights, 0.5), f"group weights {weights} were not restored from the checkpoint"
    history = pd.read_csv(tmp_path / "history.csv")
    assert list(history["epoch"]) == list(range(6))
    pd.testing.assert_frame_equal(history[:epoch].drop(columns=["step", "step_epoch"]), logged_before_kill[:epoch])
    [kept] = info["restored_epochs"]
    assert kept["epoch"] == int(history["val_worst_group_accuracy"].idxmax())
    assert set(info["mitigation"]["groups"]) == {"A", "B"}


def test_an_epoch_logged_twice_keeps_its_last_row(tmp_path):
    # Killed after logging epoch 2 but before its checkpoint: the next attempt trains epoch 2 again.
    (tmp_path / "log.csv").write_text("epoch,loss\n0,0.9\n1,0.8\n2,0.75\n2,0.7\n3,0.6\n")
    assert read_epoch_log(tmp_path / "log.csv")["loss"].tolist() == [0.9, 0.8, 0.7, 0.6]
    (tmp_path / "gap.csv").write_text("epoch,loss\n0,0.9\n2,0.7\n")
    with pytest.raises(ValueError, match="misses epochs"):
        read_epoch_log(tmp_path / "gap.csv")


def test_a_checkpoint_of_another_spec_is_discarded(tmp_path):
    spec = run_spec("mlp", {"gender": TARGETS["gender"]})
    checkpoint = prepare_checkpoint(tmp_path / "checkpoint", spec)
    (checkpoint / "latest.weights.h5").write_text("weights")
    assert (prepare_checkpoint(checkpoint, spec) / "latest.weights.h5").exists()
    spec["hyperparameters"]["learning_rate"] = 0.5
    assert not (prepare_checkpoint(checkpoint, spec) / "latest.weights.h5").exists()


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory):
    """A small_cnn run of 6 epochs whose process was SIGKILLed as epoch 3 began: newest checkpoint at epoch 3, older
    one at epoch 2, epochs 0-2 logged."""
    folder = tmp_path_factory.mktemp("killed_at_epoch_3")
    write_splits(folder)
    spec = run_spec("small_cnn", GENDER, epochs=6)
    process = subprocess.run([sys.executable, "-c", SCRIPT_KILLED_AT_EPOCH, json.dumps(spec), str(folder), "3"])
    assert process.returncode == -signal.SIGKILL
    step = folder / "checkpoint/step_0"
    assert json.loads((step / "training_metadata.json").read_text())["epoch"] == 3
    assert json.loads((step / "training_metadata.json.bkp").read_text())["epoch"] == 2
    assert len(pd.read_csv(step / "history.csv")) == 3
    return folder, spec


def copy_of(killed_run, tmp_path):
    folder, spec = killed_run
    shutil.copytree(folder, tmp_path / "run")
    return tmp_path / "run", tmp_path / "run/checkpoint/step_0", spec


def assert_completed(folder, info, epochs: int) -> None:
    assert list(pd.read_csv(folder / "history.csv")["epoch"]) == list(range(epochs))
    assert info["epochs_completed"] == epochs and json.loads((folder / "run.json").read_text()) == info
    assert not (folder / "checkpoint").exists()


def test_an_empty_checkpoint_metadata_file_sends_the_run_back_to_the_older_checkpoint(killed_run, tmp_path, capsys):
    folder, step, spec = copy_of(killed_run, tmp_path)
    (step / "training_metadata.json").write_text("")  # killed right after Keras opened it to write epoch 3

    info = train_again(folder, spec)

    assert_completed(folder, info, 6)
    assert info["resumed_from_epoch"] == 2 and len(info["images_per_second"]) == 4
    console = capsys.readouterr().err
    assert f"{step}: newest checkpoint: training_metadata.json holds '', not Keras'" in console
    assert "resuming from the older checkpoint, at epoch 3" in console


@pytest.mark.parametrize(
    ("damage", "resumed_at", "reported"),
    [
        # Killed while logging epoch 3: the newest checkpoint (epoch 3) is whole and the log covers it.
        (lambda text: text + "3,0.6931", 3, ["dropped the partial last line '3,0.6931'"]),
        # The row of epoch 2 cut short: the newest checkpoint claims an epoch the log lacks, the older one does not.
        (
            lambda text: text[:-12],
            2,
            ["dropped the partial last line '2,", "newest checkpoint: it holds 3 epochs but history.csv has only 2"],
        ),
    ],
    ids=["half-written next row", "last row cut short"],
)
def test_a_partial_last_line_of_the_epoch_log_is_dropped(killed_run, tmp_path, capsys, damage, resumed_at, reported):
    folder, step, spec = copy_of(killed_run, tmp_path)
    log = step / "history.csv"
    log.write_text(damage(log.read_text()))

    info = train_again(folder, spec)

    assert_completed(folder, info, 6)
    assert info["resumed_from_epoch"] == resumed_at
    console = capsys.readouterr().err
    assert all(line in console for line in reported), console
    killed_log = pd.read_csv(killed_run[0] / "checkpoint/step_0/history.csv")
    history = pd.read_csv(folder / "history.csv").drop(columns=["step", "step_epoch"])
    pd.testing.assert_frame_equal(history[:resumed_at], killed_log[:resumed_at])


def test_both_weight_generations_corrupt_restart_the_step(killed_run, tmp_path, capsys):
    folder, step, spec = copy_of(killed_run, tmp_path)
    newest, older = step / "latest.weights.h5", step / "latest.weights.h5.bkp"
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])  # killed half-way through the write
    older.write_bytes(np.random.default_rng(0).bytes(older.stat().st_size))

    info = train_again(folder, spec)

    assert_completed(folder, info, 6)
    assert info["resumed_from_epoch"] is None and len(info["images_per_second"]) == 6
    console = capsys.readouterr().err
    assert "newest checkpoint: latest.weights.h5 does not load" in console
    assert "older checkpoint: latest.weights.h5.bkp does not load" in console
    assert "no checkpoint can be used, the step starts again from its first epoch" in console
    # Started again from the same initial weights, not from what the damaged files half-loaded: as a clean run.
    clean = tmp_path / "clean"
    clean.mkdir()
    for name in ("train.npy", "train.csv", "val.npy", "val.csv"):
        shutil.copy(folder / name, clean / name)
    train_again(clean, spec)
    pd.testing.assert_frame_equal(pd.read_csv(folder / "history.csv"), pd.read_csv(clean / "history.csv"))


def test_a_run_stopped_after_its_last_step_saves_the_trained_model_when_run_again(tmp_path):
    write_splits(tmp_path)
    spec = run_spec("mlp", GENDER)
    with pytest.raises(FileNotFoundError):  # every step finished, then the model could not be written
        train_again(tmp_path, spec, model_path=tmp_path / "missing/model.keras")
    assert (tmp_path / "checkpoint/step_0/finished.weights.h5").exists()

    info = train_again(tmp_path, spec)

    assert info["resumed_from_epoch"] is None and info["images_per_second"] == []
    clean = tmp_path / "clean"
    clean.mkdir()
    write_splits(clean)
    train_again(clean, spec)
    saved, reference = (keras.models.load_model(path / "model.keras") for path in (tmp_path, clean))
    assert all(np.array_equal(a, b) for a, b in zip(saved.get_weights(), reference.get_weights(), strict=True))
