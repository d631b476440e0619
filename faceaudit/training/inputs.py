"""The tf.data input pipeline over a preprocessed split: labels encoded per target, batches gathered from the
memory map (the split never has to fit in RAM), optional per-example loss weights."""

import numpy as np
import pandas as pd

from faceaudit.labels import NUMERIC


def encode_labels(rows: pd.DataFrame, targets: dict[str, list[str] | str]) -> dict[str, np.ndarray]:
    """Class indices per target, in the order the dataset declares its classes; numbers for a `numeric` target."""
    encoded = {}
    for target, classes in targets.items():
        if classes == NUMERIC:
            encoded[target] = numeric_labels(rows, target)
            continue
        index = {name: position for position, name in enumerate(classes)}
        unknown = sorted(set(rows[target]) - set(index))
        if unknown:
            raise ValueError(f"target '{target}' has values {unknown} that are not among its classes {classes}")
        encoded[target] = rows[target].map(index).to_numpy(dtype=np.int32)
    return encoded


def numeric_labels(rows: pd.DataFrame, target: str) -> np.ndarray:
    values = pd.to_numeric(rows[target], errors="coerce")
    if values.isna().any():
        bad = rows[target][values.isna()]
        raise ValueError(
            f"numeric target '{target}' has values that are not numbers, e.g. {bad.iloc[0]!r} (row {bad.index[0]})"
        )
    return values.to_numpy(dtype=np.float32)


def make_dataset(
    images: np.ndarray,
    labels: dict[str, np.ndarray] | None,
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
    weights: np.ndarray | None = None,
):
    """A tf.data pipeline that gathers batches from the memory map, so the split never has to fit in RAM; with
    `weights`, each batch also carries its examples' loss weights."""
    import tensorflow as tf

    indices = tf.data.Dataset.range(len(images))
    if shuffle:
        indices = indices.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)

    def load(batch_indices):
        # Sorted indices read the memory map front to back; labels are gathered in the same order.
        batch_indices = tf.sort(batch_indices)
        batch_images = tf.numpy_function(lambda rows: images[rows], [batch_indices], tf.uint8)
        batch_images.set_shape((None, *images.shape[1:]))
        if labels is None:
            return batch_images
        batch_labels = {target: tf.gather(values, batch_indices) for target, values in labels.items()}
        if weights is None:
            return batch_images, batch_labels
        return batch_images, batch_labels, tf.gather(weights, batch_indices)

    return indices.batch(batch_size).map(load, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
