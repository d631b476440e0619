"""Auditing a model file trained elsewhere (`model: external`): .keras, .h5 and SavedModel files load and predict;
the input and output contract is checked with messages naming the file and the config key; pixels are scaled as the
model expects; scores come out in the dataset's class order, summed where a label map merges classes."""

import keras
import numpy as np
import pandas as pd
import pytest
from keras import layers
from training_helpers import labelled_images

from faceaudit.evaluation.predictions import predict_eval_set
from faceaudit.external.models import (
    check_contract,
    load_external_model,
    output_sort_key,
    predict_external,
    scale_pixels,
)
from faceaudit.models import build_model

KEY = "experiments.colleague"
GENDER = ["Female", "Male"]


def tiny_model() -> keras.Model:
    """Any image size in; a softmax gender output, a 3-class age output and a 1-unit sigmoid smile output."""
    inputs = keras.Input((None, None, 3), name="pixels")
    features = layers.GlobalAveragePooling2D()(layers.Conv2D(4, 3, activation="relu")(inputs))
    return keras.Model(
        inputs,
        {
            "gender": layers.Dense(2, activation="softmax", name="gender")(features),
            "age": layers.Dense(3, activation="softmax", name="age")(features),
            "smiling": layers.Dense(1, activation="sigmoid", name="smiling")(features),
        },
    )


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The tiny model as .keras, .h5 and SavedModel, its outputs on a known batch, and 12 faces in a memory map."""
    folder = tmp_path_factory.mktemp("external")
    keras.utils.set_random_seed(3)
    model = tiny_model()
    model.save(folder / "tiny.keras")
    model.save(folder / "tiny.h5")
    model.export(folder / "tiny_savedmodel", verbose=False)
    batch = np.random.default_rng(0).uniform(0, 1, (5, 10, 10, 3)).astype("float32")
    expected = {name: np.asarray(scores) for name, scores in model.predict_on_batch(batch).items()}
    images, rows = labelled_images(12, seed=4)
    rows["smiling"] = np.where(rows["group"] == "A", "yes", "no")
    np.save(folder / "gray.npy", images)
    np.save(folder / "rgb.npy", np.repeat(images, 3, axis=-1))
    return {"folder": folder, "batch": batch, "expected": expected, "rows": rows}


def contract(outputs: dict, size: int = 12, color: str = "rgb", scaling: str = "unit", label_map=None) -> dict:
    return {
        "image": {"size": size, "color": color},
        "external": {"file": "model", "scaling": scaling, "outputs": outputs, "label_map": label_map},
    }


def memory_map(saved, color: str) -> np.ndarray:
    return np.load(saved["folder"] / f"{color}.npy", mmap_mode="r")


@pytest.mark.parametrize("file", ["tiny.keras", "tiny.h5", "tiny_savedmodel"])
def test_keras_h5_and_savedmodel_files_load_and_predict(saved, file):
    model = load_external_model(saved["folder"] / file)

    outputs = dict(zip(model.output_names, model(saved["batch"])))

    assert sorted(outputs) == ["age", "gender", "smiling"]
    assert dict(zip(model.output_names, model.output_widths)) == {"age": 3, "gender": 2, "smiling": 1}
    for name, scores in saved["expected"].items():
        np.testing.assert_allclose(outputs[name], scores, rtol=1e-5, atol=1e-6)


def test_a_faceaudit_model_audited_as_external_predicts_as_predict_eval_set(saved, tmp_path):
    keras.utils.set_random_seed(5)
    build_model("small_cnn", (12, 12, 1), {"gender": 2}).save(tmp_path / "model.keras")
    images, rows = memory_map(saved, "gray"), saved["rows"]
    gender_contract = contract({"gender": {"output": 0, "classes": GENDER}}, color="gray", scaling="none")

    own = predict_eval_set(tmp_path / "model.keras", images, rows, {"gender": GENDER}, ["group"])
    external = predict_external(tmp_path / "model.keras", images, rows, gender_contract, {"gender": GENDER}, ["group"])

    pd.testing.assert_frame_equal(external, own, check_exact=True)
    assert list(external["gender_pred"]) == list(own["gender_pred"])


def test_a_wrong_input_size_names_the_model_file_and_the_image_key(tmp_path):
    build_model("small_cnn", (12, 12, 1), {"gender": 2}).save(tmp_path / "model.keras")
    model = load_external_model(tmp_path / "model.keras")

    with pytest.raises(ValueError) as error:
        check_contract(model, contract({}, size=16, color="gray"), KEY)

    assert str(error.value) == (
        f"{tmp_path / 'model.keras'} takes input (None, 12, 12, 1) but {KEY}.image gives 16x16 gray (16, 16, 1)"
    )
    with pytest.raises(ValueError, match=r"takes input \(None, 12, 12, 1\) but .*gives 12x12 rgb \(12, 12, 3\)"):
        check_contract(model, contract({}, size=12, color="rgb"), KEY)


def test_a_model_without_a_fixed_size_accepts_any_size(saved):
    model = load_external_model(saved["folder"] / "tiny.keras")

    for size in (12, 224):
        check_contract(model, contract({"gender": {"output": "gender", "classes": GENDER}}, size=size), KEY)


def test_an_output_width_that_does_not_fit_the_classes_names_both(saved):
    model = load_external_model(saved["folder"] / "tiny_savedmodel")
    three_genders = contract({"gender": {"output": "gender", "classes": ["Female", "Male", "Other"]}})

    with pytest.raises(ValueError) as error:
        check_contract(model, three_genders, KEY)

    assert str(error.value) == (
        f"output 'gender' of {saved['folder'] / 'tiny_savedmodel'} has 2 units "
        f"but {KEY}.external.outputs.gender lists 3 classes"
    )
    with pytest.raises(ValueError, match=r"outputs.gender.output is 7, but .* has 3 outputs: \['age', 'gender'"):
        check_contract(model, contract({"gender": {"output": 7, "classes": GENDER}}), KEY)


def test_pixels_are_scaled_as_the_model_expects():
    pixels = np.array([[[[0, 51, 255]]]], dtype="uint8")  # one RGB pixel

    np.testing.assert_allclose(scale_pixels(pixels, "none").ravel(), [0, 51, 255])
    np.testing.assert_allclose(scale_pixels(pixels, "unit").ravel(), [0, 0.2, 1])
    np.testing.assert_allclose(scale_pixels(pixels, "symmetric").ravel(), [-1, -0.6, 1], atol=1e-6)
    np.testing.assert_allclose(scale_pixels(pixels, "mobilenet_v2").ravel(), [-1, -0.6, 1], atol=1e-6)
    # caffe style (vgg16, resnet50): RGB to BGR, then minus the ImageNet mean of each channel
    np.testing.assert_allclose(scale_pixels(pixels, "vgg16").ravel(), [255 - 103.939, 51 - 116.779, 0 - 123.68])
    assert scale_pixels(pixels, "unit").dtype == np.float32
    with pytest.raises(ValueError, match="scaling 'vgg16' is a backbone's preprocessing for RGB images, not 1 channel"):
        scale_pixels(pixels[..., :1], "vgg16")
    with pytest.raises(ValueError, match="unknown scaling 'zscore'; known scalings: .*'unit'"):
        scale_pixels(pixels, "zscore")


def audit_tiny(saved, outputs: dict, targets: dict, label_map=None) -> tuple[pd.DataFrame, dict]:
    """predict_external on the 12 faces, and the tiny model's own outputs on them (unit scaling)."""
    images, rows = memory_map(saved, "rgb"), saved["rows"]
    path = saved["folder"] / "tiny.keras"
    table = predict_external(path, images, rows, contract(outputs, label_map=label_map), targets, [], key=KEY)
    model = load_external_model(path)
    return table, dict(zip(model.output_names, model(np.asarray(images, dtype="float32") / 255)))


