"""Training strategies on small real arrays: fine-tuning steps, early stopping, loss weights, augmentation,
regression and mixed precision, each checked on what the run writes."""

import json
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pandas as pd
import pytest
from training_helpers import TARGETS, TRAIN_SCRIPT, labelled_images, run_spec, train

from faceaudit.data.arrays import read_split
from faceaudit.evaluation.predictions import predict_eval_set
from faceaudit.models import build_model
from faceaudit.training.classifier import train_run
from faceaudit.training.runtime import precision_policy
from faceaudit.training.strategies import apply_step, trainable_parameters

GENDER = {"gender": TARGETS["gender"]}
NO_STOPPING = {"patience": None, "monitor": "val_loss", "restore_best_weights": True}


def step(trainable: str, epochs: int = 1, learning_rate: float = 0.01, **early_stopping) -> dict:
    return {
        "trainable": trainable,
        "epochs": epochs,
        "learning_rate": learning_rate,
        "early_stopping": NO_STOPPING | early_stopping,
    }


def rgb_images(count: int, seed: int, side: int = 32):
    """labelled_images scaled up to side x side RGB, the smallest input a VGG16 backbone takes."""
    images, rows = labelled_images(count, seed)
    images = np.repeat(np.kron(images, np.ones((1, 2, 2, 1), dtype=np.uint8)), 3, axis=-1)
    padding = side - images.shape[1]
    return np.pad(images, ((0, 0), (0, padding), (0, padding), (0, 0))), rows


def transfer_spec(steps: list[dict], **training) -> dict:
    spec = run_spec("vgg16", GENDER, head="classifier", weights=None, unfreeze_last=2, **training)
    spec["training"]["steps"] = steps
    spec["hyperparameters"]["batch_size"] = 8
    return spec


def test_each_step_trains_its_part_of_a_transfer_model():
    model = build_model("vgg16", (32, 32, 3), {"gender": 2}, weights=None)
    head = 512 * 2 + 2  # global average pooling, then the softmax layer
    counts = {}
    for part in ("head", "backbone", "last_layers", "all"):
        apply_step(model, part, unfreeze_last=2)
        counts[part] = trainable_parameters(model)
    assert counts["head"] == head
    assert counts["backbone"] == model.count_params() - head
    assert counts["last_layers"] == head + (3 * 3 * 512 * 512 + 512)  # block5_conv3; block5_pool has no weights
    assert counts["all"] == model.count_params()
    with pytest.raises(ValueError, match="step 'head' needs a transfer model with a backbone; 'mlp' has none"):
        apply_step(build_model("mlp", (12, 12, 1), {"gender": 2}), "head")


def test_three_step_fine_tuning_runs_every_step_in_order(tmp_path):
    spec = transfer_spec([step("head", 2), step("backbone", 1, 0.001), step("all", 1, 0.0001)])
    info = train_run(
        spec,
        rgb_images(48, 1),
        rgb_images(16, 2),
        tmp_path / "model.keras",
        tmp_path / "history.csv",
        tmp_path / "run.json",
        tmp_path / "checkpoint",
        threads=1,
    )

    history = pd.read_csv(tmp_path / "history.csv")
    assert list(history["epoch"]) == [0, 1, 2, 3]
    assert list(history["step"]) == [0, 0, 1, 2] and list(history["step_epoch"]) == [0, 1, 0, 0]
    assert info["step_epochs"] == [2, 1, 1] and info["epochs_completed"] == 4 and info["resumed_from_epoch"] is None
    assert keras.models.load_model(tmp_path / "model.keras").count_params() == info["parameters"]


def step_log_length(checkpoint, index: int) -> int:
    try:
        return len(pd.read_csv(checkpoint / f"step_{index}" / "history.csv"))
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return 0


