"""Calibration per group against known answers: scores drawn with a known miscalibration give the ECE and Brier score
worked out analytically, calibrated scores an ECE that shrinks with n; the figures are real PNGs."""

import copy
import json

import numpy as np
import pandas as pd
import pytest
from conftest import SCHEMA
from PIL import Image

from faceaudit.evaluation.calibration import SKIPPED_DECISIONS, SKIPPED_NUMERIC_TARGET, audit_calibration
from faceaudit.evaluation.calibration_plots import plot_calibration
from faceaudit.evaluation.fairness import SKIPPED_TARGET_ITSELF
from faceaudit.evaluation.settings import AuditSettings
from faceaudit.evaluation.thresholds import audit_thresholds
from faceaudit.study.validation import ConfigError, validate_config

GENDER = {"gender": ["Female", "Male"]}
POSITIVE = {"gender": "Male"}


def binary_table(true_probability, score, groups=None, seed=0) -> pd.DataFrame:
    """A predictions table whose true class is Male with probability `true_probability` and whose model scores
    Male with `score`."""
    rng = np.random.default_rng(seed)
    male = rng.uniform(size=len(score)) < true_probability
    return pd.DataFrame(
        {
            "path": [f"{index}.jpg" for index in range(len(score))],
            "gender_true": np.where(male, "Male", "Female"),
            "gender_pred": np.where(score > 0.5, "Male", "Female"),
            "gender_score_0": 1 - score,
            "gender_score_1": score,
            "group": groups if groups is not None else np.full(len(score), "A"),
        }
    )


def overall(table, bins=10, resamples=0, **kwargs) -> dict:
    return audit_calibration(
        table, GENDER, [], POSITIVE, **kwargs, settings=AuditSettings(calibration_bins=bins, resamples=resamples)
    )["gender"]["overall"]


def test_square_root_scores_have_the_analytic_ece_and_brier():
    """p ~ U(0, 1), score sqrt(p): score - p >= 0 everywhere, so every binning's ECE is E[sqrt(p) - p] = 1/6;
    Brier E[(sqrt(p) - y)^2] = E[p] - 2 E[p^1.5] + E[p] = 1/2 - 4/5 + 1/2 = 1/5."""
    p = np.random.default_rng(1).uniform(size=200_000)
    result = overall(binary_table(p, np.sqrt(p)))
    assert result["ece_equal_width"] == pytest.approx(1 / 6, abs=0.005)
    assert result["ece_equal_mass"] == pytest.approx(1 / 6, abs=0.005)
    assert result["brier"] == pytest.approx(1 / 5, abs=0.005)
    assert result["mean_confidence"] == pytest.approx(2 / 3, abs=0.005)
    assert result["observed_rate"] == pytest.approx(1 / 2, abs=0.005)


def test_calibrated_scores_have_an_ece_that_shrinks_with_n():
    """With score = p the ECE is sampling noise only, about 0.4 * sqrt(bins / n): below sqrt(bins / n)."""
    eces = []
    for n in (1_000, 10_000, 100_000):
        p = np.random.default_rng(n).uniform(size=n)
        result = overall(binary_table(p, p, seed=n + 1))
        for binning in ("equal_width", "equal_mass"):
            assert result[f"ece_{binning}"] < np.sqrt(10 / n), (n, binning)
        eces.append(result["ece_equal_width"])
    assert eces[0] > eces[1] > eces[2]


def test_equal_mass_bins_resolve_what_one_equal_width_bin_hides():
    """Scores all in [0, 0.1) with true probability 0.1 - score: over- and under-confidence cancel in the one
    equal-width bin (ECE ~ 0), while ten equal-mass bins of width 0.01 see |2 * centre - 0.1| each, mean 0.05."""
    score = np.random.default_rng(2).uniform(0, 0.1, size=100_000)
    result = overall(binary_table(0.1 - score, score))
    assert result["reliability"]["count"][0] == 100_000
    assert result["ece_equal_width"] < 0.005
    assert result["ece_equal_mass"] == pytest.approx(0.05, abs=0.005)


def test_a_miscalibrated_group_is_found_with_a_gap_interval_that_excludes_zero():
    """Group A's scores overstate p by 0.1 (ECE 0.1), group B's are calibrated (ECE ~ 0)."""
    rng = np.random.default_rng(3)
    n = 20_000
    p = rng.uniform(0, 0.9, size=n)
    groups = np.where(np.arange(n) % 2 == 0, "A", "B")
    table = binary_table(p, np.where(groups == "A", p + 0.1, p), groups)
    audit = audit_calibration(table, GENDER, ["group"], POSITIVE, settings=AuditSettings(resamples=200))["gender"][
        "attributes"
    ]["group"]
    assert audit["groups"]["A"]["ece_equal_width"] == pytest.approx(0.1, abs=0.01)
    assert audit["groups"]["B"]["ece_equal_width"] < np.sqrt(10 / (n / 2))
    for binning in ("equal_width", "equal_mass"):
        gap = audit["ece_gap"][binning]
        assert (gap["worst_group"], gap["best_group"]) == ("A", "B")
        assert gap["gap"] == pytest.approx(0.1, abs=0.02)
        assert gap["ci"][0] > 0.05 and gap["ci"][0] <= gap["gap"] <= gap["ci"][1]
    low, high = audit["groups"]["A"]["ece_equal_width_ci"]
    assert low < 0.1 < high