def test_scores_follow_the_dataset_class_order_not_the_model_order(saved):
    table, raw = audit_tiny(saved, {"gender": {"output": "gender", "classes": ["Male", "Female"]}}, {"gender": GENDER})

    np.testing.assert_allclose(table["gender_score_0"], raw["gender"][:, 1], rtol=1e-6)  # Female: model's 2nd column
    np.testing.assert_allclose(table["gender_score_1"], raw["gender"][:, 0], rtol=1e-6)
    assert list(table["gender_pred"]) == list(np.where(raw["gender"][:, 1] > raw["gender"][:, 0], "Female", "Male"))
    assert list(table["gender_true"]) == list(saved["rows"]["gender"])


def test_a_many_to_one_label_map_sums_the_scores(saved):
    outputs = {"age": {"output": "age", "classes": ["child", "teen", "adult"]}}
    label_map = {"age": {"child": "young", "teen": "young"}}

    table, raw = audit_tiny(saved, outputs, {"age": ["young", "adult"]}, label_map)

    np.testing.assert_allclose(table["age_score_0"], raw["age"][:, 0] + raw["age"][:, 1], rtol=1e-6)
    np.testing.assert_allclose(table["age_score_1"], raw["age"][:, 2], rtol=1e-6)


def test_a_sigmoid_output_gives_two_class_scores(saved):
    outputs = {"smiling": {"output": "smiling", "classes": ["no", "yes"]}}

    table, raw = audit_tiny(saved, outputs, {"smiling": ["no", "yes"]})

    np.testing.assert_allclose(table["smiling_score_1"], raw["smiling"][:, 0], rtol=1e-6)
    np.testing.assert_allclose(table["smiling_score_0"], 1 - raw["smiling"][:, 0], rtol=1e-5)


