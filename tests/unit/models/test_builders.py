"""The model registry: the config's model names build the architectures of shared/DESIGN.md, behind a min-max
rescaling fitted on the train set's pixel range."""

import keras
import numpy as np
import pytest
from face_images import draw_faces, load_faces

from faceaudit.catalog import LOSSES, MIN_IMAGE_SIZE, output_kind
from faceaudit.models import build_model, builders, class_scores

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
    assert {target: tuple(tensor.shape) for target, tensor in model.output.items()} == {
        "gender": (None, 2),
        "age": (None, 9),
    }
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


def test_baseline_cnn_matches_the_published_summary():
    model = build_model("baseline_cnn", (100, 100, 3), {"gender": 2})

    assert [layer.count_params() for layer in model.layers if layer.count_params()] == [448, 2_320, 541_760, 65]
    assert model.count_params() == 544_593
    pooled = [tuple(layer.output.shape) for layer in model.layers if isinstance(layer, keras.layers.MaxPooling2D)]
    assert pooled == [(None, 49, 49, 16), (None, 23, 23, 16)]  # stride-2 pooling: 98 -> 49, 47 -> 23
    assert model.output_shape == (None, 1)
    assert model.get_layer("gender").activation is keras.activations.sigmoid


def test_plain_cnn_matches_aif360s_utkface_tutorial():
    model = build_model("plain_cnn", (64, 64, 3), {"gender": 2})

    # torchsummary of the tutorial's ThreeLayerCNN: 456, 2,416, 9,232, 30,840, 242 = 43,186
    assert [layer.count_params() for layer in model.layers if layer.count_params()] == [456, 2_416, 9_232, 30_840, 242]
    assert model.count_params() == 43_186
    pooled = [tuple(layer.output.shape) for layer in model.layers if isinstance(layer, keras.layers.MaxPooling2D)]
    assert pooled == [(None, 30, 30, 6), (None, 13, 13, 16), (None, 4, 4, 16)]
    assert model.get_layer("gender").activation is keras.activations.softmax


@pytest.mark.parametrize("name", sorted(MIN_IMAGE_SIZE))
def test_models_with_a_minimum_input_size_build_there_and_not_one_pixel_below(name):
    size = MIN_IMAGE_SIZE[name]
    builder = builders.MODELS[name]

    builder(keras.Input((size, size, 1)), {"gender": 2})
    with pytest.raises(ValueError):
        builder(keras.Input((size - 1, size - 1, 1)), {"gender": 2})
    with pytest.raises(
        ValueError, match=rf"'{name}' needs images of at least {size}x{size} pixels, got \({size - 1}, "
    ):
        build_model(name, (size - 1, size - 1, 1), {"gender": 2})


def test_multitask_cnn_takes_a_single_target_too():
    model = build_model("multitask_cnn", GRAY_32, {"gender": 2})

    assert model.output_names == ["gender"] and tuple(model.output["gender"].shape) == (None, 2)


def test_baseline_cnn_refuses_a_target_with_more_than_two_classes():
    with pytest.raises(ValueError, match="baseline_cnn has one sigmoid output for binary targets; 'age' has 9 classes"):
        build_model("baseline_cnn", (100, 100, 3), {"age": 9})


def test_deep_cnn_has_the_published_size_and_regularises_its_first_convolution():
    model = build_model("deep_cnn", (100, 100, 3), {"species": 102})

    assert model.count_params() == 17_452_678
    convolutions = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert isinstance(convolutions[0].kernel_regularizer, keras.regularizers.L1L2)
    assert [layer.kernel_regularizer for layer in convolutions[1:]] == [None, None, None]
    assert model.output_shape == (None, 102)


def test_output_kind_names_the_loss_each_model_needs():
    assert output_kind("mlp") == "softmax"
    assert output_kind("baseline_cnn") == "sigmoid"
    assert output_kind("vgg16", head="flatten_128_sigmoid") == "sigmoid"
    assert output_kind("efficientnet_b3", head="dense_128_32") == "softmax"
    assert LOSSES == {"softmax": "sparse_categorical_crossentropy", "sigmoid": "binary_crossentropy"}
    with pytest.raises(ValueError, match="'vae' is not a target classifier"):
        output_kind("vae")


def test_class_scores_turn_a_sigmoid_output_into_two_class_columns():
    np.testing.assert_allclose(class_scores(np.array([[0.2], [0.9]]), 2), [[0.8, 0.2], [0.1, 0.9]], rtol=1e-6)
    softmax = np.array([[0.1, 0.7, 0.2]], dtype="float32")
    np.testing.assert_array_equal(class_scores(softmax, 3), softmax)
    with pytest.raises(ValueError, match="output with 1 columns does not give scores for 9 classes"):
        class_scores(np.array([[0.3]]), 9)


def test_models_that_are_not_classifiers_point_to_their_builder():
    with pytest.raises(
        ValueError, match="'vae' is not a target classifier: build it with faceaudit.models.vae.build_vae"
    ):
        build_model("vae", GRAY_32, {"gender": 2})
    with pytest.raises(
        ValueError,
        match="'lstm' is not a target classifier: build it with faceaudit.models.sequence.build_sequence_model",
    ):
        build_model("lstm", GRAY_32, {"gender": 2})
    with pytest.raises(
        ValueError, match="head and weights apply to transfer backbones only; 'mlp' got head='dense_128_32'"
    ):
        build_model("mlp", GRAY_32, {"gender": 2}, head="dense_128_32")


@pytest.fixture(scope="module")
def face_files(tmp_path_factory):
    return draw_faces(tmp_path_factory.mktemp("faces"))


@pytest.mark.parametrize(
    ("name", "size", "color", "targets"),
    [
        ("mlp", 32, "gray", {"gender": 2}),
        ("small_cnn", 32, "gray", {"age": 9}),
        ("cnn_bn", 32, "gray", {"gender": 2}),
        ("baseline_cnn", 100, "rgb", {"gender": 2}),
        ("deep_cnn", 100, "rgb", {"species": 102}),
        ("plain_cnn", 64, "rgb", {"gender": 2}),
        ("multitask_cnn", 32, "rgb", {"gender": 2, "age": 9}),
    ],
)
def test_model_trains_a_step_on_real_images_and_reloads_with_identical_predictions(
    name, size, color, targets, face_files, tmp_path
):
    images = load_faces(face_files, size, color)
    labels = {target: np.arange(len(images)) % num_classes for target, num_classes in targets.items()}
    model = build_model(name, images.shape[1:], targets, pixel_range=(float(images.min()), float(images.max())))
    model.compile(optimizer="adam", loss={target: LOSSES[output_kind(name)] for target in targets})
    before = [weights.copy() for weights in model.get_weights()]

    history = model.fit(images, labels, batch_size=len(images), epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras")

    assert np.isfinite(history.history["loss"][0])
    assert any(not np.array_equal(old, new) for old, new in zip(before, model.get_weights()))
    expected, actual = model.predict(images, verbose=0), reloaded.predict(images, verbose=0)
    for target in targets:
        np.testing.assert_array_equal(actual[target], expected[target])
        assert class_scores(actual[target], targets[target]).shape == (len(images), targets[target])
