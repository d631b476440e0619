"""Preprocessed splits on disk (uint8 .npy, memory-mappable, plus their manifest rows) and tf.data pipelines over
them."""

import multiprocessing
from pathlib import Path

import numpy as np
import pandas as pd

from faceaudit.data.images import CHANNELS, load_image
from faceaudit.data.progress import Progress


def write_split(
    manifest: pd.DataFrame,
    root: Path,
    split: str,
    size: int,
    color: str,
    images_path: Path,
    rows_path: Path,
    workers: int = 1,
) -> int:
    """Decode every image of one split once into an (n, size, size, c) uint8 .npy file; return the image count.

    Worker processes decode chunks of images and write them straight into the open .npy memory map; the log gets a
    progress line with rate and ETA.
    """
    rows = manifest[manifest["split"] == split].reset_index(drop=True)
    images = np.lib.format.open_memmap(
        images_path, mode="w+", dtype=np.uint8, shape=(len(rows), size, size, CHANNELS[color])
    )
    del images
    paths = [str(Path(root) / relative_path) for relative_path in rows["path"]]
    step = chunk_size(len(paths), workers)
    chunks = [
        (str(images_path), start, paths[start : start + step], size, color) for start in range(0, len(paths), step)
    ]
    progress = Progress(split, len(paths))
    for count in imap_unordered(decode_chunk, chunks, workers):
        progress.advance(count)
    rows.to_csv(rows_path, index=False)
    return len(rows)


def chunk_size(n_images: int, workers: int) -> int:
    """Small enough for an even load and a lively progress line, big enough to keep per-chunk overhead low."""
    return max(16, min(512, n_images // (8 * workers) or 1))


def decode_chunk(chunk: tuple) -> int:
    images_path, start, paths, size, color = chunk
    images = np.load(images_path, mmap_mode="r+")
    for offset, path in enumerate(paths):
        try:
            images[start + offset] = load_image(Path(path), size, color)
        except Exception as error:
            raise ValueError(f"{path}: cannot decode ({error}); the manifest accepted it") from error
    images.flush()
    return len(paths)


def imap_unordered(function, jobs: list, workers: int):
    if workers <= 1 or len(jobs) <= 1:
        yield from map(function, jobs)
        return
    with multiprocessing.Pool(min(workers, len(jobs))) as pool:
        yield from pool.imap_unordered(function, jobs)


def read_split(images_path: Path, rows_path: Path) -> tuple[np.ndarray, pd.DataFrame]:
    """The split's images as a read-only memory map (never loaded whole) and its manifest rows."""
    images = np.load(images_path, mmap_mode="r")
    rows = pd.read_csv(rows_path, dtype=str, keep_default_na=False)
    if len(rows) != len(images):
        raise ValueError(f"{images_path} holds {len(images)} images but {rows_path} lists {len(rows)} rows")
    return images, rows
