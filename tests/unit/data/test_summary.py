"""What the report shows about a dataset: class counts per split (declared order, empty classes kept) and a PNG grid
of sample images titled with their labels."""

import re

import numpy as np
import pandas as pd
from PIL import Image

from faceaudit.data.summary import (
    class_distributions,
    pick_samples,
    sample_grid_figure,
    sample_title,
    write_sample_grid,
)

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


def write_images(folder, count: int) -> None:
    for number in range(count):
        Image.fromarray(np.full((50, 40, 3), 30 * number % 255, dtype=np.uint8)).save(folder / f"{number}.jpg")


def test_sample_grid_is_a_png_showing_every_class(tmp_path):
    manifest = small_manifest()
    write_images(tmp_path, 8)

    path = write_sample_grid(manifest, tmp_path, LABELS, tmp_path / "samples.png", n_images=4)

    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 200
    picked = pick_samples(manifest, ["gender", "group"], 4, seed=0)
    assert len(picked) == 4
    assert picked["gender"].value_counts().to_dict() == {"Female": 2, "Male": 2}
    assert picked["group"].value_counts().to_dict() == {"A": 2, "B": 2}
    assert pick_samples(manifest, ["gender", "group"], 4, seed=0)["path"].tolist() == picked["path"].tolist()


def skewed_manifest() -> pd.DataFrame:
    """90 rows of group A, 10 of B; 80 Male, 20 Female; ages in years that sort differently as text ("100" < "25")."""
    rows = 100
    return pd.DataFrame(
        {
            "path": [f"{number}.jpg" for number in range(rows)],
            "split": ["train"] * rows,
            "age": [str(100 if number % 2 else 25 + number % 7) for number in range(rows)],
            "gender": ["Female" if number % 5 == 0 else "Male" for number in range(rows)],
            "group": ["B" if number % 10 == 3 else "A" for number in range(rows)],
        }
    )


def test_samples_are_balanced_over_every_categorical_label_not_over_a_numeric_one():
    manifest = skewed_manifest()
    labels = {"age": "numeric", "gender": ["Female", "Male"], "group": ["A", "B"]}

    picked = pick_samples(manifest, [label for label, classes in labels.items() if classes != "numeric"], 8, seed=1)

    assert picked["gender"].value_counts().to_dict() == {"Female": 4, "Male": 4}
    assert picked["group"].value_counts().to_dict() == {"A": 4, "B": 4}
    assert picked["path"].is_unique


def test_sample_titles_round_numbers_and_keep_names_literal(tmp_path):
    manifest = small_manifest().assign(age=["29.7427319211103", "30", "41.25", "50", "25", "35", "60", "70"])
    manifest["group"] = manifest["group"].replace({"A": "$x$"})
    write_images(tmp_path, 8)
    labels = {"gender": ["Female", "Male"], "group": ["$x$", "B"], "age": "numeric"}

    assert sample_title(manifest.iloc[0].to_dict(), labels) == "gender: Female\ngroup: $x$\nage: 29.7"
    figure = sample_grid_figure(manifest, tmp_path, labels, n_images=8, seed=0, size=16)
    titles = [axis.title for axis in figure.axes if axis.get_title()]
    assert any("group: $x$" in title.get_text() for title in titles)
    for title in titles:
        assert not title.get_parse_math(), "a name with two dollar signs would be drawn as a formula"
        assert not re.search(r"\d\.\d{2,}", title.get_text())
