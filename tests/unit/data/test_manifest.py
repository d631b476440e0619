"""The manifest: a small synthetic dataset on disk, damaged the ways real datasets are damaged; every damaged row
ends up in rejects with its reason, the rest is split train/val/test (seeded, stratified)."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faceaudit.data.adapters import read_source
from faceaudit.data.manifest import TooManyRejectsError, build_manifest
from faceaudit.data.synthetic import generate_synthetic_dataset

LABELS = {"gender": ["Female", "Male"], "age": ["young", "adult", "old"], "group": ["A", "B"]}
SPLIT = {"val": 0.15, "test": 0.15, "seed": 0}
N_IMAGES = 80


@pytest.fixture(scope="module")
def damaged_dataset(tmp_path_factory) -> Path:
    """80 synthetic faces, five of them damaged: missing, corrupt, truncated, unknown label, blank label."""
    root = tmp_path_factory.mktemp("faces")
    generate_synthetic_dataset(
        root,
        n_images=N_IMAGES,
        image_size=32,
        seed=5,
        signal=0.9,
        groups=[{"name": "A", "share": 0.5}, {"name": "B", "share": 0.5}],
        gender_classes=LABELS["gender"],
        age_classes=LABELS["age"],
    )
    (root / "images/00003.jpg").unlink()
    (root / "images/00011.jpg").write_bytes(np.random.default_rng(0).bytes(900))
    truncated = root / "images/00017.jpg"
    jpeg = truncated.read_bytes()
    truncated.write_bytes(jpeg[: len(jpeg) // 2])
    labels = pd.read_csv(root / "labels.csv", dtype=str, keep_default_na=False)
    labels.loc[labels["file"] == "images/00023.jpg", "gender"] = "X"
    labels.loc[labels["file"] == "images/00042.jpg", "age"] = ""
    labels.to_csv(root / "labels.csv", index=False)
    return root


def manifest_of(root: Path, split: dict = SPLIT, max_reject_fraction: float = 0.1):
    return build_manifest(read_source("synthetic", root), root, LABELS, split, max_reject_fraction)


def test_each_damaged_row_is_rejected_with_its_reason(damaged_dataset):
    manifest, rejects = manifest_of(damaged_dataset)

    reasons = dict(zip(rejects["path"], rejects["reason"]))
    assert sorted(reasons) == [f"images/{number:05d}.jpg" for number in (3, 11, 17, 23, 42)]
    assert reasons["images/00003.jpg"] == "file not found"
    assert reasons["images/00011.jpg"].startswith("undecodable image:")
    assert reasons["images/00017.jpg"].startswith("undecodable image:")
    assert "truncated" in reasons["images/00017.jpg"].lower()
    assert reasons["images/00023.jpg"] == "unknown gender value 'X' (known: Female, Male)"
    assert reasons["images/00042.jpg"] == "missing value for label 'age'"
    # Rejects keep the source row as it was, so a user can see what was wrong with it.
    assert rejects.loc[rejects["path"] == "images/00023.jpg", "gender"].item() == "X"


def test_every_other_row_is_in_the_manifest_with_its_labels(damaged_dataset):
    manifest, rejects = manifest_of(damaged_dataset)
    source = pd.read_csv(damaged_dataset / "labels.csv", dtype=str, keep_default_na=False)

    assert list(manifest.columns) == ["path", "split", "gender", "age", "group"]
    assert len(manifest) + len(rejects) == N_IMAGES
    assert not set(manifest["path"]) & set(rejects["path"])
    accepted = source[~source["file"].isin(rejects["path"])]
    assert manifest["path"].tolist() == accepted["file"].tolist()
    assert (
        manifest[["gender", "age", "group"]].to_numpy().tolist()
        == accepted[["gender", "age", "group"]].to_numpy().tolist()
    )
    assert all((damaged_dataset / path).is_file() for path in manifest["path"])


def test_split_follows_the_configured_fractions_within_every_label_combination(damaged_dataset):
    manifest, _ = manifest_of(damaged_dataset)

    assert set(manifest["split"]) == {"train", "val", "test"}
    counts = manifest["split"].value_counts()
    assert abs(counts["test"] - 0.15 * len(manifest)) <= 4
    assert abs(counts["val"] - 0.15 * len(manifest)) <= 4
    for combination, members in manifest.groupby(["gender", "age", "group"]):
        n = len(members)
        in_split = members["split"].value_counts()
        assert in_split.get("test", 0) in {math.floor(0.15 * n), math.ceil(0.15 * n)}, combination
        assert in_split.get("val", 0) in {math.floor(0.15 * n), math.ceil(0.15 * n)}, combination
        if n >= 2:
            assert in_split.get("train", 0) >= 1, combination


def test_split_is_seeded(damaged_dataset):
    first, _ = manifest_of(damaged_dataset)
    again, _ = manifest_of(damaged_dataset)
    reseeded, _ = manifest_of(damaged_dataset, split={**SPLIT, "seed": 1})

    assert first["split"].tolist() == again["split"].tolist()
    assert first["split"].tolist() != reseeded["split"].tolist()


def test_larger_held_out_fractions(damaged_dataset):
    manifest, _ = manifest_of(damaged_dataset, split={"val": 0.25, "test": 0.4, "seed": 0})

    counts = manifest["split"].value_counts()
    assert abs(counts["test"] - 0.4 * len(manifest)) <= 4
    assert abs(counts["val"] - 0.25 * len(manifest)) <= 4


def test_too_many_rejects_stops_with_the_counts(damaged_dataset):
    with pytest.raises(TooManyRejectsError) as error:
        manifest_of(damaged_dataset, max_reject_fraction=0.05)

    message = str(error.value)
    assert "5 of 80 rows rejected (6.2%)" in message
    assert "max_reject_fraction 5.0%" in message
    assert "file not found" in message


def test_source_without_a_label_column_is_named(damaged_dataset):
    source = read_source("synthetic", damaged_dataset).drop(columns=["group"])

    with pytest.raises(ValueError, match=r"no column \['group'\]"):
        build_manifest(source, damaged_dataset, LABELS, SPLIT, 0.1)


def test_missing_labels_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="labels.csv"):
        read_source("synthetic", tmp_path)


def test_unknown_layout_is_named(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset layout 'coco'"):
        read_source("coco", tmp_path)
