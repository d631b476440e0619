"""What a user sees while a run trains: one console line per epoch (Keras' output and TensorFlow's start-up lines in
the job's log), the epoch whose weights early stopping kept, and a run that diverges stopped with its learning rate."""

import json
import re
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest
from training_helpers import MITIGATION_SETTINGS, TARGETS, TRAIN_SCRIPT, labelled_images, run_spec, train

from faceaudit.training.callbacks import TrainingDiverged
from faceaudit.training.inputs import encode_labels, make_dataset
from faceaudit.training.progress import RunProgress, duration

GENDER = {"gender": TARGETS["gender"]}
# What workflow/scripts/train.py does: the job's output to its log first, then training (argv: spec, folder, log).
SCRIPT_WITH_LOG = (
    "import sys\nfrom faceaudit.logs import redirect_output_to\nredirect_output_to(sys.argv[3])\n" + TRAIN_SCRIPT
)


def step(epochs: int, learning_rate: float, **early_stopping) -> dict:
    stopping = {"patience": None, "monitor": "val_loss", "restore_best_weights": True} | early_stopping
    return {"trainable": "all", "epochs": epochs, "learning_rate": learning_rate, "early_stopping": stopping}


def test_the_console_shows_one_line_per_epoch_and_the_log_keeps_the_rest(tmp_path):
    for split, (count, seed) in {"train": (96, 1), "val": (32, 2)}.items():
        images, rows = labelled_images(count, seed)
        np.save(tmp_path / f"{split}.npy", images)
        rows.to_csv(tmp_path / f"{split}.csv", index=False)
    spec = run_spec("mlp", GENDER, steps=[step(2, 0.01), step(1, 0.001)])
    log = tmp_path / "train.log"

    job = subprocess.run(
        [sys.executable, "-c", SCRIPT_WITH_LOG, json.dumps(spec), str(tmp_path), str(log)],
        capture_output=True,
        text=True,
    )

    assert job.returncode == 0, log.read_text()[-3000:]
    assert job.stdout == ""
    number, rate = r"\d+(\.\d+)?(e-\d+)?", r"\d+ images/s"
    line = (
        rf"mlp_test: epoch (\d)/3 \(step (\d)/2, epoch (\d)/(\d)\)  loss {number}  accuracy {number}  "
        rf"val_loss {number}  val_accuracy {number}  {rate}  ETA \d+s"
    )
    console = job.stderr.splitlines()
    assert [re.fullmatch(line, text).group(1, 2, 3, 4) for text in console] == [
        ("1", "1", "1", "2"),
        ("2", "1", "2", "2"),
        ("3", "2", "1", "1"),
    ], job.stderr
    written = log.read_text()
    assert all(text in written for text in console)
    assert "Epoch 2/2" in written and written.count("6/6 - ") == 3, "Keras' own epoch output is in the log"
    assert re.search(r"absl|oneDNN|tensorflow/", written), "TensorFlow's C++ start-up lines went to the log"


def test_the_epoch_whose_weights_early_stopping_kept_is_recorded(tmp_path, capsys):
    # Too large a learning rate for the second step: its validation loss is lowest in its 4th epoch, not its last.
    age = {"age": TARGETS["age"]}
    spec = run_spec("mlp", age, steps=[step(1, 0.01), step(6, 0.05, patience=2, monitor="val_loss")])
    out, info = train(tmp_path, spec)

    history = pd.read_csv(out / "history.csv")
    second_step = history[history["step"] == 1]
    best = second_step.loc[second_step["val_loss"].idxmin()]  # the first of equal minima, as Keras keeps it
    assert best["val_loss"] < history["val_loss"].iloc[-1], "the test needs a best epoch before the last"
    assert info["restored_epochs"] == [
        {
            "step": 1,
            "epoch": int(best["epoch"]),
            "step_epoch": int(best["step_epoch"]),
            "monitor": "val_loss",
            "reason": "early stopping kept the weights of its best val_loss",
        }
    ]
    assert json.loads((out / "run.json").read_text())["restored_epochs"] == info["restored_epochs"]
    model = keras.models.load_model(out / "model.keras")
    images, rows = labelled_images(32, 2)
    val_data = make_dataset(images, encode_labels(rows, age), 16, shuffle=False)
    assert model.evaluate(val_data, verbose=0, return_dict=True)["loss"] == pytest.approx(best["val_loss"], rel=1e-4)
    assert f"early stopping kept the weights of its best val_loss: epoch {int(best['epoch']) + 1}/7" in (
        capsys.readouterr().err
    )


def test_a_diverging_run_stops_at_once_and_names_its_learning_rate(tmp_path):
    spec = run_spec("mlp", GENDER, epochs=3, steps=[step(3, 1e12)])
    spec["hyperparameters"] |= {"optimizer": "sgd", "learning_rate": 1e12}
    with pytest.raises(TrainingDiverged) as stopped:
        train(tmp_path, spec)
    assert re.fullmatch(
        r"mlp_test: training diverged, the loss became (nan|inf) at step 1/1, epoch 1 of the step \(epoch 1 of the "
        r"run\), batch \d+, with learning rate 1e\+12\. The run was stopped; give it a smaller learning rate "
        r"\(e\.g\. 1e\+11\) in the config\.",
        str(stopped.value),
    )
    step_dir = tmp_path / "run/checkpoint/step_0"
    assert (step_dir / "history.csv").read_text() == "", "the epoch that diverged is not logged"
    assert not (step_dir / "latest.weights.h5").exists(), "nor checkpointed"
    assert not (tmp_path / "run/run.json").exists()


def test_a_diverging_mitigated_run_points_at_the_methods_settings_first(tmp_path):
    """Issue 25 (weak): NaN from extreme mitigation settings was blamed on the learning rate alone."""
    spec = run_spec("mlp", GENDER, epochs=1, steps=[step(1, 1e12)], mitigation=MITIGATION_SETTINGS["group_dro"])
    spec["hyperparameters"] |= {"optimizer": "sgd", "learning_rate": 1e12}
    with pytest.raises(TrainingDiverged) as stopped:
        train(tmp_path, spec)
    assert str(stopped.value).endswith(
        "The run was stopped; it trains with in-training mitigation (group_dro): check the experiment's "
        "`mitigation` settings first (strength, group_adjustment, bandwidth: extreme values make the loss explode at "
        "any learning rate), then try a smaller learning rate (e.g. 1e+11)."
    )


def test_an_epoch_line_shows_where_the_run_is_and_what_is_left():
    progress = RunProgress("faces_multitask", [4, 6], [0.001, 0.0001], 800, [812.4], [30.0, 30.0])
    logs = {"loss": 0.81234, "gender_loss": 0.3, "gender_accuracy": 0.91, "age_mae": 4.2, "val_loss": 0.9}
    assert progress.epoch_line(1, 1, 4, logs) == (
        "epoch 6/10 (step 2/2, epoch 2/6)  loss 0.8123  age_mae 4.2  gender_accuracy 0.9100  val_loss 0.9"
        "  812 images/s  ETA 2m00s"
    )
    assert [duration(seconds) for seconds in (5, 65, 3700)] == ["5s", "1m05s", "1h01m"]
