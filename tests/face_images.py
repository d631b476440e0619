"""A few real face images for model tests: synthetic faces written as JPEG files, decoded like the pipeline does."""

from pathlib import Path

import numpy as np

from faceaudit.data.images import load_image
from faceaudit.data.synthetic import generate_synthetic_dataset


def draw_faces(directory: Path, count: int = 6) -> list[Path]:
    labels = generate_synthetic_dataset(
        directory,
        n_images=count,
        image_size=100,
        seed=4,
        signal=0.9,
        groups=[{"name": "A", "share": 1.0}],
        gender_classes=["Female", "Male"],
        age_classes=["young", "old"],
    )
    return [directory / file for file in labels["file"]]


def load_faces(paths: list[Path], size: int, color: str) -> np.ndarray:
    return np.stack([load_image(path, size, color) for path in paths])
