"""What the report shows about a dataset: class counts per split (declared order, empty classes kept) and a PNG grid
of sample images titled with their labels."""

import numpy as np
import pandas as pd
from PIL import Image

from faceaudit.data.summary import class_distributions, pick_samples, write_sample_grid

LABELS = {"gender": ["Female", "Male"], "group": ["A", "B", "C"], "age": "numeric"}


def small_manifest() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "path": [f"{number}.jpg" for number in range(8)],
            "split": ["train", "train", "train", "train", "val", "val", "test", "test"],
            "gender": ["Female", "Male", "Male", "Male", "Female", "Male", "Female", "Female"],
            "group": ["A", "A", "B", "A", "B", "A", "A", "B"],
            "age": ["20", "30", "40", "50", "25", "35", "60", "70"],
        }
    )


def test_class_counts_per_split_in_declared_order_with_empty_classes():
    tables = class_distributions(small_manifest(), LABELS)

    gender = tables["gender"]
    assert list(gender.columns) == ["train", "val", "test", "all"]
    assert gender.loc["Female"].tolist() == [1, 1, 2, 4]
    assert gender.loc["Male"].tolist() == [3, 1, 0, 4]
    group = tables["group"]
    assert list(group.index) == ["A", "B", "C"]
    assert group.loc["C"].tolist() == [0, 0, 0, 0]
    assert group["all"].sum() == 8


def test_numeric_label_is_summarised_per_split():
    age = class_distributions(small_manifest(), LABELS)["age"]

    assert age.loc["count"].tolist() == [4, 2, 2, 8]
    assert age.loc["mean", "train"] == 35
    assert age.loc["min", "all"] == 20 and age.loc["max", "test"] == 70


def test_sample_grid_is_a_png_showing_every_class(tmp_path):
    manifest = small_manifest()
    for number in range(8):
        Image.fromarray(np.full((50, 40, 3), 30 * number, dtype=np.uint8)).save(tmp_path / f"{number}.jpg")

    path = write_sample_grid(manifest, tmp_path, ["gender", "group"], tmp_path / "samples.png", n_images=4)

    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 200
    picked = pick_samples(manifest, "gender", 4, seed=0)
    assert len(picked) == 4
    assert picked["gender"].value_counts().to_dict() == {"Female": 2, "Male": 2}
    assert pick_samples(manifest, "gender", 4, seed=0)["path"].tolist() == picked["path"].tolist()
