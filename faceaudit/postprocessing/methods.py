"""Post-processing on saved scores: fairlearn's ThresholdOptimizer and aif360's EqOddsPostprocessing,
CalibratedEqOddsPostprocessing and RejectOptionClassification, fitted on a run's validation predictions and applied
to its other eval sets. Each works on one binary target's positive-class score and one sensitive attribute; the
aif360 methods compare the attribute's privileged group with all other rows."""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from faceaudit.aif360_data import PRIVILEGED, UNPRIVILEGED, binary_label_dataset
from faceaudit.quiet_import import quiet_import

# What each method does when it decides, and so what a deployed model would need besides the image.
DECISION_TIME = {
    "threshold_optimizer": "a threshold of its own per group, randomised between two thresholds: needs each "
    "person's group and a random draw at prediction time",
    "eq_odds": "flips decisions at random with per-group probabilities: needs each person's group and a random draw "
    "at prediction time",
    "calibrated_eq_odds": "replaces a random share of a group's scores with the group's base rate: needs each "
    "person's group and a random draw at prediction time",
    "reject_option": "near the decision threshold, gives the unprivileged groups the favourable decision and the "
    "privileged group the other: needs each person's group at prediction time (no randomness)",
}
REJECT_OPTION_METRICS = {
    "statistical_parity": "Statistical parity difference",
    "average_odds": "Average odds difference",
    "equal_opportunity": "Equal opportunity difference",
}


class SavedScore(ClassifierMixin, BaseEstimator):
    """A fitted "estimator" whose prediction is its input's single column: the saved score, so that fairlearn can
    post-process a model it never sees."""

    def fit(self, X, y=None):  # noqa: N803 (scikit-learn's argument names)
        return self

    def predict(self, X):  # noqa: N803
        return np.asarray(X, dtype="float64")[:, 0]

    def __sklearn_is_fitted__(self):
        return True


@dataclass
class PostProcessor:
    """A fitted method and what it needs to read and write a predictions table (the spec's `post_processing`)."""

    setting: dict  # method, constraint, attribute, target, positive_class, privileged_group, output, seed, options
    classes: list[str]  # the target's two classes
    model: Any  # the library's fitted object
    groups: list[str]  # the attribute's groups seen in the validation predictions


def positive_scores(predictions: pd.DataFrame, target: str, classes: list[str], positive_class: str) -> np.ndarray:
    return predictions[f"{target}_score_{classes.index(positive_class)}"].to_numpy(dtype="float64")


def is_positive(values: pd.Series, positive_class: str) -> np.ndarray:
    return (values.astype(str) == str(positive_class)).to_numpy()


def fit_post_processor(val_predictions: pd.DataFrame, setting: dict, classes: list[str]) -> PostProcessor:
    """Fit the method of `setting` (a derived run's `post_processing`) on the source run's validation predictions."""
    target, positive = setting["target"], setting["positive_class"]
    groups = val_predictions[setting["attribute"]].astype(str)
    labels = is_positive(val_predictions[f"{target}_true"], positive).astype(int)
    scores = positive_scores(val_predictions, target, classes, positive)
    if setting["method"] == "threshold_optimizer":
        model = fit_threshold_optimizer(scores, labels, groups, setting)
    else:
        decisions = is_positive(val_predictions[f"{target}_pred"], positive).astype(int)
        privileged = (groups == str(setting["privileged_group"])).to_numpy()
        model = fit_aif360(setting, labels, scores, decisions, privileged)
    return PostProcessor(setting, list(classes), model, sorted(groups.unique()))


def fit_threshold_optimizer(scores: np.ndarray, labels: np.ndarray, groups: pd.Series, setting: dict):
    from fairlearn.postprocessing import ThresholdOptimizer

    optimizer = ThresholdOptimizer(
        estimator=SavedScore(),
        constraints=setting["constraint"],
        objective=setting["options"]["objective"],
        prefit=True,
        predict_method="predict",
    )
    return optimizer.fit(score_matrix(scores), labels, sensitive_features=groups.to_numpy())


def score_matrix(scores: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"score": scores})


def make_aif360_method(setting: dict):
    with quiet_import():
        from aif360.algorithms.postprocessing import (
            CalibratedEqOddsPostprocessing,
            EqOddsPostprocessing,
            RejectOptionClassification,
        )

    groups = {"unprivileged_groups": UNPRIVILEGED, "privileged_groups": PRIVILEGED}
    method, options = setting["method"], setting["options"]
    if method == "eq_odds":
        return EqOddsPostprocessing(**groups, seed=setting["seed"])
    if method == "calibrated_eq_odds":
        return CalibratedEqOddsPostprocessing(**groups, cost_constraint=setting["constraint"], seed=setting["seed"])
    return RejectOptionClassification(
        **groups,
        num_class_thresh=options["thresholds"],
        num_ROC_margin=options["margins"],
        metric_name=REJECT_OPTION_METRICS[setting["constraint"]],
        metric_ub=options["bound"],
        metric_lb=-options["bound"],
    )