def test_a_model_class_without_a_dataset_class_stops_at_the_contract_check(saved):
    model = load_external_model(saved["folder"] / "tiny.keras")
    outputs = {"age": {"output": "age", "classes": ["child", "teen", "adult"]}}
    teen_unmapped = contract(outputs, label_map={"age": {"child": "young"}})

    with pytest.raises(ValueError) as error:
        check_contract(model, teen_unmapped, KEY, {"age": ["young", "adult"]})

    assert str(error.value) == (
        f"{KEY}.external.outputs.age: the model's class 'teen' is not among the dataset's classes ['young', 'adult']; "
        f"map it in {KEY}.external.label_map"
    )


def test_a_missing_file_names_the_file_and_the_key(tmp_path):
    with pytest.raises(FileNotFoundError, match=rf"{KEY}.external.file: the model file .*absent.keras does not exist"):
        load_external_model(tmp_path / "absent.keras", f"{KEY}.external.file")
    (tmp_path / "broken.keras").write_text("not a model")
    with pytest.raises(ValueError, match=rf"{KEY}.external.file: Keras cannot read .*broken.keras"):
        load_external_model(tmp_path / "broken.keras", f"{KEY}.external.file")


def test_a_custom_layer_keras_cannot_find_is_named(tmp_path):
    class Doubling(layers.Layer):
        def call(self, inputs):
            return inputs * 2

    inputs = keras.Input((4,))
    keras.Model(inputs, layers.Dense(2)(Doubling()(inputs))).save(tmp_path / "custom.keras")

    with pytest.raises(ValueError, match=r"external.file: .*custom.keras uses 'Doubling', a custom class"):
        load_external_model(tmp_path / "custom.keras")


def test_savedmodel_outputs_are_numbered_as_keras_export_numbers_them():
    names = ["output_10", "output_2", "output_0", "logits"]

    assert sorted(names, key=output_sort_key) == ["output_0", "output_2", "output_10", "logits"]
