"""Model registry: the config's model names mapped to Keras builders (architectures from shared/DESIGN.md).

Each classifier builder takes the (already rescaled) input tensor and {target: number of classes} and returns
{target: output tensor}; `build_model` adds the input and the train-fitted min-max rescaling. Transfer models
(faceaudit.models.transfer) do their backbone's own preprocessing instead. The VAE (faceaudit.models.vae) and the
sine-wave sequence models (faceaudit.models.sequence) are not classifiers and have their own builders.

Targets map to their number of classes, or to None for a numeric (regression) target, which gets one linear unit.
Class outputs are softmax probabilities, except where `catalog.output_kind` says "sigmoid": one unit, P(second class)
of a binary target, trained with binary cross-entropy; `class_scores` turns either into one column per class. Outputs
are float32 even under mixed precision. `augmentation` layers (faceaudit.models.augmentation) come right after the
input.
"""

import keras
import numpy as np
from keras import layers

from faceaudit import catalog
from faceaudit.models import augmentation as augmentation_layers
from faceaudit.models import transfer
from faceaudit.models.outputs import output_layer


def build_mlp(inputs, targets: dict[str, int]) -> dict:
    x = layers.Flatten()(inputs)
    x = layers.Dense(1024, activation="tanh")(x)
    x = layers.Dense(512, activation="sigmoid")(x)
    x = layers.Dense(100, activation="relu")(x)
    return classifier_heads(x, targets)


