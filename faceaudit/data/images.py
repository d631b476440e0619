"""Decode one image file into a square uint8 array at the study's size and colour mode."""

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

PIL_MODES = {"gray": "L", "rgb": "RGB"}
CHANNELS = {"gray": 1, "rgb": 3}
SIXTEEN_BIT_MODES = {"I;16", "I;16L", "I;16B", "I;16N", "I"}  # Pillow opens 16-bit grayscale PNGs as one of these
EXIF_ORIENTATION = 0x0112
JPEG_ORIENTATION_SOURCES = {"exif", "xmp"}  # where Pillow's getexif finds a JPEG's orientation


def load_image(path: Path, size: int, color: str) -> np.ndarray:
    """Return a (size, size, channels) uint8 array; JPEGs are DCT-downscaled while decoding when they are larger.

    The picture is turned upright as its EXIF orientation says, and 16-bit pixels are scaled to 8 bits."""
    return np.frombuffer(image_bytes(path, size, color), dtype=np.uint8).reshape(size, size, CHANNELS[color])


def image_bytes(path: Path, size: int, color: str) -> bytes:
    """The pixels of load_image, row by row, as size * size * channels bytes: what preprocessing writes to disk."""
    if color not in PIL_MODES:
        raise ValueError(f"unknown colour mode '{color}'; use one of {sorted(PIL_MODES)}")
    with Image.open(path) as image:
        image.draft(PIL_MODES[color], (size, size))
        pixels = to_eight_bits(upright_image(image))
        if pixels.mode != PIL_MODES[color]:
            pixels = pixels.convert(PIL_MODES[color])
        if pixels.size != (size, size):
            pixels = pixels.resize((size, size), Image.Resampling.BILINEAR)
        return pixels.tobytes()


def upright_image(image: Image.Image) -> Image.Image:
    """Phone cameras store the sensor's pixels and an EXIF tag saying how to turn them; apply it."""
    if image.format == "JPEG" and not JPEG_ORIENTATION_SOURCES & image.info.keys():
        return image  # nothing to parse: getexif would cost about 1% of a draft decode
    if image.getexif().get(EXIF_ORIENTATION, 1) == 1:
        return image
    return ImageOps.exif_transpose(image)


def to_eight_bits(image: Image.Image) -> Image.Image:
    """Pillow's conversion of 16-bit pixels to 8 bits clips every value above 255 to white; scale them instead."""
    if image.mode not in SIXTEEN_BIT_MODES:
        return image
    pixels = np.asarray(image, dtype=np.float64)
    return Image.fromarray(np.clip(np.rint(pixels / 257.0), 0, 255).astype(np.uint8))
