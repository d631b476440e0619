"""Transfer models: a keras.applications backbone (no top, called with training=False) under a configurable head.

The model takes 0..255 pixels: each backbone's own `preprocess_input` runs inside it (grayscale is tiled to 3
channels first). The backbone is the layer named "backbone"; `set_trainable` and `unfreeze_last_layers` are the
fine-tuning steps. Changing what is trainable takes effect at the next `compile`.
"""

import importlib
from pathlib import Path

import keras
from keras import layers
from keras.src.backend.config import keras_home  # not in keras' public API (3.15); where it caches weights

from faceaudit import catalog
from faceaudit.models.augmentation import augment
from faceaudit.models.outputs import output_layer

# name: (keras.applications module, constructor)
BACKBONES = {
    "vgg16": ("vgg16", "VGG16"),
    "resnet50": ("resnet", "ResNet50"),
    "inception_resnet_v2": ("inception_resnet_v2", "InceptionResNetV2"),
    **{f"efficientnet_b{number}": ("efficientnet", f"EfficientNetB{number}") for number in range(8)},
}
HEADS = catalog.HEADS
SIGMOID_HEADS = catalog.SIGMOID_HEADS
TRAINABLE_PARTS = catalog.TRAINABLE_PARTS


def application_module(backbone_name: str):
    if backbone_name not in BACKBONES:
        raise ValueError(f"unknown backbone '{backbone_name}'; known backbones: {sorted(BACKBONES)}")
    return importlib.import_module(f"keras.applications.{BACKBONES[backbone_name][0]}")


def make_backbone(backbone_name: str, image_size: tuple[int, int], weights: str | None) -> keras.Model:
    """The backbone without its top for (height, width, 3) inputs; weights: "imagenet", a weights file, or None."""
    if weights not in ("imagenet", None) and not Path(weights).is_file():
        raise ValueError(f"weights must be 'imagenet', null or an existing weights file, got '{weights}'")
    constructor = getattr(application_module(backbone_name), BACKBONES[backbone_name][1])
    try:
        return constructor(
            include_top=False,
            weights=None if weights is None else str(weights),
            input_shape=(*image_size, 3),
            name="backbone",
        )
    except Exception as error:
        if weights == "imagenet" and "URL fetch failure" in str(error):
            raise RuntimeError(
                f"{backbone_name}: Keras could not download the ImageNet weights ({error}). "
                "Where there is no internet, "
                f"pre-stage Keras's weight file in {Path(keras_home()) / 'models'} (set KERAS_HOME on a filesystem "
                "the nodes share), or give the experiment `weights: <file>`"
            ) from error
        raise


@keras.saving.register_keras_serializable(package="faceaudit")
class BackbonePreprocessing(layers.Layer):
    """0..255 pixels to what the backbone expects: grayscale tiled to RGB, then the backbone's `preprocess_input`."""

    def __init__(self, backbone_name: str, **kwargs):
        super().__init__(**kwargs)
        self.backbone_name = backbone_name
        self.preprocess_input = application_module(backbone_name).preprocess_input

    def call(self, images):
        images = keras.ops.cast(images, "float32")
        if images.shape[-1] == 1:
            images = keras.ops.repeat(images, 3, axis=-1)
        return self.preprocess_input(images)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 3)

    def get_config(self):
        return {**super().get_config(), "backbone_name": self.backbone_name}


def build_transfer_model(
    backbone_name: str,
    input_shape: tuple,
    target: str,
    num_classes: int | None,
    head: str = "classifier",
    weights: str | None = None,
    dropout_rate: float = 0.5,
    augmentation: dict | None = None,
    seed: int | None = None,
) -> keras.Model:
    """Backbone + head predicting `target` (num_classes None: a numeric target); the output layer is named after it."""
    if head not in HEADS:
        raise ValueError(f"unknown head '{head}'; known heads: {list(HEADS)}")
    if input_shape[-1] not in (1, 3):
        raise ValueError(f"transfer models take 1 or 3 channels, got input shape {tuple(input_shape)}")
    inputs = keras.Input(shape=input_shape, name="image")
    pixels = BackbonePreprocessing(backbone_name, name="backbone_preprocessing")(
        augment(inputs, augmentation or {}, seed)
    )
    features = make_backbone(backbone_name, tuple(input_shape[:2]), weights)(pixels, training=False)
    outputs = {target: HEAD_BUILDERS[head](features, target, num_classes, dropout_rate)}
    return keras.Model(inputs, outputs, name=backbone_name)


def classifier_head(features, target: str, num_classes: int, dropout_rate: float):
    pooled = layers.GlobalAveragePooling2D(name="global_average_pooling")(features)
    return output_layer(target, num_classes)(pooled)


def dense_128_32_head(features, target: str, num_classes: int, dropout_rate: float):
    x = layers.GlobalAveragePooling2D(name="global_average_pooling")(features)
    x = layers.Dropout(dropout_rate)(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dense(32, activation="relu")(x)
    return output_layer(target, num_classes)(x)


def flatten_128_sigmoid_head(features, target: str, num_classes: int, dropout_rate: float):
    if num_classes != 2:
        raise ValueError(
            "the flatten_128_sigmoid head has one sigmoid output for binary targets; "
            f"'{target}' has {num_classes or 'no'} classes"
        )
    x = layers.Flatten()(features)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(dropout_rate)(x)
    return layers.Dense(1, activation="sigmoid", name=target, dtype="float32")(x)


HEAD_BUILDERS = {
    "classifier": classifier_head,
    "dense_128_32": dense_128_32_head,
    "flatten_128_sigmoid": flatten_128_sigmoid_head,
}


def set_trainable(model: keras.Model, part: str) -> None:
    """Make the head, the backbone or everything trainable and freeze the rest (recompile afterwards)."""
    if part not in TRAINABLE_PARTS:
        raise ValueError(f"unknown trainable part '{part}'; use one of {list(TRAINABLE_PARTS)}")
    backbone = model.get_layer("backbone")
    set_trainable_deep(backbone, part in ("backbone", "all"))
    for layer in model.layers:
        if layer is not backbone:
            layer.trainable = part in ("head", "all")


def set_trainable_deep(layer, trainable: bool) -> None:
    """Set `trainable` on a layer and every layer inside it (one unfrozen earlier, e.g. by unfreeze_last_layers,
    would otherwise keep its own setting)."""
    layer.trainable = trainable
    for inner in getattr(layer, "layers", []):
        set_trainable_deep(inner, trainable)


def unfreeze_last_layers(model: keras.Model, count: int) -> None:
    """Train the head and the backbone's last `count` layers, batch normalisation excepted (it stays frozen, as in the
    keras-io EfficientNet fine-tuning example); the rest of the backbone is frozen (recompile afterwards)."""
    backbone = model.get_layer("backbone")
    if not 0 <= count <= len(backbone.layers):
        raise ValueError(f"count must be between 0 and the backbone's {len(backbone.layers)} layers, got {count}")
    set_trainable(model, "head")
    backbone.trainable = True
    for position, layer in enumerate(backbone.layers):
        is_last = position >= len(backbone.layers) - count
        layer.trainable = is_last and not isinstance(layer, layers.BatchNormalization)
