"""Known-answer test of the audit: bias injected into the synthetic data must show up with the right sign.

The generator knows the truth, so this is the check no real dataset can give: against group C (fewer examples,
noisier labels, weaker signal) the model is measurably less accurate; with no bias, no gap is distinguishable from 0.
"""

from dataclasses import replace

import pytest
from training_helpers import run_spec

from faceaudit.data.adapters import read_source
from faceaudit.data.arrays import read_split, write_split
from faceaudit.data.manifest import build_manifest
from faceaudit.data.synthetic import generate_synthetic_dataset
from faceaudit.evaluation.fairness import audit_fairness
from faceaudit.evaluation.predictions import predict_eval_set
from faceaudit.evaluation.settings import AuditSettings
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
    return audit_fairness(
        predictions, {"gender": GENDER}, ["group"], {}, settings=AuditSettings(resamples=1000, seed=3)
    )["gender"]["group"]


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


# The statistics of the audit on prediction tables drawn at known error rates: no model, so the truth is exact and
# each family takes about a second. 1,200 rows: groups A, B, C (45%, 35%, 20%), an independent band x/y and their
# intersection, A as the privileged group; 47 comparisons in all, 40 questions (every group is above 30 rows and 10
# positives).
REPETITIONS = 20
DRAWN_SHARES = {"A": 0.45, "B": 0.35, "C": 0.20}
DRAWN_SETTINGS = AuditSettings(min_group_size=30, min_positives=10, multiple_comparisons="holm", resamples=300)


