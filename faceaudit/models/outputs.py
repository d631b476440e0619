"""The output layer of a target: softmax over its classes, or one linear unit for a numeric (regression) target."""

from keras import layers


def output_layer(target: str, num_classes: int | None) -> layers.Dense:
    """Named after the target; float32 so that under mixed precision the probabilities and the loss stay exact."""
    if num_classes is None:
        return layers.Dense(1, name=target, dtype="float32")
    return layers.Dense(num_classes, activation="softmax", name=target, dtype="float32")
