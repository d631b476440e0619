"""Data audit speed: `python -m faceaudit.bench.data_audit`.

Writes 100,000 random-ish 32x32 RGB images as preprocessed splits (.npy + rows .csv, 70/15/15), with exact copies
and brightness-shifted copies of train images planted in val and test, then times the audit on the memory-mapped
files (hashes, duplicate search, leakage tests, group tables, image statistics) and prints images/s and what it
found: the exact copies as leakage, the near copies as more than the images' own similarity predicts.
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from faceaudit.data.audit import audit_files, duplicate_lines
from faceaudit.labels import SPLITS

SHARES = {"train": 0.7, "val": 0.15, "test": 0.15}
LABELS = {"gender": ["Female", "Male"], "group": ["A", "B", "C"]}


def random_images(rng: np.random.Generator, n_images: int, side: int) -> np.ndarray:
    """Smooth random pictures (a coarse random field blown up, plus pixel noise), unlike each other."""
    coarse = rng.integers(0, 256, size=(n_images, 8, 8, 3), dtype=np.uint8)
    smooth = coarse.repeat(side // 8, axis=1).repeat(side // 8, axis=2).astype(np.int16)
    noise = rng.integers(-12, 13, size=smooth.shape, dtype=np.int16)
    return np.clip(smooth + noise, 0, 255).astype(np.uint8)


def plant_copies(rng: np.random.Generator, images: dict, n_copies: int) -> None:
    """Overwrite n_copies images of val and of test with copies of train images: half exact, half brighter."""
    for split in ("val", "test"):
        sources = rng.choice(len(images["train"]), size=n_copies, replace=False)
        targets = rng.choice(len(images[split]), size=n_copies, replace=False)
        copies = images["train"][sources].astype(np.int16)
        copies[n_copies // 2 :] += 10  # the second half: near copies (brighter)
        images[split][targets] = np.clip(copies, 0, 255).astype(np.uint8)


def write_splits(folder: Path, n_images: int, side: int, n_copies: int, seed: int) -> tuple[dict, dict]:
    rng = np.random.default_rng(seed)
    counts = {split: int(n_images * share) for split, share in SHARES.items()}
    images = {split: random_images(rng, count, side) for split, count in counts.items()}
    plant_copies(rng, images, n_copies)
    images_paths, rows_paths = {}, {}
    for split in SPLITS:
        images_paths[split], rows_paths[split] = folder / f"{split}.npy", folder / f"{split}.csv"
        np.save(images_paths[split], images[split])
        pd.DataFrame(
            {
                "path": [f"{split}/{index}.jpg" for index in range(counts[split])],
                "split": split,
                "gender": rng.choice(LABELS["gender"], counts[split]),
                "group": rng.choice(LABELS["group"], counts[split]),
            }
        ).to_csv(rows_paths[split], index=False)
    return images_paths, rows_paths


def run(n_images: int, side: int, n_copies: int, distance: int, seed: int = 0) -> dict:
    with tempfile.TemporaryDirectory() as temporary:
        images_paths, rows_paths = write_splits(Path(temporary), n_images, side, n_copies, seed)
        started = time.perf_counter()
        audit = audit_files(images_paths, rows_paths, LABELS, ["group"], distance, examples=3)
        seconds = time.perf_counter() - started
    brighter = n_copies - n_copies // 2
    print(f"{n_images} images of {side}x{side} RGB; {n_copies // 2} exact + {brighter} brighter copies in val and test")
    print(f"data audit: {seconds:.2f} s, {n_images / seconds:,.0f} images/s (near-duplicate distance {distance})")
    print("\n".join(f"  {line}" for line in duplicate_lines(audit)))
    return {"seconds": seconds, "images_per_second": n_images / seconds, "audit": audit}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000, help="images in all splits together")
    parser.add_argument("--size", type=int, default=32, help="image side in pixels (a multiple of 8)")
    parser.add_argument("--copies", type=int, default=50, help="copies planted in val and in test, half exact")
    parser.add_argument("--distance", type=int, default=6, help="near-duplicate Hamming distance")
    arguments = parser.parse_args()
    run(arguments.images, arguments.size, arguments.copies, arguments.distance)


if __name__ == "__main__":
    main()