def fit_aif360(setting: dict, labels: np.ndarray, scores: np.ndarray, decisions: np.ndarray, privileged: np.ndarray):
    if privileged.all() or not privileged.any():
        raise ValueError(
            f"{setting['method']} compares the privileged group '{setting['privileged_group']}' of "
            f"'{setting['attribute']}' with the rest, and the validation predictions hold "
            + ("only that group" if privileged.all() else "none of it")
        )
    method = make_aif360_method(setting)
    with quiet_import():
        return method.fit(
            binary_label_dataset(labels, privileged, scores), binary_label_dataset(decisions, privileged, scores)
        )


def apply_post_processor(processor: PostProcessor, predictions: pd.DataFrame, eval_set: str = "") -> pd.DataFrame:
    """The predictions table with the target's predicted class and class scores replaced by the method's: adjusted
    scores where it gives scores (calibrated_eq_odds), else its 0/1 decision as the positive class's score."""
    setting = processor.setting
    target, positive, classes = setting["target"], setting["positive_class"], processor.classes
    groups = predictions[setting["attribute"]].astype(str)
    check_groups_seen(processor, groups, eval_set)
    scores = positive_scores(predictions, target, classes, positive)
    if setting["method"] == "threshold_optimizer":
        decisions = processor.model.predict(
            score_matrix(scores), sensitive_features=groups.to_numpy(), random_state=setting["seed"]
        )
        new_scores = np.asarray(decisions, dtype="float64")
    else:
        new_scores, decisions = predict_aif360(processor, predictions, scores, groups)
    negative = classes[1 - classes.index(positive)]
    adjusted = predictions.copy()
    adjusted[f"{target}_pred"] = np.where(np.asarray(decisions) == 1, positive, negative)
    adjusted[f"{target}_score_{classes.index(positive)}"] = new_scores
    adjusted[f"{target}_score_{classes.index(negative)}"] = 1.0 - new_scores
    return adjusted


def predict_aif360(processor: PostProcessor, predictions: pd.DataFrame, scores: np.ndarray, groups: pd.Series):
    """(positive-class scores, 0/1 decisions) of an aif360 method: its scores where it adjusts them, else the
    decisions as scores."""
    setting = processor.setting
    decisions = is_positive(predictions[f"{setting['target']}_pred"], setting["positive_class"]).astype(int)
    privileged = (groups == str(setting["privileged_group"])).to_numpy()
    with quiet_import():
        adjusted = processor.model.predict(binary_label_dataset(decisions, privileged, scores))
    new_decisions = adjusted.labels.ravel().astype(int)
    if setting["output"] == "scores":
        return adjusted.scores.ravel().astype("float64"), new_decisions
    return new_decisions.astype("float64"), new_decisions


def check_groups_seen(processor: PostProcessor, groups: pd.Series, eval_set: str) -> None:
    """fairlearn gives a group it did not see in fitting a threshold of "never positive", silently: refuse instead."""
    if processor.setting["method"] != "threshold_optimizer":
        return  # the aif360 methods split rows into the privileged group and the rest, which covers every group
    unseen = sorted(set(groups) - set(processor.groups))
    if unseen:
        raise ValueError(
            f"eval set '{eval_set}': groups {unseen} of '{processor.setting['attribute']}' are not in the validation "
            f"predictions the thresholds were fitted on (groups {processor.groups}); each group needs its own threshold"
        )


def fitted_parameters(processor: PostProcessor) -> dict:
    """What the fitted method decided, in plain values for run.json."""
    model, method = processor.model, processor.setting["method"]
    if method == "threshold_optimizer":
        return {
            str(group): {
                "p0": float(rule.p0),
                "operation0": repr(rule.operation0),
                "p1": float(rule.p1),
                "operation1": repr(rule.operation1),
            }
            for group, rule in model.interpolated_thresholder_.interpolation_dict.items()
        }
    if method == "eq_odds":
        # The probabilities of flipping a decision: privileged positive/negative to positive, then the others'.
        keys = ("privileged_positive_to_positive", "privileged_negative_to_positive")
        keys += ("unprivileged_positive_to_positive", "unprivileged_negative_to_positive")
        return {key: float(value) for key, value in zip(keys, model.model_params.x, strict=True)}
    if method == "calibrated_eq_odds":
        keys = ("priv_mix_rate", "unpriv_mix_rate", "base_rate_priv", "base_rate_unpriv")
        return {key: float(getattr(model, key)) for key in keys}
    return {"classification_threshold": float(model.classification_threshold), "margin": float(model.ROC_margin)}


def derived_run_info(source_info: dict, name: str, processor: PostProcessor, val_rows: int, seconds: float) -> dict:
    """run.json of a derived run: the source run's (the model is the source's: its parameters, training time and
    architecture) under the derived run's name, with where its predictions come from and what was fitted."""
    return {
        **source_info,
        "run": name,
        "origin": "post_processing",
        "source_run": processor.setting["source_run"],
        "post_processing": {
            **processor.setting,
            "fitted_on": {"eval_set": "val", "rows": val_rows, "groups": processor.groups},
            "fitted": fitted_parameters(processor),
            "fit_seconds": seconds,
        },
    }
