"""Transfer models: keras.applications backbones (weights null or a local file: no network here) under the three
heads, with their own input preprocessing and the freeze/unfreeze steps of fine-tuning."""

import keras
import numpy as np
import pytest
from face_images import draw_faces, load_faces

from faceaudit.catalog import LOSSES, output_kind
from faceaudit.models import build_model, transfer


@pytest.fixture(scope="module")
def face_files(tmp_path_factory):
    return draw_faces(tmp_path_factory.mktemp("faces"), count=4)


@pytest.mark.parametrize(
    ("name", "size", "color", "head", "backbone_parameters"),
    [
        ("vgg16", 32, "gray", "flatten_128_sigmoid", 14_714_688),
        ("resnet50", 32, "rgb", "dense_128_32", 23_587_712),
        ("efficientnet_b0", 32, "rgb", "classifier", 4_049_571),
        ("inception_resnet_v2", 75, "rgb", "classifier", 54_336_736),  # 75x75 is its smallest input
    ],
)
def test_transfer_model_trains_a_step_on_real_images_and_reloads(
    name, size, color, head, backbone_parameters, face_files, tmp_path
):
    images = load_faces(face_files, size, color)
    labels = np.array([0, 1, 1, 0])
    model = build_model(name, images.shape[1:], {"gender": 2}, head=head)

    assert model.get_layer("backbone").count_params() == backbone_parameters  # keras.applications' published size
    assert model.output_shape == ((None, 1) if head == "flatten_128_sigmoid" else (None, 2))
    # One step runs eagerly: tracing a train step of these graphs costs 30-90 s on CPU; it is the same computation.
    model.compile(optimizer="adam", loss={"gender": LOSSES[output_kind(name, head)]}, run_eagerly=True)
    history = model.fit(images, {"gender": labels}, batch_size=len(images), epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras")

    assert np.isfinite(history.history["loss"][0])
    expected = keras.ops.convert_to_numpy(model(images)["gender"])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(reloaded(images)["gender"]), expected)


def test_largest_efficientnet_has_the_published_size():
    assert transfer.make_backbone("efficientnet_b7", (32, 32), weights=None).count_params() == 64_097_687


@pytest.mark.parametrize("name", sorted(transfer.BACKBONES))
def test_every_backbone_name_resolves_to_a_keras_application(name):
    module = transfer.application_module(name)
    assert callable(getattr(module, transfer.BACKBONES[name][1])) and callable(module.preprocess_input)


def test_backbone_built_from_a_weights_file_has_those_weights(tmp_path):
    source = transfer.make_backbone("vgg16", (32, 32), weights=None)
    weights_file = tmp_path / "vgg16_notop.weights.h5"
    source.save_weights(weights_file)

    model = build_model("vgg16", (32, 32, 3), {"gender": 2}, weights=str(weights_file))

    loaded = model.get_layer("backbone").get_weights()
    assert len(loaded) == len(source.get_weights())
    for expected, actual in zip(source.get_weights(), loaded):
        np.testing.assert_array_equal(actual, expected)


def test_a_missing_weights_file_is_named(tmp_path):
    with pytest.raises(
        ValueError, match="weights must be 'imagenet', null or an existing weights file, got '.*missing.weights.h5'"
    ):
        build_model("vgg16", (32, 32, 3), {"gender": 2}, weights=str(tmp_path / "missing.weights.h5"))


def test_grayscale_is_tiled_to_rgb_before_the_backbone_preprocessing():
    gray = np.random.default_rng(1).integers(0, 256, (2, 8, 8, 1)).astype("float32")
    for name in ("vgg16", "inception_resnet_v2"):
        preprocessing = transfer.BackbonePreprocessing(name)
        expected = transfer.application_module(name).preprocess_input(np.repeat(gray, 3, axis=-1))
        np.testing.assert_allclose(keras.ops.convert_to_numpy(preprocessing(gray)), expected, rtol=1e-6)
    scaled = keras.ops.convert_to_numpy(
        transfer.BackbonePreprocessing("inception_resnet_v2")(np.array([[[[0.0], [255.0]]]]))
    )
    np.testing.assert_allclose(scaled[..., 0], [[[-1.0, 1.0]]])


def test_fine_tuning_steps_freeze_and_unfreeze_the_right_parts():
    model = build_model("efficientnet_b0", (32, 32, 3), {"gender": 2}, head="dense_128_32")
    backbone = model.get_layer("backbone")
    head_weights = sum(len(layer.weights) for layer in model.layers if layer is not backbone)

    transfer.set_trainable(model, "head")
    assert len(model.trainable_weights) == head_weights
    transfer.set_trainable(model, "backbone")
    assert len(model.trainable_weights) == len(backbone.trainable_weights) > 0
    assert not any(layer.trainable for layer in model.layers if layer is not backbone and layer.weights)
    transfer.set_trainable(model, "all")
    assert len(model.trainable_weights) == head_weights + len(backbone.trainable_weights)

    transfer.unfreeze_last_layers(model, 10)
    trainable = [layer.name for layer in backbone.layers if layer.trainable and layer.weights]
    last_ten = backbone.layers[-10:]
    assert trainable == [
        layer.name for layer in last_ten if layer.weights and not isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in last_ten)
    assert len(model.trainable_weights) == head_weights + sum(
        len(backbone.get_layer(name).trainable_weights) for name in trainable
    )


def test_bad_transfer_settings_are_named():
    with pytest.raises(ValueError, match="unknown head 'mlp_head'; known heads"):
        build_model("vgg16", (32, 32, 3), {"gender": 2}, head="mlp_head")
    with pytest.raises(
        ValueError, match="flatten_128_sigmoid head has one sigmoid output for binary targets; 'age' has 9 classes"
    ):
        build_model("vgg16", (32, 32, 3), {"age": 9}, head="flatten_128_sigmoid")
    model = build_model("vgg16", (32, 32, 3), {"gender": 2})
    with pytest.raises(ValueError, match="unknown trainable part 'top'"):
        transfer.set_trainable(model, "top")
    with pytest.raises(ValueError, match="count must be between 0 and the backbone's 19 layers, got 20"):
        transfer.unfreeze_last_layers(model, 20)


def test_imagenet_weights_that_cannot_be_downloaded_say_how_to_pre_stage_them(tmp_path, monkeypatch):
    # The weight store is replaced by a loopback server that has no files: what a node without internet meets.
    import http.server
    import threading

    import keras.src.applications.vgg16 as vgg16_application

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(
            vgg16_application, "WEIGHTS_PATH_NO_TOP", f"http://127.0.0.1:{server.server_port}/vgg16_notop.h5"
        )
        with pytest.raises(
            RuntimeError,
            match=(
                r"vgg16: Keras could not download the ImageNet weights "
                r".*pre-stage Keras's weight file in .*models.*weights: <file>"
            ),
        ):
            transfer.make_backbone("vgg16", (32, 32), "imagenet")
    finally:
        server.shutdown()
