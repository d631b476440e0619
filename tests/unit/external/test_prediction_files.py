"""Imported prediction files: real CSV files on disk, damaged the ways files from other pipelines are damaged; each
damaged row ends up in rejects with its reason, and the rest is the predictions table faceaudit itself writes."""

import hashlib

import numpy as np
import pandas as pd
import pytest

from faceaudit.data.manifest import TooManyRejectsError
from faceaudit.external.prediction_files import import_predictions

TARGETS = {"gender": ["Female", "Male"], "race": ["A", "B", "C"], "age": "numeric"}
ATTRIBUTES = ["race", "group"]
ALL_ROWS = {"max_reject_fraction": 1.0}


def split_rows(n_rows: int = 20, seed: int = 0) -> pd.DataFrame:
    """A split's rows as faceaudit reads them (every column text)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "path": [f"images/{index:05d}.jpg" for index in range(n_rows)],
            "gender": rng.choice(TARGETS["gender"], n_rows),
            "race": rng.choice(TARGETS["race"], n_rows),
            "age": [str(age) for age in rng.integers(1, 90, n_rows)],
            "group": rng.choice(["g1", "g2"], n_rows),
        }
    )


def faceaudit_predictions(rows: pd.DataFrame, seed: int = 1) -> pd.DataFrame:
    """A predictions table with the exact layout of predict_eval_set's, scores with full float precision."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({"path": rows["path"]})
    for target, classes in TARGETS.items():
        table[f"{target}_true"] = rows[target].to_numpy()
        if classes == "numeric":
            table[f"{target}_pred"] = rng.normal(40, 15, len(rows))
            continue
        scores = rng.dirichlet(np.ones(len(classes)), len(rows))
        table[f"{target}_pred"] = np.asarray(classes, dtype=object)[scores.argmax(axis=1)]
        for class_index in range(len(classes)):
            table[f"{target}_score_{class_index}"] = scores[:, class_index]
    for attribute in ATTRIBUTES:
        table[attribute] = rows[attribute].to_numpy()
    return table


def run_import(path, rows, **settings):
    return import_predictions(path, rows, settings, TARGETS, ATTRIBUTES, "test")


