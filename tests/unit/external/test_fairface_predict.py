"""FairFace's predict.py output, written the way predict.py writes it (pandas, numpy arrays in the score cells),
imported against a FairFace split: labels and scores land in the dataset's class order, extra faces are left out."""

import numpy as np
import pandas as pd
import pytest

from faceaudit.external.fairface_predict import FAIRFACE_OUTPUTS, parse_score_array
from faceaudit.external.prediction_files import import_predictions

# config/fairface.yaml's classes: gender in the other order than predict.py's, the oldest age bin named differently.
TARGETS = {
    "race": ["White", "Black", "Latino_Hispanic", "East Asian", "Southeast Asian", "Indian", "Middle Eastern"],
    "gender": ["Female", "Male"],
    "age": ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70"],
}
FACES = ["1_face0.jpg", "1_face1.jpg", "2_face0.jpg", "3_face0.jpg", "4_face0.jpg"]


def softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits)
    return exp / np.sum(exp)


def write_predict_py_output(path, seed: int = 0) -> pd.DataFrame:
    """Rows as predict.py builds them: float32 softmax arrays, labels of the argmax, then `to_csv(index=False)`."""
    rng = np.random.default_rng(seed)
    records = []
    for face in FACES:
        record = {"face_name_align": f"detected_faces/{face}"}
        for name, column in [("race", "race_scores_fair"), ("race4", "race_scores_fair_4")]:
            record[column] = softmax(rng.normal(0, 2, len(FAIRFACE_OUTPUTS[name])).astype(np.float32))
            record[name] = FAIRFACE_OUTPUTS[name][record[column].argmax()]
        for name in ("gender", "age"):
            record[f"{name}_scores_fair"] = softmax(rng.normal(0, 2, len(FAIRFACE_OUTPUTS[name])).astype(np.float32))
            record[name] = FAIRFACE_OUTPUTS[name][record[f"{name}_scores_fair"].argmax()]
        records.append(record)
    columns = ["face_name_align", "race", "race4", "gender", "age"]
    columns += ["race_scores_fair", "race_scores_fair_4", "gender_scores_fair", "age_scores_fair"]
    table = pd.DataFrame(records)[columns]
    table.to_csv(path, index=False)
    return table


def fairface_rows(race_classes: list[str]) -> pd.DataFrame:
    """FairFace's val split as its manifest paths name it (train also has a 1.jpg, in another split)."""
    return pd.DataFrame(
        {
            "path": [f"fairface/val/{number}.jpg" for number in range(1, 6)],
            "race": race_classes[:5],
            "gender": ["Female", "Male", "Female", "Male", "Female"],
            "age": ["0-2", "20-29", "more than 70", "3-9", "10-19"],
        }
    )


def test_predict_py_output_imports_with_scores_in_the_dataset_class_order(tmp_path):
    written = write_predict_py_output(tmp_path / "test_outputs.csv")
    rows = fairface_rows(TARGETS["race"])
    settings = {"format": "fairface", "max_reject_fraction": 0.25}  # image 5 has no face found: 1 of 5 missing
    imported = import_predictions(tmp_path / "test_outputs.csv", rows, settings, TARGETS, ["race"], "test")
    predictions = imported.predictions
    assert list(predictions["path"]) == [
        "fairface/val/1.jpg",
        "fairface/val/2.jpg",
        "fairface/val/3.jpg",
        "fairface/val/4.jpg",
    ]
    face0 = written.drop(index=1).reset_index(drop=True)
    gender = np.stack(face0["gender_scores_fair"])  # predict.py's order: Male, Female
    assert np.allclose(
        predictions[["gender_score_0", "gender_score_1"]].to_numpy(), gender[:, ::-1], rtol=1e-6, atol=1e-8
    )  # printed with 8 decimals
    race = predictions[[f"race_score_{i}" for i in range(7)]].to_numpy()
    assert np.allclose(race, np.stack(face0["race_scores_fair"]), rtol=1e-6, atol=1e-8)  # printed with 8 decimals
    assert list(predictions["age_pred"]) == [label.replace("70+", "more than 70") for label in face0["age"]]
    assert list(predictions["gender_pred"]) == list(face0["gender"])
    assert list(predictions["race_true"]) == list(rows["race"].iloc[:4])
    assert imported.left_out.to_dict("records") == [
        {
            "source": "file",
            "row": "2",
            "id": "1.jpg",
            "reason": "face 1 of an image where several faces were detected; only face0 is audited",
        }
    ]
    assert imported.rejects.to_dict("records") == [
        {"source": "split", "row": "", "id": "fairface/val/5.jpg", "reason": "no prediction in test_outputs.csv"}
    ]
    assert imported.summary["scores"] == {"race": True, "gender": True, "age": True}


