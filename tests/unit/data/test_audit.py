"""The data audit on real preprocessed splits: planted exact and near copies across train and test are found with the
right counts and rows, distinct images are not flagged, base rates and image statistics per group match what the
images and rows were built to hold. Leakage against known answers: exact copies always are; synthetic faces at 16 px,
distinct but alike, have near copies across splits at the rate their own similarity predicts and are not flagged;
near copies planted beyond that rate are."""

import io
import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from faceaudit.data.arrays import write_split
from faceaudit.data.audit import audit_files, audit_splits, write_audit
from faceaudit.data.hashing import close_pairs, hamming_distances
from faceaudit.data.leakage import EXCESS, EXPECTED
from faceaudit.data.synthetic import generate_synthetic_dataset
from faceaudit.labels import SPLITS

LABELS = {"gender": ["Female", "Male"], "group": ["A", "B"], "age_years": "numeric"}
DISTINCT_PER_SPLIT = {"train": 24, "val": 8, "test": 12}


def distinct_picture(rng: np.random.Generator) -> Image.Image:
    """A smooth random 64x64 picture (an 8x8 random field blown up): unrelated pictures differ in about half the
    hash's bits. Values stay in 30..220 so that a brightness shift does not clip."""
    field = rng.integers(30, 221, size=(8, 8, 3), dtype=np.uint8)
    return Image.fromarray(field).resize((64, 64), Image.Resampling.BICUBIC)


def brighter(picture: Image.Image, levels: int = 25) -> Image.Image:
    return Image.fromarray((np.asarray(picture).astype(np.int16) + levels).clip(0, 255).astype(np.uint8))


def smaller(picture: Image.Image) -> Image.Image:
    return picture.resize((40, 40), Image.Resampling.BILINEAR)


def recompressed(picture: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=40)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def write_study_splits(folder):
    """JPEGs of distinct pictures in every split, plus in test: an exact copy of train/0.jpg's file (same bytes),
    and a brighter, a smaller and a recompressed copy of train/1, train/2 and train/3; then the real preprocessing
    at 32 px gray. Returns the rows written per split, the arrays' paths and the rows' paths."""
    rng = np.random.default_rng(7)
    (folder / "images").mkdir()
    rows = []
    pictures = {}
    for split, count in DISTINCT_PER_SPLIT.items():
        for index in range(count):
            pictures[f"{split}/{index}"] = distinct_picture(rng)
    planted = {"copy_of_0": pictures["train/0"], "brighter_1": brighter(pictures["train/1"])}
    planted |= {"smaller_2": smaller(pictures["train/2"]), "recompressed_3": recompressed(pictures["train/3"])}
    for name, picture in [*pictures.items(), *((f"test/{name}", picture) for name, picture in planted.items())]:
        path = f"images/{name.replace('/', '_')}.jpg"
        picture.save(folder / path, format="JPEG", quality=95)
        split = name.split("/")[0]
        rows.append({"path": path, "split": split, "gender": rng.choice(["Female", "Male"]), "group": "A"})
    (folder / "images/test_copy_of_0.jpg").write_bytes((folder / "images/train_0.jpg").read_bytes())
    manifest = pd.DataFrame(rows).assign(age_years="30")
    images_paths = {split: folder / f"{split}.npy" for split in SPLITS}
    rows_paths = {split: folder / f"{split}.csv" for split in SPLITS}
    for split in SPLITS:
        write_split(manifest, folder, split, 32, "gray", images_paths[split], rows_paths[split])
    return manifest, images_paths, rows_paths


@pytest.fixture(scope="module")
def planted_audit(tmp_path_factory):
    folder = tmp_path_factory.mktemp("planted")
    manifest, images_paths, rows_paths = write_study_splits(folder)
    audit = audit_files(images_paths, rows_paths, LABELS, ["group"], near_duplicate_distance=6, examples=5)
    return manifest, audit


def duplicates_of(audit: dict, first: str, second: str) -> dict:
    return next(summary for summary in audit["duplicates"] if summary["splits"] == [first, second])


