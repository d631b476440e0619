"""The gallery picks each group's most confident errors (hand-made predictions), shows their faces only where allowed,
and adds Grad-CAM heatmaps for a convolutional model."""

import base64
import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from faceaudit.evaluation.gallery import GallerySettings, build_gallery, confident_errors, rows_predicted
from faceaudit.models.builders import build_model

GENDER = ["Female", "Male"]
# Row: true, predicted, score of Male, group. Errors in A: rows 0 (0.9 sure), 2 (0.6), 3 (0.95); in B: row 5 (0.55).
TABLE = [
    ("Female", "Male", 0.9, "A"),
    ("Male", "Male", 0.99, "A"),
    ("Female", "Male", 0.6, "A"),
    ("Male", "Female", 0.05, "A"),
    ("Male", "Male", 0.8, "B"),
    ("Female", "Male", 0.55, "B"),
    ("Female", "Female", 0.1, "B"),
    ("Male", "Male", 0.7, "B"),
]


def gallery_inputs(size: int = 32):
    """Predictions, arrays and rows of one eval set; each image is flat grey at ten times its row number, so a
    thumbnail says which row it shows."""
    predictions = pd.DataFrame(
        {
            "path": [f"faces/{index}.jpg" for index in range(len(TABLE))],
            "gender_true": [true for true, *_ in TABLE],
            "gender_pred": [predicted for _, predicted, *_ in TABLE],
            "gender_score_0": [1 - score for *_, score, _ in TABLE],
            "gender_score_1": [score for *_, score, _ in TABLE],
            "group": [group for *_, group in TABLE],
            "age_years_true": np.arange(len(TABLE)),
            "age_years_pred": np.arange(len(TABLE)) + 1.0,
        }
    )
    images = np.stack([np.full((size, size, 1), 10 * row, np.uint8) for row in range(len(TABLE))])
    return predictions, images, predictions[["path"]].copy()


def thumbnail(uri: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


def test_confident_errors_come_most_confident_first_within_the_group():
    predictions, *_ = gallery_inputs()
    in_a = (predictions["group"] == "A").to_numpy()
    assert confident_errors(predictions, "gender", GENDER, in_a, 2).tolist() == [3, 0]
    assert confident_errors(predictions, "gender", GENDER, ~in_a, 6).tolist() == [5]


def test_gallery_shows_each_groups_errors_as_small_thumbnails_of_the_right_faces():
    predictions, images, rows = gallery_inputs()
    targets = {"gender": GENDER, "age_years": "numeric"}
    gallery = build_gallery(predictions, images, rows, targets, ["group"], GallerySettings(examples=2, thumbnail_px=24))
    assert list(gallery["targets"]) == ["gender"]  # a numeric target has no confident errors
    groups = gallery["targets"]["gender"]["group"]
    assert [example["row"] for example in groups["A"]["examples"]] == [3, 0]
    assert (groups["A"]["n"], groups["A"]["errors"], groups["B"]["errors"]) == (4, 3, 1)
    first = groups["A"]["examples"][0]
    assert (first["true"], first["predicted"], first["confidence"], first["path"]) == (
        "Male",
        "Female",
        0.95,
        "faces/3.jpg",
    )
    face = thumbnail(first["thumbnail"])
    assert face.size == (24, 24)
    assert np.asarray(face).max() == 30
    assert groups["A"]["mean_heatmap"] is None and gallery["gradcam_note"].startswith("no model file")


def test_with_faces_off_no_image_of_a_face_is_written():
    predictions, images, rows = gallery_inputs(16)
    model = build_model("small_cnn", (16, 16, 1), {"gender": 2})
    settings = GallerySettings(show_faces=False, heatmap_images=3)
    gallery = build_gallery(predictions, images, rows, {"gender": GENDER}, ["group"], settings, model)
    groups = gallery["targets"]["gender"]["group"]
    examples = [example for group in groups.values() for example in group["examples"]]
    assert examples and all(example["thumbnail"] is None and example["heatmap"] is None for example in examples)
    # The averaged heatmap holds no face: it is drawn on its own, over at most heatmap_images rows of the group.
    assert groups["A"]["heatmap_images"] == 3 and thumbnail(groups["A"]["mean_heatmap"]).mode == "RGB"
    shown = build_gallery(predictions, images, rows, {"gender": GENDER}, ["group"], GallerySettings(), model)
    assert all(example["heatmap"] for example in shown["targets"]["gender"]["group"]["A"]["examples"])
    assert shown["gradcam_layer"].startswith("conv")


def test_predictions_out_of_the_arrays_order_are_refused_naming_the_row():
    predictions, images, rows = gallery_inputs()
    rows.loc[2, "path"] = "faces/other.jpg"
    with pytest.raises(ValueError, match="row 2: .*'faces/2.jpg'.*'faces/other.jpg'"):
        build_gallery(predictions, images, rows, {"gender": GENDER}, ["group"], GallerySettings())


def test_rows_a_label_map_left_out_are_dropped_from_the_arrays_so_the_rest_stay_aligned():
    predictions, images, rows = gallery_inputs()
    kept = predictions.drop(index=[1, 4]).reset_index(drop=True)  # rows 1 and 4 left out by a label map
    kept_images, kept_rows = rows_predicted(images, rows, kept)
    assert list(kept_rows["path"]) == list(kept["path"])
    assert [int(image[0, 0, 0]) for image in kept_images] == [0, 20, 30, 50, 60, 70]
    gallery = build_gallery(kept, kept_images, kept_rows, {"gender": GENDER}, ["group"], GallerySettings())
    assert set(gallery["targets"]["gender"]["group"]) == {"A", "B"}