def build_small_cnn(inputs, targets: dict[str, int]) -> dict:
    x = layers.Conv2D(40, 5, activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(100, activation="relu")(x)
    return classifier_heads(x, targets)


def build_cnn_bn(inputs, targets: dict[str, int], dropout_rate: float = 0.5) -> dict:
    x = inputs
    for filters in (32, 64, 128):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        # momentum 0.9 (not 0.99): with a few hundred steps the moving statistics must settle quickly,
        # or validation (inference mode) stays at chance while training accuracy rises.
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(dropout_rate)(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(dropout_rate)(x)
    return classifier_heads(x, targets)


def build_baseline_cnn(inputs, targets: dict[str, int]) -> dict:
    """Two conv 16 + 2x2 pool blocks, dense 64 and ONE sigmoid unit: binary targets only (see `catalog.output_kind`)."""
    target, num_classes = only_target(targets)
    if num_classes != 2:
        raise ValueError(
            f"baseline_cnn has one sigmoid output for binary targets; '{target}' has {num_classes or 'no'} classes"
        )
    x = inputs
    for _ in range(2):
        x = layers.Conv2D(16, 3, activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(64, activation="relu")(x)
    return {target: layers.Dense(1, activation="sigmoid", name=target, dtype="float32")(x)}


def build_deep_cnn(inputs, targets: dict[str, int], l1: float = 1e-5, l2: float = 1e-4) -> dict:
    """Two blocks of conv (same) + conv (valid) + 2x2 pool + dropout .25, dense 512, dropout .5; L1+L2 on the first
    conv."""
    x = inputs
    for block, filters in enumerate((32, 64)):
        regularizer = keras.regularizers.L1L2(l1=l1, l2=l2) if block == 0 else None
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", kernel_regularizer=regularizer)(x)
        x = layers.Conv2D(filters, 3, activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(512, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    return classifier_heads(x, targets)


def build_plain_cnn(inputs, targets: dict[str, int]) -> dict:
    """The small CNN of aif360's UTKFace gender tutorial (ThreeLayerCNN): conv 6 5x5, conv 16 5x5, conv 16 6x6, each
    valid and followed by 2x2 pooling, then dense 120; 43,186 parameters at 64x64x3 with 2 classes."""
    x = inputs
    for filters, kernel_size in ((6, 5), (16, 5), (16, 6)):
        x = layers.Conv2D(filters, kernel_size, activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(120, activation="relu")(x)
    return classifier_heads(x, targets)


def build_multitask_cnn(inputs, targets: dict[str, int]) -> dict:
    x = inputs
    for filters in (16, 32, 64):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    shared = layers.Flatten()(x)
    outputs = {}
    for target, num_classes in targets.items():
        branch = layers.Dense(128, activation="relu", name=f"{target}_dense_128")(shared)
        branch = layers.Dense(64, activation="relu", name=f"{target}_dense_64")(branch)
        outputs[target] = output_layer(target, num_classes)(branch)
    return outputs


def only_target(targets: dict[str, int | None]) -> tuple[str, int | None]:
    if len(targets) != 1:
        raise ValueError(f"this model predicts exactly one target, got {sorted(targets)}; use multitask_cnn")
    ((target, num_classes),) = targets.items()
    return target, num_classes


def classifier_heads(features, targets: dict[str, int]) -> dict:
    target, num_classes = only_target(targets)
    return {target: output_layer(target, num_classes)(features)}


MODELS = {
    "mlp": build_mlp,
    "small_cnn": build_small_cnn,
    "cnn_bn": build_cnn_bn,
    "baseline_cnn": build_baseline_cnn,
    "deep_cnn": build_deep_cnn,
    "plain_cnn": build_plain_cnn,
    "multitask_cnn": build_multitask_cnn,
}
# Models that are not target classifiers, with the function that builds them.
OTHER_BUILDERS = {
    "vae": "faceaudit.models.vae.build_vae",
    **{name: "faceaudit.models.sequence.build_sequence_model" for name in catalog.SEQUENCE_MODELS},
}
MODEL_NAMES = sorted([*catalog.CLASSIFIERS, *OTHER_BUILDERS])


def build_model(
    name: str,
    input_shape: tuple,
    targets: dict[str, int | None],
    pixel_range: tuple[float, float] = (0.0, 255.0),
    *,
    head: str = "classifier",
    weights: str | None = None,
    dropout_rate: float = 0.5,
    augmentation: dict | None = None,
    seed: int | None = None,
) -> keras.Model:
    """The named classifier (or regressor). Own architectures sit behind a Rescaling layer that maps the train set's
    [min, max] pixel range to [0, 1]; transfer backbones take 0..255 pixels and use `head`, `weights` and
    `dropout_rate`. `augmentation` settings add random transformations that are active in training only."""
    if name in transfer.BACKBONES:
        target, num_classes = only_target(targets)
        return transfer.build_transfer_model(
            name, input_shape, target, num_classes, head, weights, dropout_rate, augmentation, seed
        )
    if name in OTHER_BUILDERS:
        raise ValueError(f"'{name}' is not a target classifier: build it with {OTHER_BUILDERS[name]}")
    if name not in MODELS:
        raise ValueError(f"unknown model '{name}'; known models: {MODEL_NAMES}")
    if head != "classifier" or weights is not None:
        raise ValueError(
            f"head and weights apply to transfer backbones only; '{name}' got head='{head}', weights='{weights}'"
        )
    minimum = catalog.MIN_IMAGE_SIZE.get(name, 1)
    if min(input_shape[:2]) < minimum:
        raise ValueError(f"'{name}' needs images of at least {minimum}x{minimum} pixels, got {input_shape[:2]}")
    low, high = pixel_range
    span = high - low if high > low else 1.0  # a constant train set must not divide by zero
    inputs = keras.Input(shape=input_shape, name="image")
    augmented = augmentation_layers.augment(inputs, augmentation or {}, seed)
    scaled = layers.Rescaling(1.0 / span, offset=-low / span, name="min_max_scaling")(augmented)
    builder = MODELS[name]
    outputs = builder(scaled, targets, dropout_rate) if name == "cnn_bn" else builder(scaled, targets)
    return keras.Model(inputs, outputs, name=name)


def class_scores(model_output, num_classes: int) -> np.ndarray:
    """One score column per class: softmax output as it is, a binary sigmoid output p as [1 - p, p]."""
    scores = np.asarray(model_output, dtype="float32")
    if scores.ndim == 1:
        scores = scores[:, None]
    if scores.shape[1] == num_classes:
        return scores
    if scores.shape[1] == 1 and num_classes == 2:
        return np.concatenate([1.0 - scores, scores], axis=1)
    raise ValueError(f"model output with {scores.shape[1]} columns does not give scores for {num_classes} classes")
