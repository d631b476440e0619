"""Post-processing on saved scores: each method gives what the library called directly on the same scores gives,
equalized-odds post-processing closes an injected equal-opportunity gap, and no method opens a gap on fair scores."""

import numpy as np
import pandas as pd
import pytest
from fairlearn.postprocessing import ThresholdOptimizer

from faceaudit.postprocessing import apply_post_processor, derived_run_info, fit_post_processor
from faceaudit.postprocessing.methods import SavedScore

CLASSES = ["Female", "Male"]


def drawn_predictions(seed: int, rows: int = 800, bias_against_b: float = 0.0) -> pd.DataFrame:
    """A predictions file's columns (target gender, positive class Male; attribute group, A privileged) with scores
    sigmoid(1.5 (2y - 1) + noise - bias if in B): with a bias, B's positives score lower, and a 0.5 threshold
    misses more of them (a lower true positive rate: an equal-opportunity gap against B)."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["A", "B"], size=rows, p=[0.6, 0.4])
    truth = rng.random(rows) < 0.5
    logit = 1.5 * np.where(truth, 1.0, -1.0) + rng.normal(0, 1, rows) - bias_against_b * (group == "B")
    score = 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "path": [f"{index}.jpg" for index in range(rows)],
            "gender_true": np.where(truth, "Male", "Female"),
            "gender_pred": np.where(score >= 0.5, "Male", "Female"),
            "gender_score_0": 1 - score,
            "gender_score_1": score,
            "group": group,
        }
    )


def setting(method: str, constraint: str) -> dict:
    """A derived run's `post_processing` spec (study.derived.derived_spec) for the drawn tables."""
    options = {
        "threshold_optimizer": {"objective": "accuracy_score"},
        "reject_option": {"thresholds": 20, "margins": 10, "bound": 0.05},
    }.get(method, {})
    return {
        "method": method,
        "constraint": constraint,
        "attribute": "group",
        "target": "gender",
        "source_run": "exp",
        "positive_class": "Male",
        "privileged_group": "A",
        "output": "scores" if method == "calibrated_eq_odds" else "decisions",
        "seed": 7,
        "options": options,
    }


