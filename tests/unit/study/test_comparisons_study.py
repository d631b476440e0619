"""Which configuration is compared with which baseline (faceaudit.study.comparisons), on the shipped studies and on
studies built here for each way a baseline is found."""

import copy

import pytest
import yaml
from conftest import REPO, TINY_STUDY, validated_study

from faceaudit import study
from faceaudit.study.comparisons import HOW


def comparisons_of(config: dict) -> dict:
    config = validated_study(config)
    runs = study.classifier_runs(study.expand_runs(config))
    return study.study_comparisons(config, runs | study.derived_runs(config, runs))


def test_the_default_study_compares_its_named_pair_seed_against_seed_and_its_post_processing_run_by_run():
    comparisons = comparisons_of(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))

    weighted = comparisons["gender_cnn_group_weighted"]
    assert weighted["baseline"] == "gender_small_cnn" and weighted["how"] == HOW["named"]
    assert weighted["baseline_runs"] == [f"gender_small_cnn__seed{seed}" for seed in range(3)]
    assert not weighted["paired"]
    post = comparisons["gender_mlp__post_threshold_optimizer_equalized_odds"]
    assert post["baseline"] == "gender_mlp" and post["paired"] and post["how"] == HOW["post-processed"]
    assert set(comparisons) == {"gender_cnn_group_weighted", "gender_mlp__post_threshold_optimizer_equalized_odds"}


def test_post_processed_seeds_are_paired_with_the_seed_each_was_made_from():
    comparison = comparisons_of(TINY_STUDY)["gender_seeds__post_threshold_optimizer_equalized_odds"]

    assert comparison["paired"] and comparison["eval_sets"] == ["test"]
    for derived, source in zip(comparison["runs"], comparison["baseline_runs"], strict=True):
        assert derived.startswith(source + "__post_")


def test_mitigation_is_compared_with_the_same_settings_without_it_whatever_the_experiment_is_called():
    comparisons = comparisons_of(TINY_STUDY)

    for method in ("group_dro", "adversarial", "mmd"):
        comparison = comparisons[f"gender_mitigation__mit{method}"]
        assert comparison["baseline"] == "gender_seeds" and comparison["how"] == HOW["same settings"]
    assert "age_regression" not in comparisons, "no experiment has its settings without the weighting"


def test_a_setting_that_differs_besides_the_method_leaves_the_configuration_without_a_baseline():
    config = copy.deepcopy(TINY_STUDY)
    config["experiments"]["gender_mitigation"]["epochs"] = 3

    assert not any(name.startswith("gender_mitigation") for name in comparisons_of(config))


def test_a_named_baseline_grid_is_matched_by_grid_values():
    config = copy.deepcopy(TINY_STUDY)
    base = {key: config["experiments"]["gender_seeds"][key] for key in ("dataset", "targets", "model", "image")}
    config["experiments"] = {
        "plain": {**base, "grid": {"learning_rate": [0.01, 0.001]}},
        "weighted": {
            **base,
            "grid": {"learning_rate": [0.01, 0.001]},
            "loss_weighting": {"method": "group", "attributes": ["group"]},
            "baseline": "plain",
        },
    }
    comparisons = comparisons_of(config)

    assert {name: comparison["baseline"] for name, comparison in comparisons.items()} == {
        "weighted__lr0.01": "plain__lr0.01",
        "weighted__lr0.001": "plain__lr0.001",
    }


@pytest.mark.parametrize(
    ("baseline", "change", "message"),
    [
        ("no_such", {}, r"experiments.gender_cnn.baseline: 'no_such' is not another experiment of this study"),
        ("gender_cnn", {}, r"'gender_cnn' is not another experiment"),
        ("both_multitask", {}, r"'both_multitask' has targets \['gender', 'age'\], this experiment \['gender'\]"),
        (
            "gender_seeds",
            {"eval_sets": ["val"], "label_maps": {}},
            r"'gender_seeds' and this experiment have no eval set in common",
        ),
    ],
)
def test_a_named_baseline_that_cannot_be_compared_is_refused_naming_the_key(baseline, change, message):
    config = copy.deepcopy(TINY_STUDY)
    config["experiments"]["gender_cnn"] |= {"baseline": baseline, **change}

    with pytest.raises(ValueError, match=message):
        validated_study(config)


def test_a_comparison_with_no_bootstrap_resamples_is_refused_naming_it():
    config = validated_study(copy.deepcopy(TINY_STUDY) | {"audit": {"bootstrap_resamples": 1}})
    runs = study.classifier_runs(study.expand_runs(config))
    runs |= study.derived_runs(config, runs)
    comparisons = study.study_comparisons(config, runs)

    with pytest.raises(
        ValueError, match=r"bootstrap_resamples: 1, but the comparison of gender_mitigation__mitgroup_dro"
    ):
        study.check_resamples_for_intervals(config, {}, comparisons)
    study.check_resamples_for_intervals(validated_study(TINY_STUDY), {}, comparisons)