def test_planted_copies_in_test_are_found_as_train_test_leakage_with_their_rows(planted_audit):
    _, audit = planted_audit
    train_test = duplicates_of(audit, "train", "test")

    assert train_test["images"] == DISTINCT_PER_SPLIT["test"] + 4
    assert train_test["images_with_exact_copy"] == 1
    assert train_test["exact_pairs"] == 1
    assert train_test["images_with_near_copy_only"] == 3
    assert train_test["near_pairs"] == 3
    exact = train_test["examples"]["exact"]
    assert [(pair["first"]["path"], pair["second"]["path"]) for pair in exact] == [
        ("images/train_0.jpg", "images/test_copy_of_0.jpg")
    ]
    near = {pair["second"]["path"]: pair["first"]["path"] for pair in train_test["examples"]["near"]}
    assert near == {
        "images/test_brighter_1.jpg": "images/train_1.jpg",
        "images/test_smaller_2.jpg": "images/train_2.jpg",
        "images/test_recompressed_3.jpg": "images/train_3.jpg",
    }
    assert all(0 <= pair["distance"] <= 6 for pair in train_test["examples"]["near"])
    assert train_test["exact_leak"]  # the exact copy: leakage, however few
    assert train_test["near_copies"]["with_near_copy"] == 3


def test_example_rows_point_at_the_images_in_the_split_files(planted_audit, tmp_path):
    manifest, audit = planted_audit
    pair = duplicates_of(audit, "train", "test")["examples"]["exact"][0]
    for image in (pair["first"], pair["second"]):
        split_rows = manifest[manifest["split"] == image["split"]].reset_index(drop=True)
        assert split_rows.loc[image["row"], "path"] == image["path"]


def test_distinct_images_are_not_flagged_anywhere_else(planted_audit):
    _, audit = planted_audit
    for summary in audit["duplicates"]:
        if summary["splits"] == ["train", "test"]:
            continue
        assert summary["images_with_exact_copy"] == summary["images_with_near_copy_only"] == 0, summary["splits"]
        assert summary["exact_pairs"] == summary["near_pairs"] == 0
        assert summary["examples"] == {"exact": [], "near": []}


def test_copies_within_a_split_count_each_pair_once_and_every_image_in_it():
    rng = np.random.default_rng(3)
    distinct = rng.integers(0, 256, size=(6, 16, 16, 1), dtype=np.uint8)
    train = np.concatenate([distinct, distinct[:1], distinct[:1], np.clip(distinct[1:2].astype(int) + 3, 0, 255)])
    splits = {
        "train": (train.astype(np.uint8), rows_for("train", len(train))),
        "val": (np.zeros((0, 16, 16, 1), np.uint8), rows_for("val", 0)),
        "test": (distinct[2:3], rows_for("test", 1)),
    }
    audit = audit_splits(splits, LABELS, ["group"], near_duplicate_distance=6, examples=3)

    within_train = duplicates_of(audit, "train", "train")
    assert within_train["exact_pairs"] == 3  # three identical images: three pairs
    assert within_train["images_with_exact_copy"] == 3
    assert within_train["near_pairs"] == 1 and within_train["images_with_near_copy_only"] == 2
    assert duplicates_of(audit, "train", "test")["images_with_exact_copy"] == 1
    assert duplicates_of(audit, "val", "test")["images"] == 1
    assert duplicates_of(audit, "val", "test")["images_with_exact_copy"] == 0


def rows_for(split: str, count: int, groups=None, genders=None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "path": [f"{split}/{index}.jpg" for index in range(count)],
            "gender": genders if genders is not None else ["Female"] * count,
            "group": groups if groups is not None else ["A"] * count,
            "age_years": [str(20 + index) for index in range(count)],
        }
    )


