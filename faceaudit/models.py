"""Model registry: the config's model names mapped to Keras builders (architectures from shared/DESIGN.md).

Each builder takes the (already rescaled) input tensor and {target: number of classes} and returns
{target: softmax output tensor}; `build_model` adds the input and the train-fitted min-max rescaling.
"""

import keras
from keras import layers


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
        outputs[target] = layers.Dense(num_classes, activation="softmax", name=target)(branch)
    return outputs


def classifier_heads(features, targets: dict[str, int]) -> dict:
    if len(targets) != 1:
        raise ValueError(f"this model predicts exactly one target, got {sorted(targets)}; use multitask_cnn")
    (target, num_classes), = targets.items()
    return {target: layers.Dense(num_classes, activation="softmax", name=target)(features)}


MODELS = {
    "mlp": build_mlp,
    "small_cnn": build_small_cnn,
    "cnn_bn": build_cnn_bn,
    "multitask_cnn": build_multitask_cnn,
}


def build_model(name: str, input_shape: tuple, targets: dict[str, int], pixel_range: tuple[float, float] = (0.0, 255.0)) -> keras.Model:
    """The named model behind a Rescaling layer that maps the train set's [min, max] pixel range to [0, 1]."""
    if name not in MODELS:
        raise ValueError(f"unknown model '{name}'; known models: {sorted(MODELS)}")
    low, high = pixel_range
    span = high - low if high > low else 1.0  # a constant train set must not divide by zero
    inputs = keras.Input(shape=input_shape, name="image")
    scaled = layers.Rescaling(1.0 / span, offset=-low / span, name="min_max_scaling")(inputs)
    return keras.Model(inputs, MODELS[name](scaled, targets), name=name)
