"""Preprocessed splits on disk (uint8 .npy, memory-mappable, plus their manifest rows) and tf.data pipelines over them."""

from pathlib import Path

import numpy as np
import pandas as pd

from faceaudit.images import CHANNELS, load_image


def write_split(manifest: pd.DataFrame, root: Path, split: str, size: int, color: str, images_path: Path, rows_path: Path) -> int:
    """Decode every image of one split once into an (n, size, size, c) uint8 .npy file; return the image count."""
    rows = manifest[manifest["split"] == split].reset_index(drop=True)
    images = np.lib.format.open_memmap(images_path, mode="w+", dtype=np.uint8, shape=(len(rows), size, size, CHANNELS[color]))
    for index, relative_path in enumerate(rows["path"]):
        try:
            images[index] = load_image(Path(root) / relative_path, size, color)
        except Exception as error:
            raise ValueError(f"{Path(root) / relative_path}: cannot decode ({error}); the manifest accepted it") from error
    images.flush()
    del images
    rows.to_csv(rows_path, index=False)
    return len(rows)


def read_split(images_path: Path, rows_path: Path) -> tuple[np.ndarray, pd.DataFrame]:
    """The split's images as a read-only memory map (never loaded whole) and its manifest rows."""
    images = np.load(images_path, mmap_mode="r")
    rows = pd.read_csv(rows_path, dtype=str, keep_default_na=False)
    if len(rows) != len(images):
        raise ValueError(f"{images_path} holds {len(images)} images but {rows_path} lists {len(rows)} rows")
    return images, rows


def encode_labels(rows: pd.DataFrame, targets: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """Class indices per target, in the order the dataset declares its classes."""
    encoded = {}
    for target, classes in targets.items():
        index = {name: position for position, name in enumerate(classes)}
        unknown = sorted(set(rows[target]) - set(index))
        if unknown:
            raise ValueError(f"target '{target}' has values {unknown} that are not among its classes {classes}")
        encoded[target] = rows[target].map(index).to_numpy(dtype=np.int32)
    return encoded


def make_dataset(images: np.ndarray, labels: dict[str, np.ndarray] | None, batch_size: int, shuffle: bool, seed: int = 0):
    """A tf.data pipeline that gathers batches from the memory map, so the split never has to fit in RAM."""
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
        return batch_images, {target: tf.gather(values, batch_indices) for target, values in labels.items()}

    return indices.batch(batch_size).map(load, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
