"""Known-answer test of the audit: bias injected into the synthetic data must show up with the right sign.

The generator knows the truth, so this is the check no real dataset can give: against group C (fewer examples,
noisier labels, weaker signal) the model is measurably less accurate; with no bias, no gap is distinguishable from 0.
"""

import pytest
from training_helpers import run_spec

from faceaudit.data.adapters import read_source
from faceaudit.data.arrays import read_split, write_split
from faceaudit.data.manifest import build_manifest
from faceaudit.data.synthetic import generate_synthetic_dataset
from faceaudit.evaluation.fairness import audit_fairness
from faceaudit.evaluation.predictions import predict_eval_set
from faceaudit.training.classifier import train_run

GENDER = ["Female", "Male"]
AGES = ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70"]
# The same skin tone for every group: nothing in the images tells the groups apart, so no gap can arise but by chance.
UNBIASED = [{"name": name, "share": 1.0, "label_noise": 0.0, "skin_tone": 0.5} for name in ("A", "B", "C")]
BIASED = [
    {"name": "A", "share": 0.45, "label_noise": 0.0},
    {"name": "B", "share": 0.45, "label_noise": 0.0},
    {"name": "C", "share": 0.10, "label_noise": 0.25, "signal": 0.3},
]


def audit_of_trained_model(tmp_path, groups: list[dict]) -> dict:
    """Generate, split, preprocess, train small_cnn on gender, predict the test split and audit it."""
    root = tmp_path / "faces"
    generate_synthetic_dataset(
        root, n_images=1800, image_size=32, seed=21, signal=0.6, groups=groups, gender_classes=GENDER, age_classes=AGES
    )
    labels = {"gender": GENDER, "age": AGES, "group": [group["name"] for group in groups]}
    manifest, _ = build_manifest(
        read_source("synthetic", root), root, labels, {"val": 0.15, "test": 0.3, "seed": 0}, 0.0
    )
    splits = {}
    for split in ("train", "val", "test"):
        write_split(manifest, root, split, 16, "gray", tmp_path / f"{split}.npy", tmp_path / f"{split}.csv")
        splits[split] = read_split(tmp_path / f"{split}.npy", tmp_path / f"{split}.csv")
    spec = run_spec("small_cnn", {"gender": GENDER}, epochs=6) | {"run": "known_answer", "seed": 5}
    spec["hyperparameters"] |= {"learning_rate": 0.002, "batch_size": 32}
    spec["training"]["steps"][0]["learning_rate"] = 0.002
    train_run(
        spec,
        splits["train"],
        splits["val"],
        tmp_path / "model.keras",
        tmp_path / "history.csv",
        tmp_path / "run.json",
        tmp_path / "checkpoint",
        threads=2,
    )
    images, rows = splits["test"]
    predictions = predict_eval_set(tmp_path / "model.keras", images, rows, {"gender": GENDER}, ["group"])
    return audit_fairness(predictions, {"gender": GENDER}, ["group"], {}, resamples=1000, seed=3)["gender"]["group"]


def test_injected_bias_shows_up_against_the_right_group(tmp_path):
    audit = audit_of_trained_model(tmp_path, BIASED)
    against_c = audit["accuracy_vs_rest"]["C"]
    assert audit["worst_group"] == "C"
    assert against_c["difference"] < 0
    assert against_c["ci"][1] < 0, f"the interval {against_c['ci']} should exclude 0"
    for name in ("A", "B"):
        assert audit["accuracy_vs_rest"][name]["difference"] > 0


def test_without_bias_the_gaps_are_compatible_with_zero(tmp_path):
    """Each group's accuracy against the rest, and group C's aif360 metrics (the ones the biased run moves).

    Not every one of the 15 intervals: at 95% each, one in twenty excludes 0 by chance, so asserting all of
    them would test luck, not the audit.
    """
    audit = audit_of_trained_model(tmp_path, UNBIASED)
    for name, comparison in audit["accuracy_vs_rest"].items():
        low, high = comparison["ci"]
        assert low <= 0 <= high, f"accuracy of {name} against the rest: {comparison}"
    group_c = audit["vs_rest"]["C"]
    for metric in ("statistical_parity_difference", "equal_opportunity_difference", "average_odds_difference"):
        low, high = group_c["ci"][metric]
        assert low <= 0 <= high, f"{metric} of C: {group_c[metric]} in [{low}, {high}]"
    low, high = group_c["ci"]["disparate_impact"]
    assert low <= 1 <= high, f"disparate impact of C: [{low}, {high}]"
    assert audit["groups"]["A"]["n"] == pytest.approx(audit["groups"]["C"]["n"], rel=0.3)