def drawn_predictions(seed: int, n_rows: int = 1200, tpr: dict | None = None, extra_group: int = 0):
    """Predictions with base rate 0.5, FPR 0.15 and TPR 0.85 in every group unless `tpr` says otherwise;
    `extra_group` rows of a group D that the model gets all wrong."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    tpr = dict.fromkeys(DRAWN_SHARES, 0.85) | (tpr or {})
    group = rng.choice(list(DRAWN_SHARES), size=n_rows, p=list(DRAWN_SHARES.values()))
    truth = rng.random(n_rows) < 0.5
    predicted = rng.random(n_rows) < np.where(truth, [tpr[name] for name in group], 0.15)
    group = np.concatenate([group, ["D"] * extra_group])
    truth = np.concatenate([truth, np.arange(extra_group) % 2 == 0])
    predicted = np.concatenate([predicted, ~truth[n_rows:]])
    return pd.DataFrame(
        {
            "path": [f"{index}.jpg" for index in range(len(group))],
            "label_true": np.where(truth, "yes", "no"),
            "label_pred": np.where(predicted, "yes", "no"),
            "group": group,
            "band": rng.choice(["x", "y"], size=len(group)),
        }
    )


def drawn_audit(predictions, seed: int) -> dict:
    return audit_fairness(
        predictions,
        {"label": ["no", "yes"]},
        ["group", "band"],
        {"label": "yes"},
        intersections=[["group", "band"]],
        privileged_groups={"group": "A"},
        settings=replace(DRAWN_SETTINGS, seed=seed),
    )["label"]


def flagged(audit: dict) -> list[tuple]:
    """(attribute, comparison, metric) of every comparison distinguishable from zero after adjustment."""
    from faceaudit.evaluation.multiplicity import comparisons

    found = []
    for attribute, by_attribute in audit.items():
        for holder, metric in comparisons(by_attribute) if attribute != "skipped_attributes" else ():
            verdict = holder["distinguishable_from_zero"]
            if verdict if metric is None else verdict[metric]:
                found.append((attribute, metric))
    return found


def raw_p_values(audit: dict) -> list[float]:
    from faceaudit.evaluation.multiplicity import comparisons

    audited = {attribute: values for attribute, values in audit.items() if attribute != "skipped_attributes"}
    values = [
        holder["p_value"] if metric is None else holder["p_value"][metric] for holder, metric in comparisons(audited)
    ]
    return [value for value in values if value is not None]


def test_without_bias_few_families_flag_anything_after_adjustment():
    """Holm keeps the chance that a family flags anything at 5%: 1 of 20 expected, at most 2 accepted (with 5%,
    3 or more of 20 happen 7.5% of the time); over 600 draws 31 families (5.2%) flagged something. Without
    adjustment most families would flag something."""
    families_with_a_flag, families_with_a_raw_p_below_5_percent = 0, 0
    for seed in range(REPETITIONS):
        audit = drawn_audit(drawn_predictions(seed), seed)
        # 47 tests, 7 of them repeats (A vs privileged = A vs rest; band y vs rest = x vs rest): 40 questions
        assert audit["group"]["multiple_comparisons"]["family_size"] == 40
        families_with_a_flag += bool(flagged(audit))
        families_with_a_raw_p_below_5_percent += min(raw_p_values(audit)) < 0.05
    print(
        f"no bias: {families_with_a_flag} of {REPETITIONS} families flagged a gap after Holm, "
        f"{families_with_a_raw_p_below_5_percent} had a raw p below 0.05"
    )
    assert families_with_a_flag <= 2, f"{families_with_a_flag} of {REPETITIONS} families flagged a gap"
    assert families_with_a_raw_p_below_5_percent >= REPETITIONS / 2, "unadjusted, chance alone shows gaps"


def test_bias_injected_into_one_group_is_flagged_with_the_right_sign():
    """Group C's TPR is 0.65 instead of 0.85: its equal opportunity difference (about -0.2, 120 positives) should be
    flagged negative nearly always, its accuracy against the rest (about -0.1) in about two thirds of the families;
    no gap of C is flagged positive."""
    eod_flagged, accuracy_flagged = 0, 0
    for seed in range(REPETITIONS):
        audit = drawn_audit(drawn_predictions(seed, tpr={"C": 0.65}), seed)["group"]
        against_rest = audit["vs_rest"]["C"]
        if against_rest["distinguishable_from_zero"]["equal_opportunity_difference"]:
            assert against_rest["equal_opportunity_difference"] < 0
            eod_flagged += 1
        accuracy = audit["accuracy_vs_rest"]["C"]
        if accuracy["distinguishable_from_zero"]:
            assert accuracy["difference"] < 0
            accuracy_flagged += 1
    print(
        f"bias in C: equal opportunity flagged in {eod_flagged}, accuracy in {accuracy_flagged} of {REPETITIONS} "
        "families"
    )
    assert eod_flagged >= 16, f"equal opportunity difference of C flagged in {eod_flagged} of {REPETITIONS}"
    # C's 240 rows detect a gap of 0.07 at alpha 0.05 (min_detectable_accuracy_gap), but about 0.11 at Holm's
    # threshold for the smallest of 40 p-values (0.05 / 40): over 200 draws 130 families flagged the gap of 0.1 (and
    # 184 the equal opportunity difference), none with the wrong sign.
    assert accuracy_flagged >= 8, f"accuracy of C against the rest flagged in {accuracy_flagged} of {REPETITIONS}"


def test_a_group_of_12_gets_insufficient_data_and_no_part_in_the_best_worst_gap():
    audit = drawn_audit(drawn_predictions(0, extra_group=12), 0)["group"]
    group_d = audit["groups"]["D"]
    assert group_d["n"] == 12 and group_d["insufficient_data"] is True
    assert group_d["accuracy"] is None, "D is all wrong: accuracy 0 if it were reported"
    assert "12 rows, fewer than min_group_size 30" in group_d["insufficient_reason"]
    assert [excluded["group"] for excluded in audit["excluded_groups"]] == ["D"]
    assert "D" not in (audit["best_group"], audit["worst_group"])
    accuracies = [audit["groups"][name]["accuracy"] for name in DRAWN_SHARES]
    assert audit["accuracy_gap"] == pytest.approx(max(accuracies) - min(accuracies))
    assert audit["vs_rest"]["D"]["four_fifths_rule"] is None
    assert audit["accuracy_vs_rest"]["D"]["distinguishable_from_zero"] is None
