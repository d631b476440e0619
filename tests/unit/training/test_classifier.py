"""Training and prediction on small real arrays: outputs on disk, repeatable with a seed, predictions consistent."""

import json

import keras
import numpy as np
import pandas as pd
import pytest
from training_helpers import TARGETS, labelled_images, run_spec, train

from faceaudit.evaluation.predictions import predict_eval_set


def test_training_writes_model_history_and_run_info(tmp_path):
    out, info = train(tmp_path, run_spec("multitask_cnn", TARGETS))
    history = pd.read_csv(out / "history.csv")
    assert list(history["epoch"]) == [0, 1] and list(history["step"]) == [0, 0]
    assert {"loss", "val_loss", "gender_accuracy", "val_age_accuracy"} <= set(history.columns)
    written = json.loads((out / "run.json").read_text())
    assert written == info
    assert written["epochs_completed"] == 2 and len(written["images_per_second"]) == 2
    assert written["restored_epochs"] == [], "no early stopping, no restored epoch"
    assert all(rate > 0 for rate in written["images_per_second"])
    assert written["parameters"] == keras.models.load_model(out / "model.keras").count_params()
    assert written["pixel_range"] == [0.0, float(labelled_images(96, 1)[0].max())]
    assert not (out / "checkpoint").exists(), "the epoch checkpoint is removed once training completes"


def test_same_seed_same_training(tmp_path):
    spec = run_spec("small_cnn", {"gender": TARGETS["gender"]})
    first, _ = train(tmp_path, spec, "first")
    second, _ = train(tmp_path, spec, "second")
    pd.testing.assert_frame_equal(pd.read_csv(first / "history.csv"), pd.read_csv(second / "history.csv"))


def test_predictions_carry_truth_scores_and_groups(tmp_path):
    out, _ = train(tmp_path, run_spec("small_cnn", {"gender": TARGETS["gender"]}, epochs=3))
    images, rows = labelled_images(40, 3)
    predictions = predict_eval_set(out / "model.keras", images, rows, {"gender": TARGETS["gender"]}, ["group"])
    assert list(predictions.columns) == [
        "path",
        "gender_true",
        "gender_pred",
        "gender_score_0",
        "gender_score_1",
        "group",
    ]
    scores = predictions[["gender_score_0", "gender_score_1"]].to_numpy()
    assert np.allclose(scores.sum(axis=1), 1.0, atol=1e-5)
    assert (predictions["gender_pred"] == np.array(TARGETS["gender"])[scores.argmax(axis=1)]).all()
    assert (predictions["gender_true"] == rows["gender"]).all() and (predictions["group"] == rows["group"]).all()
    assert (predictions["gender_true"] == predictions["gender_pred"]).mean() > 0.8


def test_unknown_optimizer_is_named(tmp_path):
    spec = run_spec("mlp", {"gender": TARGETS["gender"]})
    spec["hyperparameters"]["optimizer"] = "rmsprop"
    with pytest.raises(ValueError, match="rmsprop"):
        train(tmp_path, spec)


def test_mirrored_strategy_code_path_trains(tmp_path):
    # What a multi-GPU node runs (one replica per GPU), here with one replica on the CPU.
    import tensorflow as tf

    spec = run_spec("small_cnn", {"gender": TARGETS["gender"]})
    out, info = train(tmp_path, spec, "mirrored", strategy=tf.distribute.MirroredStrategy(["/cpu:0"]))
    assert info["replicas"] == 1 and info["epochs_completed"] == 2
    assert keras.models.load_model(out / "model.keras").count_params() == info["parameters"]
    assert pd.read_csv(out / "history.csv")["val_accuracy"].iloc[-1] > 0.8
