"""Tests of faceaudit.evaluation.metrics on small hand-built prediction tables with known answers."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from faceaudit.evaluation.metrics import compute_metrics

GENDER = {"gender": ["Female", "Male"]}


def binary_table(true, predicted, male_scores=None):
    """A gender predictions table; the Female score is 1 - the Male score."""
    if male_scores is None:
        male_scores = [0.9 if label == "Male" else 0.1 for label in predicted]
    male_scores = np.asarray(male_scores, dtype=float)
    return pd.DataFrame(
        {
            "path": [f"img_{i}.jpg" for i in range(len(true))],
            "gender_true": true,
            "gender_pred": predicted,
            "gender_score_0": 1.0 - male_scores,
            "gender_score_1": male_scores,
        }
    )


def ten_row_table():
    """TP = 4, FN = 1, FP = 2, TN = 3 with Male as the positive class."""
    true = ["Male"] * 4 + ["Male"] + ["Female"] * 2 + ["Female"] * 3
    predicted = ["Male"] * 4 + ["Female"] + ["Male"] * 2 + ["Female"] * 3
    return binary_table(true, predicted)


def three_class_table():
    """Rows = true, columns = predicted over classes (a, b, c):

    a: 3 1 0
    b: 1 2 1
    c: 0 2 2
    """
    pairs = [("a", "a")] * 3 + [("a", "b")] + [("b", "a")] + [("b", "b")] * 2 + [("b", "c")]
    pairs += [("c", "b")] * 2 + [("c", "c")] * 2
    table = pd.DataFrame(
        {
            "path": [f"img_{i}.jpg" for i in range(len(pairs))],
            "shade_true": [true for true, _ in pairs],
            "shade_pred": [predicted for _, predicted in pairs],
        }
    )
    for index, name in enumerate("abc"):  # 0.8 for the predicted class, 0.1 for the others
        table[f"shade_score_{index}"] = [0.8 if predicted == name else 0.1 for _, predicted in pairs]
    return table


def test_binary_scores_are_the_hand_computed_ones():
    metrics = compute_metrics(ten_row_table(), GENDER, {"gender": "Male"})["gender"]
    assert metrics["kind"] == "binary"
    assert metrics["n"] == 10
    assert metrics["classes"] == ["Female", "Male"]
    assert metrics["positive_class"] == "Male"
    assert metrics["accuracy"] == pytest.approx(7 / 10)
    assert metrics["precision"] == pytest.approx(4 / 6)
    assert metrics["sensitivity"] == pytest.approx(4 / 5)
    assert metrics["specificity"] == pytest.approx(3 / 5)
    assert metrics["f1"] == pytest.approx(8 / 11)


def test_binary_per_class_and_confusion_matrix():
    metrics = compute_metrics(ten_row_table(), GENDER, {"gender": "Male"})["gender"]
    female = metrics["per_class"]["Female"]
    assert female["support"] == 5
    assert female["precision"] == pytest.approx(3 / 4)
    assert female["sensitivity"] == pytest.approx(3 / 5)
    assert female["specificity"] == pytest.approx(4 / 5)
    assert female["f1"] == pytest.approx(2 / 3)
    assert metrics["per_class"]["Male"]["support"] == 5
    assert metrics["confusion_matrix"] == {
        "labels": ["Female", "Male"],
        "counts": [[3, 2], [1, 4]],
        "normalised": [[3 / 5, 2 / 5], [1 / 5, 4 / 5]],
    }
    assert metrics["balanced_accuracy"] == pytest.approx((3 / 5 + 4 / 5) / 2)


def test_positive_class_defaults_to_the_last_class():
    metrics = compute_metrics(ten_row_table(), GENDER, {})["gender"]
    assert metrics["positive_class"] == "Male"
    assert metrics["precision"] == pytest.approx(4 / 6)


def test_positive_class_can_be_the_first_class():
    metrics = compute_metrics(ten_row_table(), GENDER, {"gender": "Female"})["gender"]
    assert metrics["positive_class"] == "Female"
    assert metrics["precision"] == pytest.approx(3 / 4)
    assert metrics["sensitivity"] == pytest.approx(3 / 5)
    assert metrics["specificity"] == pytest.approx(4 / 5)


def test_unknown_positive_class_is_an_error():
    with pytest.raises(ValueError, match="Unknown"):
        compute_metrics(ten_row_table(), GENDER, {"gender": "Unknown"})


def test_perfect_separation_has_auc_one():
    table = binary_table(
        ["Male", "Male", "Female", "Female"], ["Male", "Male", "Female", "Female"], male_scores=[0.9, 0.8, 0.3, 0.1]
    )
    roc = compute_metrics(table, GENDER, {})["gender"]["roc"]
    assert roc["auc"] == 1.0
    assert roc["fpr"][0] == 0.0 and roc["tpr"][-1] == 1.0
    assert [0.0, 1.0] in [[fpr, tpr] for fpr, tpr in zip(roc["fpr"], roc["tpr"])]
    assert len(roc["fpr"]) == len(roc["tpr"]) == len(roc["thresholds"])


def test_auc_counts_the_correctly_ordered_pairs():
    # Positives score 0.9, 0.6, 0.4; negatives 0.7, 0.3, 0.2: 7 of the 9
    # (positive, negative) pairs have the positive scored higher.
    table = binary_table(
        ["Male"] * 3 + ["Female"] * 3,
        ["Male", "Male", "Female", "Male", "Female", "Female"],
        male_scores=[0.9, 0.6, 0.4, 0.7, 0.3, 0.2],
    )
    roc = compute_metrics(table, GENDER, {})["gender"]["roc"]
    assert roc["auc"] == pytest.approx(7 / 9)


def test_auc_follows_the_positive_class_score_column():
    table = binary_table(
        ["Male"] * 3 + ["Female"] * 3,
        ["Male", "Male", "Female", "Male", "Female", "Female"],
        male_scores=[0.9, 0.6, 0.4, 0.7, 0.3, 0.2],
    )
    roc = compute_metrics(table, GENDER, {"gender": "Female"})["gender"]["roc"]
    assert roc["auc"] == pytest.approx(7 / 9)


def test_infinite_threshold_is_json_safe():
    metrics = compute_metrics(ten_row_table(), GENDER, {})
    assert metrics["gender"]["roc"]["thresholds"][0] is None
    json.dumps(metrics, allow_nan=False)


def test_one_class_present_gives_no_auc():
    table = binary_table(["Male"] * 3, ["Male", "Female", "Male"])
    metrics = compute_metrics(table, GENDER, {})["gender"]
    assert metrics["roc"] == {"fpr": [], "tpr": [], "thresholds": [], "auc": None}
    assert metrics["specificity"] is None
    json.dumps(metrics, allow_nan=False)


def test_zero_division_is_none_without_warnings():
    table = binary_table(["Male", "Female", "Female"], ["Female", "Female", "Female"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metrics = compute_metrics(table, GENDER, {})["gender"]
    assert metrics["precision"] is None
    assert metrics["sensitivity"] == 0.0
    assert metrics["f1"] == 0.0
    assert metrics["specificity"] == 1.0


def test_three_class_confusion_matrix_cell_by_cell():
    metrics = compute_metrics(three_class_table(), {"shade": ["a", "b", "c"]}, {})["shade"]
    assert metrics["kind"] == "multiclass"
    assert "positive_class" not in metrics
    assert metrics["confusion_matrix"]["labels"] == ["a", "b", "c"]
    counts = metrics["confusion_matrix"]["counts"]
    expected = [[3, 1, 0], [1, 2, 1], [0, 2, 2]]
    for row in range(3):
        for column in range(3):
            assert counts[row][column] == expected[row][column], (row, column)
    assert metrics["accuracy"] == pytest.approx(7 / 12)


def test_three_class_per_class_by_hand():
    per_class = compute_metrics(three_class_table(), {"shade": ["a", "b", "c"]}, {})["shade"]["per_class"]
    # Class b: TP = 2, FP = 1 + 2, FN = 1 + 1, TN = 12 - 2 - 3 - 2 = 5.
    assert per_class["b"]["support"] == 4
    assert per_class["b"]["precision"] == pytest.approx(2 / 5)
    assert per_class["b"]["sensitivity"] == pytest.approx(2 / 4)
    assert per_class["b"]["specificity"] == pytest.approx(5 / 8)
    assert per_class["b"]["f1"] == pytest.approx(4 / 9)


def test_macro_averages_match_sklearn():
    table = three_class_table()
    metrics = compute_metrics(table, {"shade": ["a", "b", "c"]}, {})["shade"]
    true, predicted = table["shade_true"], table["shade_pred"]
    assert metrics["precision"] == pytest.approx(precision_score(true, predicted, average="macro"))
    assert metrics["sensitivity"] == pytest.approx(recall_score(true, predicted, average="macro"))
    assert metrics["f1"] == pytest.approx(f1_score(true, predicted, average="macro"))
    # Specificities: a = 7/8, b = 5/8, c = 7/8.
    assert metrics["specificity"] == pytest.approx((7 / 8 + 5 / 8 + 7 / 8) / 3)


def test_macro_leaves_out_undefined_classes_like_sklearn_nan():
    # Class d is listed but neither present nor predicted: all its scores but
    # specificity are undefined and left out of the averages.
    table = three_class_table()
    labels = ["a", "b", "c", "d"]
    table["shade_score_3"] = 0.0
    metrics = compute_metrics(table, {"shade": labels}, {})["shade"]
    assert metrics["roc"]["per_class"]["d"]["auc"] is None
    assert metrics["per_class"]["d"]["precision"] is None
    true, predicted = table["shade_true"], table["shade_pred"]
    for name, score in [("precision", precision_score), ("sensitivity", recall_score), ("f1", f1_score)]:
        expected = score(true, predicted, labels=labels, average="macro", zero_division=np.nan)
        assert metrics[name] == pytest.approx(expected), name
    assert metrics["specificity"] == pytest.approx((7 / 8 + 5 / 8 + 7 / 8 + 1.0) / 4)


def test_unknown_label_names_target_value_and_row():
    table = ten_row_table()
    table.index = range(100, 110)
    table.loc[103, "gender_pred"] = "Mael"
    with pytest.raises(ValueError, match=r"'gender'.*'Mael'.*gender_pred.*103"):
        compute_metrics(table, GENDER, {})


def test_missing_true_label_is_reported():
    table = ten_row_table()
    table.loc[2, "gender_true"] = None
    with pytest.raises(ValueError, match=r"gender_true.*row 2"):
        compute_metrics(table, GENDER, {})


@pytest.mark.parametrize("column", ["gender_true", "gender_pred", "gender_score_1"])
def test_missing_column_is_named(column):
    with pytest.raises(ValueError, match=column):
        compute_metrics(ten_row_table().drop(columns=column), GENDER, {})


def test_every_target_is_reported_and_json_safe():
    table = pd.concat([ten_row_table(), three_class_table().drop(columns="path").iloc[:10]], axis=1)
    metrics = compute_metrics(table, {**GENDER, "shade": ["a", "b", "c"]}, {})
    assert set(metrics) == {"gender", "shade"}
    json.dumps(metrics, allow_nan=False)


def test_multiclass_roc_is_one_vs_rest_with_macro_auc():
    from sklearn.metrics import roc_auc_score

    table = three_class_table()
    metrics = compute_metrics(table, {"shade": ["a", "b", "c"]}, {})["shade"]
    # Class a: positives score .8 .8 .8 .1, negatives .8 once and .1 seven times:
    # 3 x 7 wins, and 3 x 1 + 1 x 7 ties (half a win each), out of 4 x 8 pairs.
    assert metrics["roc"]["per_class"]["a"]["auc"] == pytest.approx((21 + 0.5 * 10) / 32)
    scores = table[[f"shade_score_{index}" for index in range(3)]].to_numpy()
    expected = roc_auc_score(table["shade_true"], scores, multi_class="ovr", average="macro")
    assert metrics["roc"]["auc"] == pytest.approx(expected)
    assert metrics["balanced_accuracy"] == pytest.approx((3 / 4 + 2 / 4 + 2 / 4) / 3)
    assert metrics["f1_macro"] == metrics["f1"]


def test_regression_target_gets_mae_rmse_bias_and_r2():
    table = pd.DataFrame({"path": ["a", "b", "c", "d"], "age_true": [20, 30, 40, 50], "age_pred": [22, 27, 40, 55]})
    metrics = compute_metrics(table, {"age": "numeric"}, {})["age"]
    # errors +2 -3 0 +5
    assert metrics == pytest.approx(
        {
            "kind": "regression",
            "n": 4,
            "mae": 10 / 4,
            "rmse": (38 / 4) ** 0.5,
            "mean_error": 4 / 4,
            "r2": 1 - (38 / 4) / 125,
        }
    )


def test_regression_value_that_is_not_a_number_is_named():
    table = pd.DataFrame({"path": ["a", "b"], "age_true": [20, "old"], "age_pred": [22, 27]})
    with pytest.raises(ValueError, match="'age_true' at row 1 holds 'old'"):
        compute_metrics(table, {"age": "numeric"}, {})