def test_image_statistics_per_group_match_images_built_to_differ():
    """Group A: a checkerboard of 70 and 90 (brightness 80, contrast 10, Laplacian +-80: variance 6400); group B:
    flat 160 (brightness 160, contrast and sharpness 0)."""
    checkerboard = np.where(np.indices((16, 16)).sum(axis=0) % 2 == 0, 90, 70).astype(np.uint8)
    images = np.stack([checkerboard] * 6 + [np.full((16, 16), 160, np.uint8)] * 4)[..., None]
    groups = ["A"] * 6 + ["B"] * 4
    splits = {
        "train": (images, rows_for("train", 10, groups)),
        "val": (images[:0], rows_for("val", 0)),
        "test": (images[:0], rows_for("test", 0)),
    }
    audit = audit_splits(splits, LABELS, ["group"], near_duplicate_distance=6, examples=3)

    section = audit["image_statistics"][0]
    by_group = {group["group"]: group for group in section["groups"]}
    assert by_group["A"]["n"] == 6 and by_group["B"]["n"] == 4
    assert by_group["A"]["brightness"]["mean"] == pytest.approx(80)
    assert by_group["A"]["contrast"]["mean"] == pytest.approx(10)
    assert by_group["A"]["sharpness"]["mean"] == pytest.approx(6400)
    assert by_group["B"]["brightness"]["median"] == pytest.approx(160)
    assert by_group["B"]["sharpness"]["mean"] == pytest.approx(0)
    assert by_group["A"]["brightness"]["low"] == pytest.approx(80)  # identical images: no spread, no width
    gap = section["gaps"]["brightness"]
    assert (gap["highest"], gap["lowest"], gap["difference"]) == ("B", "A", pytest.approx(80))


def test_brightness_interval_covers_a_known_mean_and_shrinks_with_more_images():
    rng = np.random.default_rng(0)
    widths = []
    for count in (20, 320):
        levels = rng.normal(100, 10, size=count).clip(0, 255).round().astype(np.uint8)
        images = np.broadcast_to(levels[:, None, None, None], (count, 8, 8, 1)).copy()
        splits = {
            "train": (images, rows_for("train", count)),
            "val": (images[:0], rows_for("val", 0)),
            "test": (images[:0], rows_for("test", 0)),
        }
        described = audit_splits(splits, LABELS, ["group"], 0, 0)["image_statistics"][0]["groups"][0]["brightness"]
        assert described["low"] < 100 < described["high"]
        widths.append(described["high"] - described["low"])
    assert widths[1] < widths[0] / 3


def test_group_by_label_counts_and_base_rates_per_split(tmp_path):
    groups = ["A", "A", "A", "B", "B", "A"]
    genders = ["Female", "Male", "Male", "Female", "Female", "Female"]
    images = np.random.default_rng(1).integers(0, 256, size=(6, 8, 8, 1), dtype=np.uint8)
    splits = {
        "train": (images[:5], rows_for("train", 5, groups[:5], genders[:5])),
        "val": (images[:0], rows_for("val", 0)),
        "test": (images[5:], rows_for("test", 1, groups[5:], genders[5:])),
    }
    audit = audit_splits(splits, LABELS, ["group"], 6, 3)
    write_audit(audit, tmp_path / "audit.json")

    tables = {table["label"]: table for table in json.loads((tmp_path / "audit.json").read_text())["group_labels"]}
    assert set(tables) == {"gender", "age_years"}  # every label but the attribute itself
    train = {group["group"]: group for group in tables["gender"]["splits"]["train"]}
    assert (train["A"]["n"], train["A"]["counts"]) == (3, [1, 2])
    assert train["A"]["rates"] == pytest.approx([1 / 3, 2 / 3])
    assert (train["B"]["counts"], train["B"]["rates"]) == ([2, 0], [1.0, 0.0])
    assert tables["gender"]["splits"]["val"] == [
        {"group": "A", "n": 0, "counts": [0, 0], "rates": [None, None]},
        {"group": "B", "n": 0, "counts": [0, 0], "rates": [None, None]},
    ]
    ages = {group["group"]: group for group in tables["age_years"]["splits"]["train"]}
    assert ages["A"]["mean"] == pytest.approx(21)  # ages 20, 21, 22


def test_close_pairs_finds_exactly_the_pairs_a_full_comparison_finds():
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 2**63, size=400, dtype=np.uint64)
    flips = rng.integers(0, 63, size=(60, 5))
    near = codes[:60].copy()
    for row, bits in enumerate(flips):
        for bit in bits[: row % 6]:
            near[row] ^= np.uint64(1 << int(bit))
    codes = np.unique(np.concatenate([codes, near]))

    found = {tuple(pair) for pair in close_pairs(codes, 4).tolist()}

    expected = {
        (first, second)
        for first in range(len(codes))
        for second in np.flatnonzero(hamming_distances(codes, codes[first]) <= 4).tolist()
        if first < second
    }
    assert found == expected and len(expected) >= 40


SIMILAR_FACES = 300
AGES = ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70"]


