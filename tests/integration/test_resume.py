"""Resume after a kill: a real training process is SIGKILLed half-way, and the next attempt continues its epochs."""

import json
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

    info = train_run(
        spec,
        read_split(tmp_path / "train.npy", tmp_path / "train.csv"),
        read_split(tmp_path / "val.npy", tmp_path / "val.csv"),
        tmp_path / "model.keras",
        tmp_path / "history.csv",
        tmp_path / "run.json",
        tmp_path / "checkpoint",
        threads=1,
    )

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