def test_multiclass_targets_calibrate_the_top_label():
    """Three classes; the top class is right with probability t ~ U(0.4, 0.8) and scored t + 0.1: top-label ECE 0.1."""
    rng = np.random.default_rng(4)
    n = 100_000
    t = rng.uniform(0.4, 0.8, size=n)
    top = rng.integers(0, 3, size=n)
    scores = np.repeat(((0.9 - t) / 2)[:, None], 3, axis=1)
    scores[np.arange(n), top] = t + 0.1
    right = rng.uniform(size=n) < t
    other = (top + rng.integers(1, 3, size=n)) % 3
    true = np.where(right, top, other)
    classes = ["young", "middle", "old"]
    table = pd.DataFrame(
        {
            "path": [f"{index}.jpg" for index in range(n)],
            "age_true": np.asarray(classes)[true],
            "age_pred": np.asarray(classes)[top],
            **{f"age_score_{k}": scores[:, k] for k in range(3)},
        }
    )
    result = audit_calibration(table, {"age": classes}, [], {}, settings=AuditSettings(resamples=0))["age"]
    assert result["kind"] == "multiclass"
    assert result["overall"]["ece_equal_width"] == pytest.approx(0.1, abs=0.005)
    assert result["overall"]["ece_equal_mass"] == pytest.approx(0.1, abs=0.005)
    # Top-label Brier: E[(t + 0.1 - right)^2] = E[t] - 2 E[t (t + 0.1)] + E[(t + 0.1)^2] = E[t] - E[t^2] + 0.01.
    expected_brier = 0.6 - (0.6**2 + 0.4**2 / 12) + 0.01
    assert result["overall"]["brier"] == pytest.approx(expected_brier, abs=0.005)


def test_hand_computed_reliability_diagram_with_two_bins():
    """Scores 0.2, 0.2, 0.8, 0.8 with outcomes 0, 1, 1, 1: bins [0, 0.5) and [0.5, 1] hold two rows each, observed
    rates 1/2 and 1; ECE (2 * 0.3 + 2 * 0.2) / 4 = 0.25; Brier (0.04 + 0.64 + 0.04 + 0.04) / 4 = 0.19."""
    score = np.array([0.2, 0.2, 0.8, 0.8])
    table = binary_table(np.array([0.0, 1.0, 1.0, 1.0]), score)
    result = overall(table, bins=2, resamples=50)
    assert result["ece_equal_width"] == pytest.approx(0.25)
    assert result["ece_equal_mass"] == pytest.approx(0.25)
    assert result["brier"] == pytest.approx(0.19)
    reliability = result["reliability"]
    assert reliability["bin_edges"] == [0.0, 0.5, 1.0]
    assert reliability["count"] == [2, 2]
    assert reliability["confidence"] == pytest.approx([0.2, 0.8])
    assert reliability["frequency"] == pytest.approx([0.5, 1.0])
    for frequency, (low, high) in zip(reliability["frequency"], reliability["frequency_ci"]):
        assert 0 <= low <= frequency <= high <= 1


def test_empty_bins_are_none_and_every_value_is_plain_json():
    table = binary_table(np.array([0.0, 1.0, 1.0]), np.array([0.05, 0.95, 1.0]))
    result = audit_calibration(
        table, GENDER, ["group"], POSITIVE, settings=AuditSettings(calibration_bins=10, resamples=20)
    )
    reliability = result["gender"]["overall"]["reliability"]
    assert reliability["count"] == [1, 0, 0, 0, 0, 0, 0, 0, 0, 2]  # a score of exactly 1 is in the last bin
    assert reliability["frequency"][1] is None and reliability["frequency_ci"][1] is None
    assert json.loads(json.dumps(result)) == result


def test_the_target_itself_and_numeric_targets_are_skipped_with_the_reason():
    table = binary_table(np.array([0.0, 1.0]), np.array([0.3, 0.7]))
    table["gender"] = table["gender_true"]
    table["age_years_true"], table["age_years_pred"] = [20.0, 30.0], [22.0, 28.0]
    audit = audit_calibration(
        table,
        {**GENDER, "age_years": "numeric"},
        ["group", "gender"],
        POSITIVE,
        [["gender", "group"]],
        settings=AuditSettings(resamples=0),
    )
    assert list(audit["gender"]["attributes"]) == ["group"]
    assert audit["gender"]["skipped_attributes"] == {
        "gender": SKIPPED_TARGET_ITSELF,
        "gender+group": SKIPPED_TARGET_ITSELF,
    }
    assert audit["age_years"] == {"kind": "regression", "skipped": SKIPPED_NUMERIC_TARGET}