@pytest.fixture(scope="module")
def similar_faces(tmp_path_factory):
    """300 synthetic faces, each drawn on its own but alike at 16 px, and a near copy of each (its JPEG recompressed
    and 12 levels brighter), both through the real preprocessing at 16 px gray: (faces, near copies)."""
    folder = tmp_path_factory.mktemp("faces")
    groups = [{"name": "A", "share": 0.6}, {"name": "B", "share": 0.4}]
    labels = generate_synthetic_dataset(
        folder,
        n_images=SIMILAR_FACES,
        image_size=32,
        seed=5,
        signal=0.9,
        groups=groups,
        gender_classes=["Female", "Male"],
        age_classes=AGES,
    )
    for file in labels["file"]:
        altered = brighter(recompressed(Image.open(folder / file).convert("RGB")), levels=12)
        altered.save(folder / file.replace(".jpg", "_altered.png"))
    faces = pd.DataFrame({"path": labels["file"], "split": "train"})
    altered = faces.assign(path=faces["path"].str.replace(".jpg", "_altered.png"))
    for name, manifest in (("faces", faces), ("altered", altered)):
        write_split(manifest, folder, "train", 16, "gray", folder / f"{name}.npy", folder / f"{name}.csv")
    return np.load(folder / "faces.npy"), np.load(folder / "altered.npy")


def split_faces(similar_faces, seed: int, near_copies: int = 0, exact_copies: int = 0) -> dict:
    """A random 55/20/25 split of the faces (as the tiny study's); the first `near_copies` test images replaced by
    near copies of train images, the last `exact_copies` by exact copies of others."""
    faces, altered = similar_faces
    order = np.random.default_rng(seed).permutation(len(faces))
    members = np.split(order, [int(0.55 * len(faces)), int(0.75 * len(faces))])
    splits = {split: faces[indices].copy() for split, indices in zip(SPLITS, members, strict=True)}
    train = members[0]
    splits["test"][:near_copies] = altered[train[:near_copies]]
    splits["test"][len(splits["test"]) - exact_copies :] = faces[train[len(train) - exact_copies :]]
    return {split: (images, rows_for(split, len(images))) for split, images in splits.items()}


def across_splits(audit: dict) -> list[dict]:
    return [summary for summary in audit["duplicates"] if summary["splits"][0] != summary["splits"][1]]


def test_similar_but_distinct_faces_have_near_copies_across_splits_but_no_leakage(similar_faces):
    for seed in range(10):
        audit = audit_splits(split_faces(similar_faces, seed), LABELS, ["group"], 6, 3)

        train_test = duplicates_of(audit, "train", "test")
        assert train_test["images_with_near_copy"] >= 10  # what a bare count would call leakage
        baseline = train_test["near_copies"]["baseline"]
        assert baseline["split"] == "train" and baseline["rate"] > 0.15  # train's own faces are as alike
        for summary in across_splits(audit):
            assert not summary["exact_leak"], (seed, summary["splits"])
            assert summary["near_copies"]["verdict"] == EXPECTED, (seed, summary["splits"], summary["near_copies"])


def test_near_copies_of_train_images_beyond_the_dataset_similarity_are_possible_leakage(similar_faces):
    audit = audit_splits(split_faces(similar_faces, 0, near_copies=30), LABELS, ["group"], 6, 3)

    near = duplicates_of(audit, "train", "test")["near_copies"]
    assert near["verdict"] == EXCESS
    assert near["p_value"] < near["alpha"] == pytest.approx(0.01 / 3)  # Bonferroni over the three split pairs
    assert near["low"] > near["baseline"]["high"]
    assert not duplicates_of(audit, "train", "test")["exact_leak"]  # recompressed: no pixel is the same
    assert duplicates_of(audit, "train", "val")["near_copies"]["verdict"] == EXPECTED


def test_an_exact_copy_is_leakage_whatever_the_dataset_similarity(similar_faces):
    audit = audit_splits(split_faces(similar_faces, 0, exact_copies=1), LABELS, ["group"], 6, 3)

    train_test = duplicates_of(audit, "train", "test")
    assert train_test["exact_leak"] and train_test["images_with_exact_copy"] == 1
    assert train_test["near_copies"]["verdict"] == EXPECTED
    assert not duplicates_of(audit, "train", "val")["exact_leak"]
