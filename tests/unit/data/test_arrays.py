"""Preprocessing: JPEGs decoded once into uint8 arrays on disk (memory-mappable) with their manifest rows, and the
tf.data pipeline that feeds training: every image with its own labels, every example once per epoch."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from faceaudit.data import arrays
from faceaudit.data.arrays import read_split, write_split
from faceaudit.data.images import load_image
from faceaudit.training.inputs import encode_labels, make_dataset

RED, BLUE = (255, 0, 0), (0, 0, 255)
GENDER = {"gender": ["Female", "Male"]}


def write_red_blue_jpeg(path: Path, width: int = 200, height: int = 150) -> Path:
    """Left half red, right half blue: easy to recognise after resizing."""
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    pixels[:, : width // 2] = RED
    pixels[:, width // 2 :] = BLUE
    Image.fromarray(pixels).save(path, format="JPEG", quality=95)
    return path


def test_load_image_rgb_is_square_uint8_and_keeps_the_picture(tmp_path):
    image = load_image(write_red_blue_jpeg(tmp_path / "face.jpg"), 32, "rgb")

    assert image.shape == (32, 32, 3)
    assert image.dtype == np.uint8
    np.testing.assert_allclose(image[:, :8].mean(axis=(0, 1)), RED, atol=12)
    np.testing.assert_allclose(image[:, -8:].mean(axis=(0, 1)), BLUE, atol=12)


def test_load_image_gray_has_one_channel_with_the_luminance(tmp_path):
    image = load_image(write_red_blue_jpeg(tmp_path / "face.jpg"), 24, "gray")

    assert image.shape == (24, 24, 1)
    assert image.dtype == np.uint8
    # ITU-R 601 luma: red 0.299 * 255 = 76, blue 0.114 * 255 = 29.
    assert abs(image[:, :6].mean() - 76) < 8
    assert abs(image[:, -6:].mean() - 29) < 8


def test_load_image_enlarges_a_small_image(tmp_path):
    image = load_image(write_red_blue_jpeg(tmp_path / "small.jpg", width=20, height=10), 32, "rgb")

    assert image.shape == (32, 32, 3)


def test_load_image_refuses_an_unknown_colour_mode(tmp_path):
    with pytest.raises(ValueError, match="unknown colour mode 'cmyk'"):
        load_image(write_red_blue_jpeg(tmp_path / "face.jpg"), 32, "cmyk")


@pytest.fixture
def manifest_on_disk(tmp_path) -> pd.DataFrame:
    """Six JPEGs whose gray level encodes their number (0, 40, ..., 200), split train/test/train/..."""
    (tmp_path / "images").mkdir()
    rows = []
    for number in range(6):
        path = f"images/{number}.jpg"
        Image.fromarray(np.full((64, 48, 3), 40 * number, dtype=np.uint8)).save(tmp_path / path, quality=95)
        rows.append(
            {"path": path, "split": "test" if number % 3 == 1 else "train", "gender": GENDER["gender"][number % 2]}
        )
    return pd.DataFrame(rows)


def test_write_split_writes_a_memory_mappable_array_and_rows_in_manifest_order(tmp_path, manifest_on_disk):
    count = write_split(manifest_on_disk, tmp_path, "train", 16, "gray", tmp_path / "train.npy", tmp_path / "train.csv")

    assert count == 4
    images = np.load(tmp_path / "train.npy", mmap_mode="r")
    assert isinstance(images, np.memmap)
    assert images.shape == (4, 16, 16, 1)
    assert images.dtype == np.uint8
    rows = pd.read_csv(tmp_path / "train.csv", dtype=str)
    assert rows["path"].tolist() == ["images/0.jpg", "images/2.jpg", "images/3.jpg", "images/5.jpg"]
    assert rows["gender"].tolist() == ["Female", "Female", "Male", "Male"]
    np.testing.assert_allclose(images.mean(axis=(1, 2, 3)), [0, 80, 120, 200], atol=3)


def test_read_split_gives_the_memory_map_and_its_rows(tmp_path, manifest_on_disk):
    write_split(manifest_on_disk, tmp_path, "test", 8, "rgb", tmp_path / "test.npy", tmp_path / "test.csv")

    images, rows = read_split(tmp_path / "test.npy", tmp_path / "test.csv")

    assert isinstance(images, np.memmap)
    assert images.shape == (2, 8, 8, 3)
    assert rows["path"].tolist() == ["images/1.jpg", "images/4.jpg"]


def test_read_split_refuses_rows_that_do_not_match_the_images(tmp_path, manifest_on_disk):
    write_split(manifest_on_disk, tmp_path, "train", 8, "gray", tmp_path / "train.npy", tmp_path / "train.csv")
    rows = pd.read_csv(tmp_path / "train.csv", dtype=str)
    rows.iloc[:3].to_csv(tmp_path / "train.csv", index=False)

    with pytest.raises(ValueError, match="holds 4 images but .*train.csv lists 3 rows"):
        read_split(tmp_path / "train.npy", tmp_path / "train.csv")


def test_write_split_names_an_image_that_does_not_decode(tmp_path, manifest_on_disk):
    (tmp_path / "images/2.jpg").write_bytes(b"not a jpeg")

    with pytest.raises(ValueError, match=r"2\.jpg: cannot decode"):
        write_split(manifest_on_disk, tmp_path, "train", 8, "gray", tmp_path / "train.npy", tmp_path / "train.csv")


def test_encode_labels_uses_the_declared_class_order():
    rows = pd.DataFrame({"gender": ["Male", "Female", "Male"], "age": ["old", "young", "adult"]})

    encoded = encode_labels(rows, {"gender": ["Male", "Female"], "age": ["young", "adult", "old"]})

    assert encoded["gender"].tolist() == [0, 1, 0]
    assert encoded["age"].tolist() == [2, 0, 1]
    assert encoded["age"].dtype == np.int32


def test_encode_labels_names_an_unknown_value():
    rows = pd.DataFrame({"gender": ["Male", "X", "Female"]})

    with pytest.raises(ValueError, match=r"target 'gender' has values \['X'\]"):
        encode_labels(rows, GENDER)


def numbered_images(tmp_path: Path, n: int) -> np.ndarray:
    """Image i is constant-valued i, saved and memory-mapped back like a preprocessed split."""
    np.save(
        tmp_path / "numbered.npy",
        np.broadcast_to(np.arange(n, dtype=np.uint8)[:, None, None, None], (n, 4, 4, 1)).copy(),
    )
    return np.load(tmp_path / "numbered.npy", mmap_mode="r")


def epoch(dataset) -> list[tuple[np.ndarray, dict]]:
    return [
        (images.numpy(), {target: values.numpy() for target, values in labels.items()}) for images, labels in dataset
    ]


def test_shuffled_batches_keep_each_image_with_its_labels_and_cover_the_split_once(tmp_path):
    n = 50
    images = numbered_images(tmp_path, n)
    labels = {"number": np.arange(n, dtype=np.int32), "parity": np.arange(n, dtype=np.int32) % 2}
    dataset = make_dataset(images, labels, batch_size=8, shuffle=True, seed=3)

    orders = []
    for _ in range(2):
        seen = []
        for batch_images, batch_labels in epoch(dataset):
            assert batch_images.dtype == np.uint8
            assert batch_images.shape[1:] == (4, 4, 1)
            assert len(batch_images) <= 8
            # Every pixel of image i is i: the image must sit beside label i.
            assert (batch_images == batch_labels["number"][:, None, None, None]).all()
            assert (batch_labels["parity"] == batch_labels["number"] % 2).all()
            seen.extend(batch_labels["number"].tolist())
        assert sorted(seen) == list(range(n))
        orders.append(seen)
    assert orders[0] != list(range(n))
    assert orders[0] != orders[1]


def test_unshuffled_batches_keep_manifest_order_and_images_only_without_labels(tmp_path):
    images = numbered_images(tmp_path, 10)

    batches = [batch.numpy() for batch in make_dataset(images, None, batch_size=4, shuffle=False)]

    assert [len(batch) for batch in batches] == [4, 4, 2]
    assert np.concatenate(batches)[:, 0, 0, 0].tolist() == list(range(10))


def test_pipeline_over_a_written_split_pairs_images_with_encoded_labels(tmp_path, manifest_on_disk):
    write_split(manifest_on_disk, tmp_path, "train", 8, "gray", tmp_path / "train.npy", tmp_path / "train.csv")
    images, rows = read_split(tmp_path / "train.npy", tmp_path / "train.csv")
    dataset = make_dataset(images, encode_labels(rows, GENDER), batch_size=3, shuffle=True, seed=0)

    brightness_by_gender = {}
    for batch_images, batch_labels in epoch(dataset):
        for image, gender in zip(batch_images, batch_labels["gender"]):
            brightness_by_gender.setdefault(int(gender), []).append(round(float(image.mean()) / 40))
    # images 0 and 2 are Female (index 0), images 3 and 5 Male (index 1).
    assert sorted(brightness_by_gender[0]) == [0, 2]
    assert sorted(brightness_by_gender[1]) == [3, 5]


def test_write_split_with_several_workers_gives_the_same_array(tmp_path, manifest_on_disk):
    many = pd.concat([manifest_on_disk] * 30, ignore_index=True)
    write_split(many, tmp_path, "train", 16, "rgb", tmp_path / "one.npy", tmp_path / "one.csv", workers=1)
    write_split(many, tmp_path, "train", 16, "rgb", tmp_path / "three.npy", tmp_path / "three.csv", workers=3)

    np.testing.assert_array_equal(np.load(tmp_path / "one.npy"), np.load(tmp_path / "three.npy"))
    assert len(np.load(tmp_path / "three.npy")) == 120


def test_every_row_holds_the_image_load_image_gives_across_chunks_and_partial_write_buffers(
    tmp_path, manifest_on_disk, monkeypatch
):
    # A buffer that holds 1.3 images of 16x16x3 bytes: images written across buffer flushes land in their own rows.
    monkeypatch.setattr(arrays, "WRITE_BUFFER_BYTES", 1000)
    many = pd.concat([manifest_on_disk] * 10, ignore_index=True)  # 40 train rows: chunks of 16 start at rows 0, 16, 32
    for workers in (1, 2):
        write_split(many, tmp_path, "train", 16, "rgb", tmp_path / "rows.npy", tmp_path / "rows.csv", workers=workers)

        images, rows = read_split(tmp_path / "rows.npy", tmp_path / "rows.csv")
        expected = np.stack([load_image(tmp_path / path, 16, "rgb") for path in rows["path"]])
        np.testing.assert_array_equal(images, expected)


@pytest.fixture
def small_disk(tmp_path):
    """A real 1 MB filesystem (tmpfs), as full as a real full disk gets; needs root (CI runs as root)."""
    mount = tmp_path / "small_disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if result.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a small tmpfs in CI: {result.stderr.decode()}")
        pytest.skip("mounting a small tmpfs needs root")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def many_rows(tmp_path: Path, count: int) -> pd.DataFrame:
    write_red_blue_jpeg(tmp_path / "face.jpg")
    return pd.DataFrame({"path": ["face.jpg"] * count, "split": "train", "gender": "Female"})


@pytest.mark.parametrize("workers", [1, 2])
def test_a_full_disk_fails_at_once_naming_the_disk_and_the_space_needed(tmp_path, small_disk, workers):
    manifest = many_rows(tmp_path, 200)  # 200 x 64 x 64 x 3 bytes = 2.5 MB on a 1 MB disk

    with pytest.raises(OSError, match=r"the train split needs 2\.5 MB \(200 images of 64x64x3 bytes\)") as raised:
        write_split(manifest, tmp_path, "train", 64, "rgb", small_disk / "train.npy", small_disk / "train.csv", workers)

    assert f"mounted at {small_disk}" in str(raised.value) and "1.0 MB free" in str(raised.value)
    assert not (small_disk / "train.npy").exists()


WRITE_SPLIT_SCRIPT = """
import sys
from pathlib import Path
import pandas as pd
from faceaudit.data.arrays import write_split
folder = Path(sys.argv[1])
manifest = pd.DataFrame({"path": ["face.jpg"] * 20000, "split": "train", "gender": "Female"})
write_split(manifest, folder, "train", 32, "rgb", folder / "train.npy", folder / "train.csv", workers=2)
"""


def test_a_worker_that_dies_stops_preprocessing_instead_of_hanging(tmp_path):
    write_red_blue_jpeg(tmp_path / "face.jpg")
    process = subprocess.Popen(
        [sys.executable, "-c", WRITE_SPLIT_SCRIPT, str(tmp_path)], stderr=subprocess.PIPE, text=True
    )
    try:
        workers = wait_for_children(process.pid)
        os.kill(workers[0], signal.SIGKILL)  # what the out-of-memory killer does to a worker
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode != 0
    assert "a preprocessing worker process died before finishing" in stderr


def wait_for_children(pid: int, timeout: float = 60) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if len(children) >= 2:
            time.sleep(1)  # let the workers start decoding
            return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        time.sleep(0.05)
    raise AssertionError("the preprocessing workers did not start")
