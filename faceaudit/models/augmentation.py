"""Training-time augmentation as Keras preprocessing layers (active in fit, identity when predicting)."""

import keras
from keras import layers

# Config key -> the layer it adds (settings that are 0 or false add none).
SETTINGS = ("rotation", "zoom", "width_shift", "height_shift", "shear", "horizontal_flip")


def augmentation_layers(settings: dict, seed: int | None = None) -> list[layers.Layer]:
    """The layers for the experiment's `augmentation:` settings, in a fixed order, each seeded."""
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise ValueError(f"unknown augmentation settings {unknown}; known: {list(SETTINGS)}")
    added = []
    if settings.get("horizontal_flip"):
        added.append(layers.RandomFlip("horizontal", seed=seed, name="augment_flip"))
    if settings.get("rotation"):
        added.append(
            layers.RandomRotation(settings["rotation"], fill_mode="nearest", seed=seed, name="augment_rotation")
        )
    if settings.get("zoom"):
        added.append(layers.RandomZoom(settings["zoom"], fill_mode="nearest", seed=seed, name="augment_zoom"))
    if settings.get("width_shift") or settings.get("height_shift"):
        added.append(
            layers.RandomTranslation(
                settings.get("height_shift", 0),
                settings.get("width_shift", 0),
                fill_mode="nearest",
                seed=seed,
                name="augment_shift",
            )
        )
    if settings.get("shear"):
        added.append(SymmetricShear(settings["shear"], fill_mode="nearest", seed=seed, name="augment_shear"))
    return added


@keras.saving.register_keras_serializable(package="faceaudit")
class SymmetricShear(layers.RandomShear):
    """RandomShear by up to `intensity` both ways on both axes. Keras 3.15's RandomShear saves its factors as
    [-f, f] and then refuses the negative value when the model is loaded; this layer saves the one number."""

    def __init__(self, intensity: float, **kwargs):
        kwargs.pop("x_factor", None), kwargs.pop("y_factor", None)
        super().__init__(x_factor=intensity, y_factor=intensity, **kwargs)
        self.intensity = intensity

    def get_config(self):
        config = super().get_config()
        del config["x_factor"], config["y_factor"]
        return {**config, "intensity": self.intensity}


def augment(inputs, settings: dict, seed: int | None = None):
    """`inputs` passed through the augmentation layers (unchanged when there are none)."""
    x = inputs
    for layer in augmentation_layers(settings, seed):
        x = layer(x)
    return x