def test_a_positive_class_listed_first_is_the_score_calibrated():
    """Female positive: its score (score_0) against whether the truth is Female."""
    table = binary_table(np.array([0.0, 1.0, 1.0, 1.0]), np.array([0.2, 0.2, 0.8, 0.8]))
    result = audit_calibration(
        table, GENDER, [], {"gender": "Female"}, settings=AuditSettings(calibration_bins=2, resamples=0)
    )["gender"]
    assert result["positive_class"] == "Female"
    assert result["overall"]["reliability"]["confidence"] == pytest.approx([0.2, 0.8])
    assert result["overall"]["reliability"]["frequency"] == pytest.approx([0.0, 0.5])


@pytest.mark.parametrize("bad", [1.5, -0.1, np.nan])
def test_a_score_outside_zero_to_one_is_refused_naming_column_and_row(bad):
    table = binary_table(np.array([0.0, 1.0, 1.0]), np.array([0.3, 0.7, 0.9]))
    table.loc[2, "gender_score_1"] = bad
    with pytest.raises(ValueError, match=r"'gender_score_1' at row 2 .*from 0 to 1"):
        audit_calibration(table, GENDER, [], POSITIVE, settings=AuditSettings(resamples=0))


def figure_table() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 300
    p = rng.uniform(size=n)
    table = binary_table(p, p, groups=rng.choice(["A", "B"], size=n))
    table["race"] = rng.choice(["x", "y", "z"], size=n)
    age = rng.dirichlet(np.ones(3), size=n)
    table["age_true"] = rng.choice(["young", "middle", "old"], size=n)
    table["age_pred"] = np.asarray(["young", "middle", "old"])[age.argmax(axis=1)]
    for k in range(3):
        table[f"age_score_{k}"] = age[:, k]
    return table


def test_one_reliability_figure_per_target_and_attribute_and_one_threshold_figure_per_binary_target(tmp_path):
    """gender (binary) and age (3 classes) by group, race and group+race: 6 reliability diagrams, 3 threshold plots."""
    table = figure_table()
    targets = {**GENDER, "age": ["young", "middle", "old"]}
    groups = {
        "sensitive_attributes": ["group", "race"],
        "positive_classes": POSITIVE,
        "intersections": [["group", "race"]],
    }
    calibration = audit_calibration(table, targets, **groups, settings=AuditSettings(resamples=50))
    thresholds = audit_thresholds(table, targets, **groups)
    written = plot_calibration(calibration, thresholds, tmp_path / "figures")
    names = sorted(path.name for path in (tmp_path / "figures").iterdir())
    assert sorted(path.name for path in written) == names
    assert names == sorted(
        [f"reliability_{target}_{attribute}.png" for target in targets for attribute in ("group", "race", "group+race")]
        + [f"thresholds_gender_{attribute}.png" for attribute in ("group", "race", "group+race")]
    )
    for name in names:
        with Image.open(tmp_path / "figures" / name) as image:
            image.verify()
            assert image.format == "PNG"
        with Image.open(tmp_path / "figures" / name) as image:
            assert image.size[0] > 300 and image.size[1] > 200


STUDY = {
    "datasets": {"faces": {"layout": "synthetic", "labels": {"gender": ["Female", "Male"]}}},
    "experiments": {"gender_mlp": {"dataset": "faces", "targets": ["gender"], "model": "mlp"}},
}


def test_calibration_bins_default_to_ten_and_are_bounded_by_the_schema():
    config = copy.deepcopy(STUDY)
    validate_config(config, SCHEMA)
    assert config["audit"]["calibration_bins"] == 10
    for bins in (1, 51, 2.5):
        with pytest.raises(ConfigError, match="calibration_bins"):
            validate_config({**copy.deepcopy(STUDY), "audit": {"calibration_bins": bins}}, SCHEMA)
    validate_config({**copy.deepcopy(STUDY), "audit": {"calibration_bins": 50}}, SCHEMA)


def test_decisions_of_zero_and_one_are_not_calibrated_nor_thresholded_and_say_why():
    """Issue 21: a post-processed run that outputs decisions showed an ECE of 0.17 (its error rate, restated)."""
    decisions = (np.random.default_rng(3).uniform(size=400) < 0.5).astype(float)
    table = binary_table(0.5, decisions, groups=np.repeat(["A", "B"], 200))
    calibration = audit_calibration(table, GENDER, ["group"], POSITIVE, settings=AuditSettings(resamples=0))
    thresholds = audit_thresholds(table, GENDER, ["group"], POSITIVE)

    assert calibration["gender"] == {"kind": "binary", "skipped": SKIPPED_DECISIONS}
    assert "decisions already" in thresholds["gender"]["skipped"]
    scores = binary_table(0.5, np.clip(decisions, 0.01, 0.99), groups=np.repeat(["A", "B"], 200))
    assert (
        "overall"
        in audit_calibration(scores, GENDER, ["group"], POSITIVE, settings=AuditSettings(resamples=0))["gender"]
    )
