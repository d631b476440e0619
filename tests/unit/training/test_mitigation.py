"""In-training mitigation on small real arrays: each method trains every kind of target it allows, saves a plain
classifier, and its state (DRO's group weights, the adversary and its optimizer slots) survives a checkpoint."""

import copy
import json

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import SCHEMA, TINY_STUDY
from training_helpers import MITIGATION_SETTINGS as METHOD_SETTINGS
from training_helpers import TARGETS, labelled_images, run_spec, train

from faceaudit.study.validation import ConfigError, validate_config
from faceaudit.training.mitigation import GROUP_KEY, mitigated_model, training_groups

GENDER = {"gender": TARGETS["gender"]}
AGE = {"age": TARGETS["age"]}


def settings_for(method: str, target: str) -> dict:
    settings = dict(METHOD_SETTINGS[method])
    return settings | {"target": target} if "target" in settings else settings


@pytest.mark.parametrize(
    "method, model, targets",
    [
        ("group_dro", "multitask_cnn", TARGETS),  # two targets: their losses summed per example
        ("adversarial", "baseline_cnn", GENDER),  # one sigmoid unit
        ("adversarial", "mlp", AGE),  # three classes
        ("mmd", "mlp", AGE),
    ],
)
def test_each_method_trains_and_saves_a_plain_classifier(tmp_path, method, model, targets):
    settings = settings_for(method, next(iter(targets)))
    out, info = train(tmp_path, run_spec(model, targets, mitigation=settings))
    history = pd.read_csv(out / "history.csv")
    assert np.isfinite(history[["loss", "val_loss"]].to_numpy()).all()
    saved = keras.models.load_model(out / "model.keras")
    assert type(saved) is keras.Model or type(saved).__name__ == "Functional"
    assert info["parameters"] == saved.count_params(), "the adversary is not part of the saved classifier"
    assert info["mitigation"]["method"] == method
    assert set(info["mitigation"]["groups"]) == {"A", "B"}
    written = json.loads((out / "run.json").read_text())
    assert written["training"]["mitigation"] == settings


def test_group_dro_weights_the_group_with_the_larger_loss_more(tmp_path):
    """Group B's labels are drawn at random: its loss stays high, so its weight must grow past A's."""
    images, rows = labelled_images(96, 1)
    noisy = (rows["group"] == "B").to_numpy()
    rows.loc[noisy, "gender"] = np.random.default_rng(0).choice(TARGETS["gender"], noisy.sum())
    out = tmp_path / "run"
    out.mkdir()
    spec = run_spec("mlp", GENDER, epochs=3, mitigation=METHOD_SETTINGS["group_dro"])
    from faceaudit.training.classifier import train_run

    info = train_run(
        spec, (images, rows), labelled_images(32, 2), out / "m.keras", out / "h.csv", out / "r.json", out / "c"
    )
    groups = info["mitigation"]["groups"]
    assert groups["B"]["weight"] > groups["A"]["weight"] and groups["A"]["weight"] + groups["B"]["weight"] == (
        pytest.approx(1.0, abs=1e-5)
    )
    assert groups["A"]["n"] + groups["B"]["n"] == 96


@pytest.mark.parametrize("method", ["group_dro", "adversarial"])
def test_the_methods_state_comes_back_from_a_checkpoint(tmp_path, method):
    """DRO's group weights, the adversary's weights and every optimizer slot (the adversary's too) are in Keras'
    epoch checkpoint and are what resume_point loads into a fresh model."""
    from faceaudit.training.checkpoints import fit_with_checkpoints
    from faceaudit.training.classifier import build_run_model, compile_for_step
    from faceaudit.training.inputs import encode_labels, make_dataset
    from faceaudit.training.progress import RunProgress
    from faceaudit.training.resume import resume_point

    spec = run_spec("mlp", GENDER, epochs=1, mitigation=METHOD_SETTINGS[method])
    images, rows = labelled_images(64, 1)
    vocabulary, groups, sizes = training_groups(rows, spec["training"]["mitigation"])
    data = make_dataset(images, encode_labels(rows, GENDER) | {GROUP_KEY: groups}, 16, shuffle=False)

    def fresh_model():
        keras.utils.set_random_seed(len(vocabulary) + (0 if not hasattr(fresh_model, "built") else 7))
        fresh_model.built = True
        model = build_run_model(spec, images.shape[1:], (0.0, 255.0))
        model = mitigated_model(model, spec["training"]["mitigation"], GENDER, vocabulary, sizes, seed=3)
        compile_for_step(model, spec, 0.01)
        return model

    trained = fresh_model()
    progress = RunProgress("roundtrip", [1], [0.01], len(images))
    val = make_dataset(images, encode_labels(rows, GENDER), 16, shuffle=False)
    fit_with_checkpoints(trained, data, val, tmp_path, progress, 0, 0)
    resumed = fresh_model()
    assert resume_point(resumed, tmp_path, print) == 1
    for saved, loaded in zip(trained.weights, resumed.weights, strict=True):
        np.testing.assert_array_equal(saved.numpy(), loaded.numpy(), err_msg=saved.path)
    for saved, loaded in zip(trained.optimizer.variables, resumed.optimizer.variables, strict=True):
        np.testing.assert_array_equal(saved.numpy(), loaded.numpy(), err_msg=saved.path)
    if method == "group_dro":
        assert not np.allclose(trained.group_weights.numpy(), 0.5), "the weights moved during the epoch"
    else:
        assert len(trained.adversary.weights) == 4, "hidden and output layer of the adversary"


def test_model_selection_keeps_the_epoch_with_the_best_worst_group_accuracy(tmp_path):
    selection = {"monitor": "worst_group_accuracy", "attributes": ["group"], "target": "gender"}
    out, info = train(tmp_path, run_spec("mlp", GENDER, epochs=4, model_selection=selection))
    history = pd.read_csv(out / "history.csv")
    best = int(history["val_worst_group_accuracy"].idxmax())
    [kept] = info["restored_epochs"]
    assert kept["epoch"] == best and kept["monitor"] == "val_worst_group_accuracy"
    assert kept["value"] == pytest.approx(history["val_worst_group_accuracy"].max(), abs=1e-6)
    assert "model selection kept the epoch with the best val_worst_group_accuracy" in kept["reason"]
    # the saved model is that epoch's: its worst-group accuracy on the val split is the logged one
    from faceaudit.evaluation.predictions import predict_eval_set

    images, rows = labelled_images(32, 2)
    predictions = predict_eval_set(out / "model.keras", images, rows, GENDER, ["group"])
    correct = (predictions["gender_true"] == predictions["gender_pred"]).groupby(predictions["group"]).mean()
    assert correct.min() == pytest.approx(kept["value"], abs=1e-6)
    assert not (out / "checkpoint").exists()


@pytest.mark.parametrize(
    ("key", "value"), [("strength", 1e6), ("group_adjustment", 1e300), ("bandwidth", 1e-300), ("bandwidth", 100.0)]
)
def test_a_mitigation_setting_out_of_its_range_is_refused_naming_the_key(key, value):
    """Issue 25 (weak): extreme settings trained to NaN, the error blaming the learning rate."""
    config = copy.deepcopy(TINY_STUDY)
    config["experiments"]["gender_mitigation"]["mitigation"][key] = value
    with pytest.raises(ConfigError, match=rf"experiments\.gender_mitigation\.mitigation\.{key}"):
        validate_config(config, SCHEMA)
