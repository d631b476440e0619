"""Decoding one image file the way real datasets store them: 16-bit PNGs from scanners and medical exports, phone
photos whose pixels lie sideways with an EXIF tag saying how to turn them."""

from pathlib import Path

import numpy as np
from PIL import Image

from faceaudit.data.images import load_image

RED, BLUE = (255, 0, 0), (0, 0, 255)
EXIF_ORIENTATION = 0x0112
ROTATE_90_CLOCKWISE = 6  # EXIF: turn the stored pixels 90 degrees clockwise to display them
XMP_ORIENTATION = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="{}"/></rdf:RDF></x:xmpmeta>'
)


def write_16_bit_png(path: Path, levels: list[int]) -> Path:
    """One column per 16-bit level, 8 rows high."""
    pixels = np.tile(np.array(levels, dtype=np.uint16), (8, 1))
    Image.fromarray(pixels).save(path, format="PNG")
    with Image.open(path) as written:
        assert written.mode == "I;16"
    return path


def write_sideways_jpeg(path: Path, orientation: int | None, xmp_orientation: int | None = None) -> Path:
    """Stored as a landscape picture, left half red and right half blue, with an EXIF orientation tag or an XMP one."""
    pixels = np.zeros((40, 80, 3), dtype=np.uint8)
    pixels[:, :40] = RED
    pixels[:, 40:] = BLUE
    exif = Image.Exif()
    if orientation is not None:  # None: no EXIF block at all
        exif[EXIF_ORIENTATION] = orientation
    xmp = b"" if xmp_orientation is None else XMP_ORIENTATION.format(xmp_orientation).encode()
    Image.fromarray(pixels).save(path, format="JPEG", quality=95, exif=exif if orientation else b"", xmp=xmp)
    return path


def test_a_16_bit_png_is_scaled_to_8_bits_not_clipped_to_white(tmp_path):
    levels = [0, 1000, 2570, 16384, 25700, 30000, 51400, 65535]
    path = write_16_bit_png(tmp_path / "scan.png", levels)

    gray = load_image(path, 8, "gray")[..., 0]
    rgb = load_image(path, 8, "rgb")

    assert gray[0].tolist() == [round(level * 255 / 65535) for level in levels] == [0, 4, 10, 64, 100, 117, 200, 255]
    assert (gray == gray[0]).all()
    for channel in range(3):
        np.testing.assert_array_equal(rgb[..., channel], gray)


def test_a_16_bit_png_is_scaled_when_resized_too(tmp_path):
    path = write_16_bit_png(tmp_path / "scan.png", [1000] * 4 + [30000] * 4)

    gray = load_image(path, 4, "gray")[..., 0]

    assert gray[:, 0].tolist() == [4] * 4 and gray[:, -1].tolist() == [117] * 4


def test_exif_orientation_turns_the_picture_upright(tmp_path):
    path = write_sideways_jpeg(tmp_path / "phone.jpg", ROTATE_90_CLOCKWISE)

    image = load_image(path, 32, "rgb")

    # Turned 90 degrees clockwise, the left (red) half becomes the top and the right (blue) half the bottom.
    np.testing.assert_allclose(image[:8].mean(axis=(0, 1)), RED, atol=15)
    np.testing.assert_allclose(image[-8:].mean(axis=(0, 1)), BLUE, atol=15)


def test_a_jpeg_without_orientation_is_left_as_stored(tmp_path):
    for orientation in (None, 1):
        image = load_image(write_sideways_jpeg(tmp_path / f"plain_{orientation}.jpg", orientation), 32, "rgb")

        np.testing.assert_allclose(image[:, :8].mean(axis=(0, 1)), RED, atol=15)
        np.testing.assert_allclose(image[:, -8:].mean(axis=(0, 1)), BLUE, atol=15)


def test_an_orientation_kept_only_in_xmp_turns_the_picture_upright_too(tmp_path):
    path = write_sideways_jpeg(tmp_path / "edited.jpg", orientation=None, xmp_orientation=ROTATE_90_CLOCKWISE)
    with Image.open(path) as written:
        assert "exif" not in written.info and b"tiff:Orientation" in written.info["xmp"]

    image = load_image(path, 32, "rgb")

    np.testing.assert_allclose(image[:8].mean(axis=(0, 1)), RED, atol=15)
    np.testing.assert_allclose(image[-8:].mean(axis=(0, 1)), BLUE, atol=15)
