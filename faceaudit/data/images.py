"""Decode one image file into a square uint8 array at the study's size and colour mode."""

from pathlib import Path

import numpy as np
from PIL import Image

PIL_MODES = {"gray": "L", "rgb": "RGB"}
CHANNELS = {"gray": 1, "rgb": 3}


def load_image(path: Path, size: int, color: str) -> np.ndarray:
    """Return a (size, size, channels) uint8 array; JPEGs are DCT-downscaled while decoding when they are larger."""
    if color not in PIL_MODES:
        raise ValueError(f"unknown colour mode '{color}'; use one of {sorted(PIL_MODES)}")
    with Image.open(path) as image:
        image.draft(PIL_MODES[color], (size, size))
        pixels = image.convert(PIL_MODES[color]).resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(pixels, dtype=np.uint8).reshape(size, size, CHANNELS[color])
