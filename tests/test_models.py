"""The model registry: the config's model names build the architectures of shared/DESIGN.md, behind a min-max
rescaling fitted on the train set's pixel range."""

import keras
import numpy as np
import pytest

from faceaudit.models import build_model

GRAY_32 = (32, 32, 1)


@pytest.mark.parametrize(
    ("name", "params_2_classes", "params_9_classes"),
    [
        ("mlp", 1_625_902, 1_626_609),
        ("small_cnn", 785_342, 786_049),
        ("cnn_bn", 651_266, 652_169),
    ],
)
def test_single_target_models_have_the_documented_size(name, params_2_classes, params_9_classes):
    binary = build_model(name, GRAY_32, {"gender": 2})
    nine_way = build_model(name, GRAY_32, {"age": 9})

    assert binary.count_params() == params_2_classes
    assert nine_way.count_params() == params_9_classes
    assert binary.name == name
    assert binary.input_shape == (None, 32, 32, 1)
    assert binary.output_shape == (None, 2)
    assert nine_way.get_layer("age").activation is keras.activations.softmax


def test_multitask_model_has_one_softmax_output_per_target():
    model = build_model("multitask_cnn", (32, 32, 3), {"gender": 2, "age": 9})

    assert sorted(model.output_names) == ["age", "gender"]
    assert {target: tuple(tensor.shape) for target, tensor in model.output.items()} == {"gender": (None, 2), "age": (None, 9)}
    for target in ("gender", "age"):
        assert model.get_layer(target).activation is keras.activations.softmax
    scores = model.predict(np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3)).astype("uint8"), verbose=0)
    assert scores["gender"].shape == (3, 2) and scores["age"].shape == (3, 9)
    np.testing.assert_allclose(scores["gender"].sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(scores["age"].sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", ["mlp", "small_cnn", "cnn_bn"])
def test_single_target_model_refuses_two_targets(name):
    with pytest.raises(ValueError, match=r"exactly one target, got \['age', 'gender'\]; use multitask_cnn"):
        build_model(name, GRAY_32, {"gender": 2, "age": 9})


def test_unknown_model_name_is_named():
    with pytest.raises(ValueError, match="unknown model 'resnet9000'; known models: .*'mlp'"):
        build_model("resnet9000", GRAY_32, {"gender": 2})


@pytest.mark.parametrize("pixel_range", [(0.0, 255.0), (12.0, 200.0), (0.2, 0.6)])
def test_min_max_scaling_maps_the_train_pixel_range_to_unit_interval(pixel_range):
    low, high = pixel_range
    model = build_model("mlp", (2, 2, 1), {"gender": 2}, pixel_range=pixel_range)
    scaling = model.get_layer("min_max_scaling")

    pixels = np.array([low, (low + high) / 2, high], dtype="float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(scaling(pixels)), [0.0, 0.5, 1.0], atol=1e-6)


def test_min_max_scaling_of_a_constant_train_set_does_not_divide_by_zero():
    scaling = build_model("mlp", (2, 2, 1), {"gender": 2}, pixel_range=(7.0, 7.0)).get_layer("min_max_scaling")

    np.testing.assert_allclose(keras.ops.convert_to_numpy(scaling(np.array([7.0, 8.0], dtype="float32"))), [0.0, 1.0])