def test_a_run_killed_in_its_second_step_resumes_there(tmp_path):
    for split, (count, seed) in {"train": (48, 1), "val": (16, 2)}.items():
        images, rows = rgb_images(count, seed)
        np.save(tmp_path / f"{split}.npy", images)
        rows.to_csv(tmp_path / f"{split}.csv", index=False)
    spec = transfer_spec([step("head", 2), step("last_layers", 8, 0.001)])
    spec["hyperparameters"]["batch_size"] = 2  # slow epochs: time to kill the process in step 2
    process = subprocess.Popen([sys.executable, "-c", TRAIN_SCRIPT, json.dumps(spec), str(tmp_path)])
    try:
        deadline = time.monotonic() + 300
        while (
            step_log_length(tmp_path / "checkpoint", 1) < 2 and process.poll() is None and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL, "training ended before it could be killed"
    assert (tmp_path / "checkpoint/step_0/finished.weights.h5").exists()

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
    assert list(history["step"]) == [0, 0] + [1] * 8 and list(history["epoch"]) == list(range(10))
    # Step 1 was not trained again; step 2 went on from its checkpoint (epoch 1 or, if killed mid-save, 0 of it).
    assert 3 <= info["resumed_from_epoch"] < 10
    assert len(info["images_per_second"]) == 10 - info["resumed_from_epoch"]


def test_early_stopping_ends_a_step_that_stops_improving(tmp_path):
    spec = run_spec("mlp", GENDER, epochs=10)
    # A learning rate too small to change any prediction: validation accuracy never improves after epoch 1.
    spec["training"]["steps"] = [step("all", 10, 1e-12, patience=1, monitor="val_accuracy")]
    out, info = train(tmp_path, spec)
    assert info["epochs_completed"] == 2 and info["step_epochs"] == [2]
    assert len(pd.read_csv(out / "history.csv")) == 2
    assert info["restored_epochs"] == [
        {
            "step": 0,
            "epoch": 0,
            "step_epoch": 0,
            "monitor": "val_accuracy",
            "reason": "early stopping kept the weights of its best val_accuracy",
        }
    ], "the best epoch's weights are kept, and the run says why"


def test_class_weights_reach_the_loss_and_are_recorded(tmp_path):
    images, rows = labelled_images(96, 1)
    male = np.flatnonzero(rows["gender"] == "Male")
    keep = np.sort(np.concatenate([np.flatnonzero(rows["gender"] == "Female"), male[: len(male) // 4]]))
    imbalanced = (images[keep], rows.iloc[keep].reset_index(drop=True))
    weighting = {"method": "class", "target": "gender"}
    runs = {}
    for name, method in (("plain", {"method": "none"}), ("weighted", weighting)):
        spec = run_spec("mlp", GENDER, loss_weighting=method)
        out = tmp_path / name
        out.mkdir()
        runs[name] = train_run(
            spec,
            imbalanced,
            labelled_images(32, 2),
            out / "model.keras",
            out / "history.csv",
            out / "run.json",
            out / "checkpoint",
            threads=1,
        )

    n_female, n_male = int((imbalanced[1]["gender"] == "Female").sum()), len(male) // 4
    total = n_female + n_male
    groups = runs["weighted"]["loss_weights"]["groups"]
    assert groups["Female"] == {"n": n_female, "weight": pytest.approx(total / (2 * n_female), abs=1e-5)}
    assert groups["Male"] == {"n": n_male, "weight": pytest.approx(total / (2 * n_male), abs=1e-5)}
    assert runs["plain"]["loss_weights"] is None
    plain, weighted = (pd.read_csv(tmp_path / name / "history.csv") for name in ("plain", "weighted"))
    assert plain["loss"].iloc[0] != pytest.approx(weighted["loss"].iloc[0], rel=1e-3)


def test_augmentation_changes_training_but_not_prediction(tmp_path):
    augmentation = {
        "rotation": 0.05,
        "zoom": 0.1,
        "width_shift": 0.1,
        "height_shift": 0.1,
        "shear": 0.1,
        "horizontal_flip": True,
    }
    plain_out, _ = train(tmp_path, run_spec("small_cnn", GENDER), "plain")
    out, _ = train(tmp_path, run_spec("small_cnn", GENDER, augmentation=augmentation), "augmented")

    model = keras.models.load_model(out / "model.keras")
    assert [layer.name for layer in model.layers if layer.name.startswith("augment_")] == [
        "augment_flip",
        "augment_rotation",
        "augment_zoom",
        "augment_shift",
        "augment_shear",
    ]
    images, rows = labelled_images(24, 3)
    first = predict_eval_set(out / "model.keras", images, rows, GENDER, [])
    second = predict_eval_set(out / "model.keras", images, rows, GENDER, [])
    pd.testing.assert_frame_equal(first, second)  # the random layers are inactive when predicting
    plain, augmented = (pd.read_csv(path / "history.csv") for path in (plain_out, out))
    assert plain["loss"].iloc[-1] != pytest.approx(augmented["loss"].iloc[-1], rel=1e-3)


def with_brightness(data):
    """Adds a numeric label: the mean brightness of the image's right half, which a CNN can learn."""
    images, rows = data
    rows = rows.assign(brightness=images[:, :, 6:, 0].mean(axis=(1, 2)).round(1).astype(str))
    return images, rows


@pytest.mark.parametrize("loss", ["mse", "mae"])
def test_a_numeric_target_trains_as_regression(tmp_path, loss):
    spec = run_spec("small_cnn", {"brightness": "numeric"}, epochs=8, regression_loss=loss)
    out = tmp_path / "run"
    out.mkdir()
    train_run(
        spec,
        with_brightness(labelled_images(96, 1)),
        with_brightness(labelled_images(32, 2)),
        out / "model.keras",
        out / "history.csv",
        out / "run.json",
        out / "checkpoint",
        threads=1,
    )

    history = pd.read_csv(out / "history.csv")
    assert {"mae", "val_mae"} <= set(history.columns)
    images, rows = with_brightness(labelled_images(40, 3))
    predictions = predict_eval_set(out / "model.keras", images, rows, {"brightness": "numeric"}, ["group"])
    assert list(predictions.columns) == ["path", "brightness_true", "brightness_pred", "group"]
    truth = predictions["brightness_true"].astype(float)
    model_error = (predictions["brightness_pred"] - truth).abs().mean()
    mean_error = (truth - truth.mean()).abs().mean()
    assert model_error < 0.5 * mean_error, (model_error, mean_error)


def test_mixed_precision_only_where_a_gpu_is(tmp_path):
    assert precision_policy(True, []) == "float32"
    assert precision_policy(True, ["/physical_device:GPU:0"]) == "mixed_float16"
    assert precision_policy(False, ["/physical_device:GPU:0"]) == "float32"
    # The GPU code path, run on the CPU: float16 layers, float32 outputs, and the global policy restored afterwards.
    spec = run_spec("mlp", GENDER, mixed_precision=True)
    out, info = train(tmp_path, spec, "mixed", policy="mixed_float16")
    assert info["precision_policy"] == "mixed_float16"
    assert keras.mixed_precision.global_policy().name == "float32"
    model = keras.models.load_model(out / "model.keras")
    hidden = [layer for layer in model.layers if layer.name.startswith("dense")]
    assert len(hidden) == 3 and all(layer.dtype_policy.name == "mixed_float16" for layer in hidden)
    assert model.get_layer("gender").dtype_policy.name == "float32"
    assert np.isfinite(pd.read_csv(out / "history.csv")["loss"]).all()
