"""Pictures of a trained VAE: faces decoded from random latent vectors, and images above their reconstructions."""

from pathlib import Path

import keras
import numpy as np

from faceaudit.figures import plt, save
from faceaudit.models.vae import VAE


def sample_faces(vae: VAE, count: int = 10, seed: int = 0) -> np.ndarray:
    """`count` decoded random latent vectors z ~ N(0, I): (count, height, width, channels) in [0, 1]."""
    latent_size = vae.decoder.input_shape[-1]
    latent = np.random.default_rng(seed).standard_normal((count, latent_size)).astype("float32")
    return keras.ops.convert_to_numpy(vae.decoder(latent))


def reconstruct(vae: VAE, images: np.ndarray) -> np.ndarray:
    """Reconstructions from each image's z_mean, in [0, 1]."""
    return vae.predict(images, verbose=0)


def write_sample_grid(vae: VAE, path: Path, count: int = 10, seed: int = 0) -> None:
    """PNG of `count` faces sampled from random latent vectors, in two rows."""
    faces = sample_faces(vae, count, seed)
    columns = (count + 1) // 2
    write_grid([faces[:columns], faces[columns:]], ["sampled", ""], path)


def write_reconstruction_grid(vae: VAE, images: np.ndarray, path: Path) -> None:
    """PNG with the original images above and their reconstructions below."""
    low, high = vae.pixel_range
    originals = (np.asarray(images, dtype="float32") - low) / (high - low if high > low else 1.0)
    write_grid([originals, reconstruct(vae, images)], ["original", "reconstructed"], path)


def write_grid(rows: list[np.ndarray], row_titles: list[str], path: Path) -> None:
    columns = max(len(row) for row in rows)
    figure, axes = plt.subplots(len(rows), columns, figsize=(1.2 * columns, 1.3 * len(rows)), squeeze=False)
    for axes_row, images, title in zip(axes, rows, row_titles):
        for column, axis in enumerate(axes_row):
            axis.axis("off")
            if column < len(images):
                image = np.clip(images[column], 0.0, 1.0)
                axis.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray", vmin=0.0, vmax=1.0)
        axes_row[0].set_title(title, fontsize=8, loc="left")
    save(figure, path)