def post_processed(method: str, constraint: str, val: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    return apply_post_processor(fit_post_processor(val, setting(method, constraint), CLASSES), test, "test")


def true_positive_rate_gap(predictions: pd.DataFrame) -> float:
    positives = predictions[predictions["gender_true"] == "Male"]
    rates = (positives["gender_pred"] == "Male").groupby(positives["group"]).mean()
    return float(rates["A"] - rates["B"])


ALL_METHODS = [
    ("threshold_optimizer", "demographic_parity"),
    ("threshold_optimizer", "equalized_odds"),
    ("threshold_optimizer", "true_positive_rate_parity"),
    ("eq_odds", "equalized_odds"),
    ("calibrated_eq_odds", "weighted"),
    ("reject_option", "statistical_parity"),
]


@pytest.mark.parametrize("constraint", ["demographic_parity", "equalized_odds", "true_positive_rate_parity"])
def test_threshold_optimizer_decides_as_fairlearn_does_on_the_same_scores(constraint):
    val, test = drawn_predictions(1, bias_against_b=1.0), drawn_predictions(2, bias_against_b=1.0)
    direct = ThresholdOptimizer(estimator=SavedScore(), constraints=constraint, prefit=True, predict_method="predict")
    direct.fit(val[["gender_score_1"]].to_numpy(), val["gender_true"] == "Male", sensitive_features=val["group"])
    expected = direct.predict(test[["gender_score_1"]].to_numpy(), sensitive_features=test["group"], random_state=7)

    adjusted = post_processed("threshold_optimizer", constraint, val, test)

    np.testing.assert_array_equal(adjusted["gender_pred"] == "Male", expected == 1)
    np.testing.assert_array_equal(adjusted["gender_score_1"], expected)  # the decision is the score
    np.testing.assert_array_equal(adjusted["gender_score_0"], 1 - expected)


def aif360_direct(method: str, constraint: str):
    """The aif360 method as its documentation builds it, privileged group A coded 1."""
    from aif360.algorithms.postprocessing import (
        CalibratedEqOddsPostprocessing,
        EqOddsPostprocessing,
        RejectOptionClassification,
    )

    groups = {"unprivileged_groups": [{"group": 0}], "privileged_groups": [{"group": 1}]}
    if method == "eq_odds":
        return EqOddsPostprocessing(**groups, seed=7)
    if method == "calibrated_eq_odds":
        return CalibratedEqOddsPostprocessing(**groups, cost_constraint=constraint, seed=7)
    return RejectOptionClassification(
        **groups,
        num_class_thresh=20,
        num_ROC_margin=10,
        metric_name="Equal opportunity difference",
        metric_ub=0.05,
        metric_lb=-0.05,
    )


def aif360_table(table: pd.DataFrame, labels: pd.Series):
    from aif360.datasets import BinaryLabelDataset

    frame = pd.DataFrame(
        {"group": (table["group"] == "A").astype(int), "label": labels.astype(int), "score": table["gender_score_1"]}
    )
    return BinaryLabelDataset(
        df=frame, label_names=["label"], protected_attribute_names=["group"], scores_names=["score"]
    )


@pytest.mark.parametrize(
    ("method", "constraint"),
    [("eq_odds", "equalized_odds"), ("calibrated_eq_odds", "fnr"), ("reject_option", "equal_opportunity")],
)
def test_aif360_methods_decide_as_aif360_does_on_the_same_scores(method, constraint):
    val, test = drawn_predictions(3, bias_against_b=1.0), drawn_predictions(4, bias_against_b=1.0)
    direct = aif360_direct(method, constraint)
    direct.fit(aif360_table(val, val["gender_true"] == "Male"), aif360_table(val, val["gender_pred"] == "Male"))
    expected = direct.predict(aif360_table(test, test["gender_pred"] == "Male"))

    adjusted = post_processed(method, constraint, val, test)

    np.testing.assert_array_equal(adjusted["gender_pred"] == "Male", expected.labels.ravel() == 1)
    expected_scores = expected.scores.ravel() if method == "calibrated_eq_odds" else expected.labels.ravel()
    np.testing.assert_allclose(adjusted["gender_score_1"], expected_scores)
    assert adjusted.drop(columns=["gender_pred", "gender_score_0", "gender_score_1"]).equals(
        test.drop(columns=["gender_pred", "gender_score_0", "gender_score_1"])
    ), "only the post-processed target's predictions change"


@pytest.mark.parametrize("method", ["threshold_optimizer", "eq_odds"])
def test_equalized_odds_post_processing_closes_an_injected_equal_opportunity_gap(method):
    """Known answer: B's true positive rate is far below A's (bias 1.5 on the logit, about 0.35); fitted on one
    draw and applied to others, equalized odds brings the gap within noise (SE of a TPR gap here about 0.05)."""
    val = drawn_predictions(10, rows=2000, bias_against_b=1.5)
    before, after = [], []
    for seed in (11, 12, 13):
        test = drawn_predictions(seed, rows=2000, bias_against_b=1.5)
        before.append(true_positive_rate_gap(test))
        after.append(true_positive_rate_gap(post_processed(method, "equalized_odds", val, test)))
    assert min(before) > 0.25
    assert abs(np.mean(after)) < 0.06, after


@pytest.mark.parametrize(("method", "constraint"), ALL_METHODS)
def test_no_method_opens_a_gap_on_scores_without_bias(method, constraint):
    """On fair scores every group's true positive rate stays equal within noise (4 standard errors of the gap)."""
    val, test = drawn_predictions(20, rows=2000), drawn_predictions(21, rows=2000)
    adjusted = post_processed(method, constraint, val, test)
    positives = adjusted[adjusted["gender_true"] == "Male"]
    rate = (positives["gender_pred"] == "Male").mean()
    counts = positives["group"].value_counts()
    standard_error = np.sqrt(rate * (1 - rate) * (1 / counts["A"] + 1 / counts["B"]))
    assert abs(true_positive_rate_gap(adjusted)) < 4 * standard_error


def test_a_group_the_thresholds_were_not_fitted_on_is_refused_naming_the_eval_set():
    val, test = drawn_predictions(5), drawn_predictions(6)
    test.loc[:9, "group"] = "C"
    processor = fit_post_processor(val, setting("threshold_optimizer", "equalized_odds"), CLASSES)
    with pytest.raises(ValueError, match=r"eval set 'other-test': groups \['C'\] of 'group'"):
        apply_post_processor(processor, test, "other-test")


def test_an_aif360_method_needs_both_the_privileged_group_and_the_rest_in_val():
    val = drawn_predictions(5)
    val["group"] = "B"
    with pytest.raises(ValueError, match="privileged group 'A' of 'group'.*none of it"):
        fit_post_processor(val, setting("eq_odds", "equalized_odds"), CLASSES)


def test_the_derived_run_info_is_the_source_models_with_what_was_fitted():
    processor = fit_post_processor(drawn_predictions(5), setting("calibrated_eq_odds", "weighted"), CLASSES)
    source = {"run": "exp", "parameters": 1234, "epochs_completed": 3, "training_seconds": 9.5}
    info = derived_run_info(source, "exp__post_calibrated_eq_odds", processor, val_rows=800, seconds=0.2)
    assert info["run"] == "exp__post_calibrated_eq_odds" and info["parameters"] == 1234
    assert info["origin"] == "post_processing" and info["source_run"] == "exp"
    post_processing = info["post_processing"]
    assert post_processing["output"] == "scores" and post_processing["fitted_on"]["rows"] == 800
    assert set(post_processing["fitted"]) == {"priv_mix_rate", "unpriv_mix_rate", "base_rate_priv", "base_rate_unpriv"}
