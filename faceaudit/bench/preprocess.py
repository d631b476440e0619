"""Preprocessing speed: `python -m faceaudit.bench.preprocess` (or `make bench-preprocess`).

Writes 448x448 face JPEGs, then reports images/s per core when decoding them to 32px gray and 100px RGB the
way preprocessing does (JPEG draft: DCT-scaled decoding) next to a naive full decode then resize, in the same
process, and the ratio; then the rate of the real preprocessing step (write_split) on one core and on all cores.

Two goals (issue 15), printed, not asserted: preprocessing on one core reaches at least 90% of the rate of
DCT-scaled decoding alone (the floor: Huffman-decoding the whole file bounds any libjpeg decoder), and it scales
across cores with at least 85% efficiency (all-cores rate / (cores x one-core rate)).
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from faceaudit.data.arrays import write_split
from faceaudit.data.images import PIL_MODES, load_image
from faceaudit.data.synthetic import generate_synthetic_dataset

TARGETS = [(32, "gray"), (100, "rgb")]


def write_face_jpegs(folder: Path, n_images: int, side: int = 448) -> list[Path]:
    """The study's synthetic faces (drawn shapes with skin texture and noise) as 448x448 JPEGs of quality 90."""
    table = generate_synthetic_dataset(
        folder,
        n_images=n_images,
        image_size=side,
        seed=0,
        signal=0.9,
        groups=[{"name": "A", "share": 1.0}],
        gender_classes=["Female", "Male"],
        age_classes=["young", "old"],
        jpeg_quality=90,
    )
    return [folder / path for path in table["file"]]


def naive_load(path: Path, size: int, color: str) -> np.ndarray:
    """Decode the whole JPEG, then convert and resize: what preprocessing would do without draft mode."""
    with Image.open(path) as image:
        pixels = image.convert(PIL_MODES[color]).resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(pixels)


def dct_scaled_decode(path: Path, size: int, color: str) -> Image.Image:
    """DCT-scaled decoding alone, nothing after it: the floor that preprocessing cannot beat."""
    with Image.open(path) as image:
        image.draft(PIL_MODES[color], (size, size))
        image.load()
    return image


def images_per_second(load, paths: list[Path], size: int, color: str, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for path in paths:
            load(path, size, color)
        best = min(best, time.perf_counter() - started)
    return len(paths) / best


def all_cores_rate(paths: list[Path], folder: Path, size: int, color: str, workers: int, passes: int = 8) -> float:
    """The preprocessing step itself (worker processes writing into the .npy), over `passes` copies of the list so
    that starting the processes does not dominate."""
    manifest = pd.DataFrame({"path": [str(path.relative_to(folder)) for path in paths] * passes, "split": "train"})
    started = time.perf_counter()
    write_split(manifest, folder, "train", size, color, folder / "bench.npy", folder / "bench.csv", workers=workers)
    return len(manifest) / (time.perf_counter() - started)


def run(n_images: int, repeats: int, workers: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        paths = write_face_jpegs(folder, n_images)
        size_kb = np.mean([path.stat().st_size for path in paths]) / 1024
        print(
            f"{n_images} JPEGs of 448x448 pixels, {size_kb:.0f} KB each on average; {workers} cores; best of {repeats}"
        )
        results = []
        for size, color in TARGETS:
            figures = measure_target(paths, folder, size, color, workers, repeats)
            results.append(figures)
            print_target(figures, workers)
        return results


def measure_target(paths: list[Path], folder: Path, size: int, color: str, workers: int, repeats: int) -> dict:
    naive = images_per_second(naive_load, paths, size, color, repeats)
    draft = images_per_second(load_image, paths, size, color, repeats)
    floor = images_per_second(dct_scaled_decode, paths, size, color, repeats)
    one_core = max(all_cores_rate(paths, folder, size, color, workers=1) for _ in range(repeats))
    pooled = max(all_cores_rate(paths, folder, size, color, workers) for _ in range(repeats))
    return {
        "target": f"{size}px {color}",
        "naive": naive,
        "draft": draft,
        "ratio": draft / naive,
        "dct_decode_only": floor,
        "one_core": one_core,
        "of_floor": one_core / floor,
        "all_cores": pooled,
        "scaling_efficiency": pooled / (workers * one_core),
    }


def print_target(figures: dict, workers: int) -> None:
    print(
        f"448px -> {figures['target']}: naive full decode {figures['naive']:7.0f} images/s per core | "
        f"draft decode {figures['draft']:7.0f} images/s per core | ratio {figures['ratio']:4.1f}x"
    )
    print(
        f"    DCT-scaled decoding alone {figures['dct_decode_only']:7.0f} images/s | preprocessing (write_split) on 1 "
        f"core {figures['one_core']:7.0f} images/s = {figures['of_floor']:.0%} of that floor (goal >= 90%)"
    )
    print(
        f"    preprocessing on {workers} cores {figures['all_cores']:7.0f} images/s "
        f"({figures['all_cores'] / workers:.0f} per core) | scaling efficiency {figures['scaling_efficiency']:.0%} "
        "(goal >= 85%)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=400, help="number of test JPEGs")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes; the fastest counts")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="processes for the all-cores run")
    arguments = parser.parse_args()
    run(arguments.images, arguments.repeats, arguments.workers)


if __name__ == "__main__":
    main()
