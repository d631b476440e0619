"""Preprocessed splits on disk (uint8 .npy, memory-mappable, plus their manifest rows) and tf.data pipelines over
them."""

import os
import shutil
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pandas as pd

from faceaudit.data.images import CHANNELS, image_bytes
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

    Worker processes decode chunks of consecutive images and write them straight into their rows of the .npy file;
    the log gets a progress line with rate and ETA.
    """
    rows = manifest[manifest["split"] == split].reset_index(drop=True)
    allocate_array_file(Path(images_path), (len(rows), size, size, CHANNELS[color]), split)
    paths = [str(Path(root) / relative_path) for relative_path in rows["path"]]
    step = chunk_size(len(paths), workers)
    first_byte, bytes_per_image = data_offset(Path(images_path)), size * size * CHANNELS[color]
    chunks = [
        (str(images_path), first_byte + start * bytes_per_image, paths[start : start + step], size, color)
        for start in range(0, len(paths), step)
    ]
    progress = Progress(split, len(paths))
    for count in imap_unordered(decode_chunk, chunks, workers):
        progress.advance(count)
    rows.to_csv(rows_path, index=False)
    return len(rows)


class DiskFullError(OSError):
    """The disk holding a preprocessed split has no room for it."""


def allocate_array_file(images_path: Path, shape: tuple, split: str) -> None:
    """Create the split's .npy file with all its blocks reserved, so that a full disk fails here, at once and with a
    clear message, instead of failing a worker half-way through the split."""
    needed = int(np.prod(shape)) + 4096  # the .npy header is at most a few hundred bytes
    images_path.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(images_path.parent).free
    if needed > free:
        raise DiskFullError(disk_full_message(images_path, shape, split, needed, free))
    images = np.lib.format.open_memmap(images_path, mode="w+", dtype=np.uint8, shape=shape)
    del images
    try:
        with open(images_path, "r+b") as opened:
            os.posix_fallocate(opened.fileno(), 0, os.fstat(opened.fileno()).st_size)
    except OSError as error:  # another job filled the disk after the check
        images_path.unlink(missing_ok=True)
        free = shutil.disk_usage(images_path.parent).free
        raise DiskFullError(disk_full_message(images_path, shape, split, needed, free)) from error


def disk_full_message(images_path: Path, shape: tuple, split: str, needed: int, free: int) -> str:
    n_images, height, width, channels = shape
    return (
        f"not enough disk space for {images_path}: the {split} split needs {megabytes(needed)} "
        f"({n_images} images of {height}x{width}x{channels} bytes) but the disk mounted at "
        f"{mount_point(images_path.parent)} has {megabytes(free)} free. Free space there, or run the study in a "
        "working directory on a bigger disk (snakemake --directory)."
    )


def megabytes(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:,.1f} MB"


def mount_point(path: Path) -> Path:
    path = path.resolve()
    while not os.path.ismount(path):
        path = path.parent
    return path


def chunk_size(n_images: int, workers: int) -> int:
    """Small enough for an even load (16 chunks per worker: the last one to finish leaves the other cores idle for
    at most 1/16 of the run, usually far less) and a lively progress line, big enough to keep per-chunk overhead
    (a file open and a task sent to a process, well under 1% of 16 images' decoding) low."""
    return max(16, min(256, n_images // (16 * workers) or 1))


WRITE_BUFFER_BYTES = 8 * 2**20  # decoded images gathered before one write: few system calls, little memory per worker


def decode_chunk(chunk: tuple) -> int:
    """Decode a run of consecutive images and write them into their rows of the .npy file, through a large buffer:
    no page fault per page and no msync, as writing into a memory map would cost."""
    images_path, first_byte, paths, size, color = chunk
    with open(images_path, "r+b", buffering=WRITE_BUFFER_BYTES) as images:
        images.seek(first_byte)
        for path in paths:
            images.write(decoded(path, size, color))
    return len(paths)


def decoded(path: str, size: int, color: str) -> bytes:
    try:
        pixels = image_bytes(Path(path), size, color)
    except Exception as error:
        raise ValueError(f"{path}: cannot decode ({error}); the manifest accepted it") from error
    if len(pixels) != size * size * CHANNELS[color]:  # would shift every later image in the file
        raise ValueError(f"{path}: decoded to {len(pixels)} bytes, not {size}x{size}x{CHANNELS[color]}")
    return pixels


def data_offset(images_path: Path) -> int:
    """Where the pixels start in a .npy file, after its header."""
    return np.load(images_path, mmap_mode="r").offset


def imap_unordered(function, jobs: list, workers: int):
    if workers <= 1 or len(jobs) <= 1:
        yield from map(function, jobs)
        return
    # Not multiprocessing.Pool: when a worker dies (killed, SIGBUS) the pool waits for it for ever; the executor
    # raises BrokenProcessPool instead.
    with ProcessPoolExecutor(min(workers, len(jobs))) as executor:
        futures = [executor.submit(function, job) for job in jobs]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BrokenProcessPool as error:
            raise RuntimeError(
                "a preprocessing worker process died before finishing (killed, out of memory, or a full disk); "
                "see the job's log and the disk's free space"
            ) from error


def read_split(images_path: Path, rows_path: Path) -> tuple[np.ndarray, pd.DataFrame]:
    """The split's images as a read-only memory map (never loaded whole) and its manifest rows."""
    images = np.load(images_path, mmap_mode="r")
    rows = pd.read_csv(rows_path, dtype=str, keep_default_na=False)
    if len(rows) != len(images):
        raise ValueError(f"{images_path} holds {len(images)} images but {rows_path} lists {len(rows)} rows")
    return images, rows
