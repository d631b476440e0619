"""The data section of the report shows a real data audit: exact copies across splits flagged as leakage with their
counts and example paths, near copies as possible leakage only beyond the dataset's own similarity and otherwise
said to be at the rate it predicts; base rates per group, image statistics per group; a dataset without an audit
file shows the rest as before."""

import numpy as np
import pandas as pd
import pytest

from faceaudit.data.audit import audit_splits
from faceaudit.report.datasets import dataset_context
from faceaudit.report.render import render

ODD_GROUP = "<b>B & Co</b>"
DATASET = {"layout": "synthetic", "labels": {"gender": ["Female", "Male"], "group": ["A", ODD_GROUP]}}


def split(images: np.ndarray, paths: list[str], groups: list[str], genders: list[str]) -> tuple:
    return images, pd.DataFrame({"path": paths, "group": groups, "gender": genders})


@pytest.fixture(scope="module")
def audit():
    """Four distinct train images; test holds an exact copy of train image 2 and one new image."""
    images = np.random.default_rng(0).integers(0, 256, size=(5, 16, 16, 1), dtype=np.uint8)
    splits = {
        "train": split(images[:4], [f"train_{i}.jpg" for i in range(4)], ["A", "A", "A", ODD_GROUP], ["Male"] * 4),
        "val": split(images[:0], [], [], []),
        "test": split(images[[2, 4]], ["copy_of_2.jpg", "new.jpg"], ["A", ODD_GROUP], ["Female", "Male"]),
    }
    splits["train"][1].loc[0, "gender"] = "Female"
    return audit_splits(splits, DATASET["labels"], ["group"], near_duplicate_distance=6, examples=3)


def manifest() -> pd.DataFrame:
    return pd.DataFrame({"path": ["a.jpg"], "split": ["train"], "gender": ["Male"], "group": ["A"]})


def data_section(data_audit) -> str:
    data = {"manifest": manifest(), "rejects": pd.DataFrame(columns=["path", "reason"]), "repairs": None}
    context = dataset_context("faces", DATASET, data | {"data_audit": data_audit}, {})
    return render("data.html", {"datasets": [context]})


def test_leakage_is_flagged_with_counts_and_example_paths(audit):
    html = data_section(audit)

    assert "<strong>Leakage</strong>: 1 of 2 test images have an exact copy in train." in html
    assert "Possible leakage" not in html
    row = next(row for row in html.split("<tr") if "test vs train</td>" in row)
    assert row.startswith(' class="flagged"')
    assert "1 (50.0%)" in row  # one of the two test images has an exact copy in train
    assert "exact: test row 0 (copy_of_2.jpg) ~ train row 2 (train_2.jpg)" in row


def near_copy_audit(train: np.ndarray, test: np.ndarray) -> dict:
    splits = {
        "train": split(train, [f"train_{i}.jpg" for i in range(len(train))], ["A"] * len(train), ["Male"] * len(train)),
        "val": split(train[:0], [], [], []),
        "test": split(test, [f"test_{i}.jpg" for i in range(len(test))], ["A"] * len(test), ["Male"] * len(test)),
    }
    return audit_splits(splits, DATASET["labels"], ["group"], near_duplicate_distance=6, examples=3)


def near_copies_of(images: np.ndarray) -> np.ndarray:
    return np.clip(images.astype(np.int16) + 3, 0, 255).astype(np.uint8)


def test_near_copies_at_the_rate_of_the_dataset_own_similarity_are_not_called_leakage():
    """Train: 10 images, 10 near copies of them and 10 others (20 of 30 with a near copy); test: near copies of 2
    train images and 1 other image (2 of 3)."""
    images = np.random.default_rng(1).integers(10, 246, size=(21, 16, 16, 1), dtype=np.uint8)
    train = np.concatenate([images[:10], near_copies_of(images[:10]), images[10:20]])
    html = data_section(near_copy_audit(train, np.concatenate([near_copies_of(images[10:12]), images[20:]])))

    assert "Leakage" not in html and "Possible leakage" not in html
    assert "near copies at the rate the dataset&#39;s own similarity predicts (inspect the examples): 2 of 3" in html
    assert "2 of 3 test images (66.7%, 95% interval 20.8-93.9%) have one in train" in html
    assert "20 of 30 train images (66.7%, 95% interval 48.8-80.8%) have one among the other train images" in html
    row = next(row for row in html.split("<tr") if "test vs train</td>" in row)
    assert not row.startswith(' class="flagged"') and "as its own similarity predicts" in row


def test_near_copies_beyond_the_dataset_own_similarity_are_possible_leakage():
    """Train: 30 distinct images (none with a near copy); test: near copies of 10 of them and 2 other images."""
    images = np.random.default_rng(2).integers(10, 246, size=(32, 16, 16, 1), dtype=np.uint8)
    html = data_section(near_copy_audit(images[:30], np.concatenate([near_copies_of(images[:10]), images[30:]])))

    assert "<strong>Possible leakage</strong>: 10 of 12 test images (83.3%" in html
    assert "0 of 30 train images (0.0%" in html
    row = next(row for row in html.split("<tr") if "test vs train</td>" in row)
    assert row.startswith(' class="flagged"') and "more than its own similarity predicts" in row
    assert "near: test row 0 (test_0.jpg) ~ train row 0 (train_0.jpg), 0 bits apart" in row


def test_base_rates_and_image_statistics_per_group_are_shown_escaped(audit):
    html = data_section(audit)

    assert "gender per group and split (base rates)" in html
    assert "<td>1 (33.3%)</td><td>2 (66.7%)</td>" in html  # train, group A: 1 Female, 2 Male of 3
    assert "&lt;b&gt;B &amp; Co&lt;/b&gt;" in html and "<b>B & Co</b>" not in html
    assert "image statistics per group" in html
    assert "highest - lowest mean" in html


def test_a_dataset_without_an_audit_file_has_no_audit_section():
    html = data_section(None)

    assert "data audit" not in html
    assert "gender per split" in html