def test_a_faceaudit_predictions_file_imports_back_identical(tmp_path):
    rows = split_rows()
    original = faceaudit_predictions(rows)
    path = tmp_path / "predictions.csv"
    original.sample(frac=1.0, random_state=3).to_csv(path, index=False)  # file order need not be the split's
    imported = run_import(path, rows)
    pd.testing.assert_frame_equal(imported.predictions, original)
    assert imported.rejects.empty and imported.left_out.empty
    assert imported.summary["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert imported.summary["scores"] == {"gender": True, "race": True}
    counts = [imported.summary[key] for key in ("rows_in_file", "predicted", "rejected", "left_out", "missing")]
    assert counts == [20, 20, 0, 0, 0]


def damaged_file(tmp_path, rows) -> tuple:
    """The faceaudit file of `rows` minus its last two rows, with one damage per row listed in the returned dict."""
    table = faceaudit_predictions(rows).iloc[:-2].astype(object)
    table.loc[1, "race_pred"] = "D"
    table.loc[2, "gender_score_0"] = "high"
    table.loc[3, ["gender_score_0", "gender_score_1"]] = [1.5, -0.5]
    table.loc[4, "race_score_0"] = float(table.loc[4, "race_score_0"]) + 0.01
    table.loc[5, "path"] = "images/99999.jpg"
    table.loc[6, "path"] = ""
    table.loc[7, "age_pred"] = "NaN"
    table = pd.concat([table, table.iloc[[9]]], ignore_index=True)
    path = tmp_path / "damaged.csv"
    table.to_csv(path, index=False)
    expected = {
        "2": "'D' is not a class of imported.label_map.race's target (classes: A, B, C); map it in "
        "imported.label_map.race",
        "3": "gender_score_0 is not a number (got 'high')",
        "4": "gender_score_0 is outside [0, 1] (got '1.5')",
        "6": "matches no image of the test split (matched by path)",
        "7": "empty id (column 'path')",
        "8": "'NaN' is not a finite number (imported.label_map.age's target is numeric)",
        "19": "duplicate of row 10 (the same image)",
    }
    return path, expected


def test_every_damaged_row_is_rejected_with_its_reason_and_missing_images_are_listed(tmp_path):
    rows = split_rows()
    path, expected = damaged_file(tmp_path, rows)
    imported = run_import(path, rows, **ALL_ROWS)
    from_file = imported.rejects[imported.rejects["source"] == "file"].set_index("row")["reason"]
    for row, reason in expected.items():
        assert from_file[row] == reason
    assert from_file["5"].startswith("scores of race do not sum to 1 ± 0.001 (got 1.01")
    missing = imported.rejects[imported.rejects["source"] == "split"]
    assert list(missing["id"]) == ["images/00005.jpg", "images/00006.jpg", "images/00018.jpg", "images/00019.jpg"]
    assert set(missing["reason"]) == {"no prediction in damaged.csv"}
    accepted = [index for index in range(18) if index not in (1, 2, 3, 4, 5, 6, 7)]
    assert list(imported.predictions["path"]) == list(rows["path"].iloc[accepted])
    summary = imported.summary
    assert (summary["rows_in_file"], summary["rejected"], summary["missing"], summary["predicted"]) == (19, 8, 4, 11)
    assert summary["reasons"]["duplicate of row N (the same image)"] == 1
    assert summary["reasons"]["no prediction in damaged.csv"] == 4


def test_too_many_rejected_rows_stop_the_import_naming_file_counts_and_reasons(tmp_path):
    rows = split_rows()
    table = faceaudit_predictions(rows).astype(object)
    table.loc[0:4, "path"] = [f"other/{index}.jpg" for index in range(5)]
    table.loc[5:6, "race_pred"] = "D"
    table.loc[7, "gender_score_1"] = "2"
    path = tmp_path / "many.csv"
    table.to_csv(path, index=False)
    with pytest.raises(TooManyRejectsError) as error:
        run_import(path, rows, max_reject_fraction=0.2, config_key="experiments.x.imported")
    message = str(error.value)
    assert message.startswith(
        f"{path}: 8 of 20 rows rejected (40.0%), above experiments.x.imported.max_reject_fraction"
    )
    reasons = message.split("most common reasons:\n  - ")[1].split("\n  - ")
    assert reasons[0] == "matches no image of the test split (matched by path) (5 rows, e.g. row 1, id 'other/0.jpg')"
    assert reasons[1].startswith("'D' is not a class of experiments.x.imported.label_map.race's target")
    assert reasons[1].endswith("(2 rows, e.g. row 6, id 'images/00005.jpg')")
    assert reasons[2] == "gender_score_1 is outside [0, 1] (1 rows, e.g. row 8, id 'images/00007.jpg')"


def test_too_many_images_without_a_prediction_stop_the_import(tmp_path):
    rows = split_rows()
    path = tmp_path / "subset.csv"
    faceaudit_predictions(rows).iloc[:15].to_csv(path, index=False)
    with pytest.raises(TooManyRejectsError) as error:
        run_import(path, rows, max_reject_fraction=0.1)
    message = str(error.value)
    assert "5 of 20 images of the test split have no prediction (25.0%), above imported.max_reject_fraction" in message
    assert "e.g. images/00015.jpg, images/00016.jpg, images/00017.jpg" in message


def test_labels_only_with_a_label_map_leave_rows_out_and_give_one_hot_scores(tmp_path):
    rows = split_rows(6)
    file = pd.DataFrame(
        {
            "image": [f"{index:05d}" for index in range(6)],
            "sex": ["F", "M", "M", "F", "F", "M"],
            "ethnicity": ["a", "b", "c", "other", "a", "b"],
            "years": ["30", "41.5", "12", "70", "8", "22"],
        }
    )
    file.to_csv(tmp_path / "labels.csv", index=False)
    settings = {
        "id_column": "image",
        "match": "stem",
        "columns": {
            "gender": {"predicted": "sex", "scores": None},
            "race": {"predicted": "ethnicity", "scores": None},
            "age": {"predicted": "years", "scores": None},
        },
        "label_map": {"gender": {"F": "Female", "M": "Male"}, "race": {"a": "A", "b": "B", "c": "C", "other": None}},
    }
    imported = run_import(tmp_path / "labels.csv", rows, **settings)
    predictions = imported.predictions
    assert list(predictions["path"]) == list(rows["path"].drop(index=3))
    assert list(predictions["race_pred"]) == ["A", "B", "C", "A", "B"]
    assert predictions[["race_score_0", "race_score_1", "race_score_2"]].to_numpy().tolist()[2] == [0.0, 0.0, 1.0]
    assert list(predictions["age_pred"]) == [30.0, 41.5, 12.0, 8.0, 22.0]
    assert imported.summary["scores"] == {"gender": False, "race": False}
    assert (imported.summary["left_out"], imported.summary["rejected"], imported.summary["missing"]) == (1, 0, 0)
    assert imported.left_out.iloc[0].to_dict() == {
        "source": "file",
        "row": "4",
        "id": "00003",
        "reason": "left out by imported.label_map.race ('other' maps to null)",
    }


def test_scores_only_predict_the_highest_scoring_class(tmp_path):
    rows = split_rows(3)
    file = pd.DataFrame(
        {
            "path": rows["path"],
            "p_female": ["0.9", "0.2", "0.5"],
            "p_male": ["0.1", "0.8", "0.5"],
            "age_pred": ["1", "2", "3"],
        }
    )
    file.to_csv(tmp_path / "scores.csv", index=False)
    targets = {"gender": TARGETS["gender"], "age": "numeric"}
    settings = {"columns": {"gender": {"predicted": None, "scores": ["p_female", "p_male"]}}}
    imported = import_predictions(tmp_path / "scores.csv", rows, settings, targets, [], "test")
    assert list(imported.predictions["gender_pred"]) == ["Female", "Male", "Female"]
    assert imported.summary["scores"] == {"gender": True}


def test_a_file_name_shared_by_two_images_of_the_split_is_ambiguous(tmp_path):
    rows = split_rows(3).assign(path=["train/1.jpg", "val/1.jpg", "val/2.jpg"])
    file = faceaudit_predictions(rows).assign(path=["1.jpg", "2.jpg", "val/2.jpg"])
    file.to_csv(tmp_path / "names.csv", index=False)
    imported = run_import(tmp_path / "names.csv", rows, match="file_name", **ALL_ROWS)
    reasons = imported.rejects.set_index("row")["reason"]
    assert reasons["1"].startswith("matches 2 images of the test split by file_name (train/1.jpg, val/1.jpg)")
    assert reasons["3"] == "duplicate of row 2 (the same image)"


def test_missing_columns_are_named_with_the_columns_the_file_has(tmp_path):
    rows = split_rows(3)
    faceaudit_predictions(rows).drop(columns="age_pred").to_csv(tmp_path / "p.csv", index=False)
    with pytest.raises(ValueError, match=r"p.csv: no column \['age_pred'\].*it has columns \['path', 'gender_true'"):
        run_import(tmp_path / "p.csv", rows)
    with pytest.raises(ValueError, match=r"no column \['image'\] \(named by imported.id_column\)"):
        run_import(tmp_path / "p.csv", rows, id_column="image")


def test_the_carried_labels_come_from_the_split_rows_numeric_ones_included(tmp_path):
    """Issue 21: a numeric label (age in years) that is no target is carried too, for the subgroup search's bins."""
    rows = split_rows()
    gender = {"gender": TARGETS["gender"]}
    table = faceaudit_predictions(rows)[["path", "gender_pred"]]
    table.to_csv(tmp_path / "gender.csv", index=False)

    imported = import_predictions(tmp_path / "gender.csv", rows, {}, gender, ["group", "age"], "test")

    assert list(imported.predictions.columns)[-2:] == ["group", "age"]
    assert imported.predictions["age"].tolist() == rows["age"].tolist()