def test_a_four_race_dataset_gets_predict_py_four_race_model(tmp_path):
    written = write_predict_py_output(tmp_path / "test_outputs.csv")
    targets = {"race": ["Asian", "Black", "Indian", "White"]}
    rows = fairface_rows(["Asian", "Black", "Indian", "White", "Asian"])
    settings = {"format": "fairface", "max_reject_fraction": 0.25}
    imported = import_predictions(tmp_path / "test_outputs.csv", rows, settings, targets, [], "test")
    four = np.stack(written.drop(index=1)["race_scores_fair_4"])  # predict.py's order: White, Black, Asian, Indian
    scores = imported.predictions[[f"race_score_{i}" for i in range(4)]].to_numpy()
    assert np.allclose(scores, four[:, [2, 1, 3, 0]])
    assert list(imported.predictions["race_pred"]) == list(written.drop(index=1)["race4"])


def test_seven_predicted_races_map_onto_other_classes_as_hard_decisions(tmp_path):
    write_predict_py_output(tmp_path / "test_outputs.csv")
    targets = {"race": ["White", "Black", "Asian", "Indian", "Others"]}  # UTKFace's: no FairFace output has these
    settings = {
        "format": "fairface",
        "max_reject_fraction": 0.5,
        "label_map": {
            "race": {
                "East Asian": "Asian",
                "Southeast Asian": "Asian",
                "Latino_Hispanic": "Others",
                "Middle Eastern": "Others",
            }
        },
    }
    rows = fairface_rows(targets["race"])
    imported = import_predictions(tmp_path / "test_outputs.csv", rows, settings, targets, [], "test")
    assert imported.summary["scores"] == {"race": False}
    assert set(imported.predictions["race_pred"]) <= set(targets["race"])


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("[0.25 0.75]", ["0.25", "0.75"]),
        (
            "[1.2345678e-01 3.4567890e-01 2.2222222e-01\n 3.0864210e-01]",
            ["1.2345678e-01", "3.4567890e-01", "2.2222222e-01", "3.0864210e-01"],
        ),
    ],
)
def test_score_arrays_are_read_as_pandas_printed_them(text, numbers):
    assert parse_score_array(text, len(numbers), "c") == (numbers, "")


def test_a_broken_score_array_rejects_its_row(tmp_path):
    written = write_predict_py_output(tmp_path / "test_outputs.csv")
    written.loc[2, "gender_scores_fair"] = "[0.5]"
    written.to_csv(tmp_path / "test_outputs.csv", index=False)
    rows = fairface_rows(TARGETS["race"])
    settings = {"format": "fairface", "max_reject_fraction": 0.5}
    imported = import_predictions(tmp_path / "test_outputs.csv", rows, settings, TARGETS, [], "test")
    rejected = imported.rejects[imported.rejects["source"] == "file"]
    assert rejected.to_dict("records") == [
        {
            "source": "file",
            "row": "3",
            "id": "2.jpg",
            "reason": "gender_scores_fair holds 1 numbers, expected 2 (got '[0.5]')",
        }
    ]


def test_a_table_with_predict_pys_class_indices_instead_of_names_imports_the_same(tmp_path):
    """predict.py computes race_preds_fair, race_preds_fair_4, gender_preds_fair and age_preds_fair (class indices)
    before naming them; a table saved with those columns instead of the names gives the same predictions."""
    written = write_predict_py_output(tmp_path / "named.csv")
    indexed = written.drop(columns=["race", "race4", "gender", "age"])
    for name, column in [("race", "race_preds_fair"), ("race4", "race_preds_fair_4")]:
        indexed[column] = [FAIRFACE_OUTPUTS[name].index(label) for label in written[name]]
    for name in ("gender", "age"):
        indexed[f"{name}_preds_fair"] = [FAIRFACE_OUTPUTS[name].index(label) for label in written[name]]
    indexed.to_csv(tmp_path / "indexed.csv", index=False)
    rows, settings = fairface_rows(TARGETS["race"]), {"format": "fairface", "max_reject_fraction": 0.25}
    named, by_index = (
        import_predictions(tmp_path / file, rows, settings, TARGETS, ["race"], "test").predictions
        for file in ("named.csv", "indexed.csv")
    )
    pd.testing.assert_frame_equal(by_index, named)
