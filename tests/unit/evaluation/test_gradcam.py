"""Grad-CAM on a model whose class depends, by construction, on one image region only: the heatmap's mass lies there,
not on a brighter distractor that the class does not depend on."""

import keras
import numpy as np
from keras import layers

from faceaudit.evaluation.gradcam import gradcam_heatmaps, last_convolutional_layer
from faceaudit.models.builders import build_model

SIZE = 16


def region_model() -> keras.Model:
    """Red pixels raise class 1's score, green ones count for nothing: a 1x1 convolution copies red to map 0 and
    green to map 1, the head reads map 0's mean only. Outputs by target name, as faceaudit's builders make them."""
    inputs = keras.Input((SIZE, SIZE, 3))
    maps = layers.Conv2D(2, 1, use_bias=False, activation="relu", name="maps")(inputs)
    pooled = layers.GlobalAveragePooling2D()(maps)
    scores = layers.Dense(2, activation="softmax", name="blob")(pooled)
    model = keras.Model(inputs, {"blob": scores})
    copy = np.zeros((1, 1, 3, 2), dtype="float32")
    copy[0, 0, 0, 0] = copy[0, 0, 1, 1] = 1.0 / 255
    model.get_layer("maps").set_weights([copy])
    model.get_layer("blob").set_weights([np.array([[-8.0, 8.0], [0.0, 0.0]], "float32"), np.zeros(2, "float32")])
    return model


def blob_images(count: int, seed: int = 0) -> np.ndarray:
    """Faint noise; a red square somewhere in the top-left quadrant (class 1), a brighter green one in the
    bottom-right quadrant of every image."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 3, (count, SIZE, SIZE, 3)).astype(np.uint8)
    for image in images:
        row, column = rng.integers(0, SIZE // 2 - 3, 2)
        image[row : row + 3, column : column + 3, 0] = 200
        image[SIZE // 2 + 2 : SIZE // 2 + 6, SIZE // 2 + 2 : SIZE // 2 + 6, 1] = 255
    return images


def test_heatmap_mass_lies_in_the_region_the_class_depends_on():
    model = region_model()
    images = blob_images(6)
    assert model.predict(images, verbose=0)["blob"].argmax(axis=1).tolist() == [1] * 6
    heatmaps = gradcam_heatmaps(model, images, "blob", np.ones(6, dtype=int), batch_size=4)
    assert heatmaps.shape == (6, SIZE, SIZE)
    assert np.allclose(heatmaps.max(axis=(1, 2)), 1.0)
    half = SIZE // 2
    top_left = heatmaps[:, :half, :half].sum(axis=(1, 2)) / heatmaps.sum(axis=(1, 2))
    bottom_right = heatmaps[:, half:, half:].sum(axis=(1, 2)) / heatmaps.sum(axis=(1, 2))
    assert top_left.min() > 0.8
    assert bottom_right.max() < 0.05
    # The hottest pixel is inside each image's red square.
    for image, heatmap in zip(images, heatmaps, strict=True):
        row, column = np.unravel_index(heatmap.argmax(), heatmap.shape)
        assert image[row, column, 0] == 200


def test_the_class_nothing_speaks_for_gets_an_empty_map_and_an_mlp_gets_none():
    assert not gradcam_heatmaps(region_model(), blob_images(2), "blob", np.zeros(2, dtype=int)).any()
    mlp = build_model("mlp", (SIZE, SIZE, 1), {"gender": 2})
    assert last_convolutional_layer(mlp) is None
    assert gradcam_heatmaps(mlp, np.zeros((2, SIZE, SIZE, 1), np.uint8), "gender", np.zeros(2, dtype=int)) is None
    assert last_convolutional_layer(build_model("small_cnn", (SIZE, SIZE, 1), {"gender": 2})).name.startswith("conv")
