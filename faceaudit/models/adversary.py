"""The adversary of adversarial debiasing: a small network that predicts an example's group from the classifier's
scores (and, for equalized odds, its true class as well)."""

import keras
from keras import layers


def build_adversary(input_size: int, n_groups: int, hidden_units: int, seed: int | None = None) -> keras.Model:
    """Scores (+ one-hot true class) -> softmax over the groups; `hidden_units` 0 makes it a logistic regression, as
    in Zhang et al. (2018). float32 throughout, so that its loss stays exact under mixed precision."""
    inputs = keras.Input((input_size,), name="adversary_input", dtype="float32")
    features = inputs
    if hidden_units:
        initializer = keras.initializers.GlorotUniform(seed=seed)
        features = layers.Dense(hidden_units, activation="relu", kernel_initializer=initializer, dtype="float32")(
            features
        )
    group = layers.Dense(
        n_groups,
        activation="softmax",
        kernel_initializer=keras.initializers.GlorotUniform(seed=None if seed is None else seed + 1),
        name="adversary_group",
        dtype="float32",
    )(features)
    return keras.Model(inputs, group, name="adversary")
