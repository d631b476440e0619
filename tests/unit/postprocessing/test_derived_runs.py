"""A post_processing entry makes a derived run of every run of its experiment, seeds included, and a method asked
of something it cannot treat stops at validation with a message naming the key."""

import copy

import pytest
import yaml
from conftest import SCHEMA
from snakemake.utils import validate

from faceaudit.study import check_study, derived_runs, expand_runs, seed_configurations
from faceaudit.study.validation import ConfigError, validate_config

STUDY = """
seed: 3
datasets:
  faces:
    layout: synthetic
    labels:
      gender: [Female, Male]
      age: ["0-19", "20-39", "40+"]
      group: [A, B]
      years: numeric
    sensitive_attributes: [group, gender]
    privileged_groups: {group: A}
  other:
    layout: synthetic
    labels:
      gender: [Female, Male]
      region: [north, south]
    sensitive_attributes: [region]
experiments:
  gender_mlp:
    dataset: faces
    targets: [gender]
    model: mlp
    eval_sets: [val, test]
    post_processing:
      - {method: eq_odds, attribute: group}
      - {method: threshold_optimizer, constraint: equalized_odds, attribute: group}
  seeded:
    dataset: faces
    targets: [gender]
    model: mlp
    seeds: [0, 1]
    post_processing: [{method: reject_option, attribute: group, thresholds: 10}]
"""


def load_study() -> dict:
    config = yaml.safe_load(STUDY)
    validate(config, SCHEMA, set_default=True)
    return config


def derived(config: dict) -> dict:
    check_study(config)
    return derived_runs(config, expand_runs(config))


def test_each_entry_is_a_derived_run_of_the_source_model_fitted_on_val():
    runs = derived(load_study())
    run = runs["gender_mlp__post_eq_odds"]
    assert run["post_processing"] | {"seed": None} == {
        "method": "eq_odds",
        "constraint": "equalized_odds",
        "attribute": "group",
        "target": "gender",
        "source_run": "gender_mlp",
        "positive_class": "Male",
        "privileged_group": "A",
        "output": "decisions",
        "seed": None,
        "options": {},
    }
    assert run["eval_sets"] == ["test"], "val fits the method: it is no eval set of the derived run"
    assert run["model"] == "mlp" and run["targets"] == {"gender": ["Female", "Male"]}
    assert "training" not in run and "resources" not in run and run["grid_point"] == {}
    other = runs["gender_mlp__post_threshold_optimizer_equalized_odds"]["post_processing"]
    assert other["options"] == {"objective": "accuracy_score"} and other["privileged_group"] == "A"


def test_the_derived_runs_of_seeds_are_the_seeds_of_a_derived_configuration():
    config = load_study()
    trained = expand_runs(config)
    runs = derived(config)
    assert runs["seeded__seed1__post_reject_option"]["configuration"] == "seeded__post_reject_option"
    assert runs["seeded__seed1__post_reject_option"]["post_processing"]["options"] == {
        "thresholds": 10,
        "margins": 50,
        "bound": 0.05,
    }
    assert seed_configurations(trained | runs) == {
        "seeded": ["seeded__seed0", "seeded__seed1"],
        "seeded__post_reject_option": ["seeded__seed0__post_reject_option", "seeded__seed1__post_reject_option"],
    }


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"method": "eq_odds", "attribute": "group", "target": "age"}, r"\[0\]\.target: eq_odds .* 'age' has 3"),
        ({"method": "threshold_optimizer", "attribute": "gender"}, r"\[0\]\.attribute: .gender. is the target it"),
        (
            {"method": "reject_option", "attribute": "group", "thresholds": 3000, "margins": 3000},
            r"\[0\]: thresholds x margins = 3000 x 3000 = 9,000,000 pairs to search, more than 100,000",
        ),
        (
            {"method": "eq_odds", "attribute": "group", "target": "years"},
            r"\[0\]\.target: eq_odds post-processes binary targets; 'years' is numeric",
        ),
        ({"method": "calibrated_eq_odds", "attribute": "gender"}, r"\[0\]\.attribute: .*'gender' has none; add it"),
        ({"method": "threshold_optimizer", "attribute": "age"}, r"\[0\]\.attribute: 'age' is not one of the sensitive"),
    ],
)
def test_a_method_asked_of_what_it_cannot_treat_stops_naming_the_key(entry, message):
    config = load_study()
    config["experiments"]["both"] = copy.deepcopy(config["experiments"]["gender_mlp"])
    config["experiments"]["both"].update(targets=["gender", "age", "years"], model="multitask_cnn")
    config["experiments"]["both"]["post_processing"] = [entry]
    validate(config, SCHEMA, set_default=True)
    with pytest.raises(ValueError, match=r"experiments\.both\.post_processing" + message):
        check_study(config)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"method": "eq_odds", "attribute": "group", "constraint": "fpr"},
            r"post_processing\[0\]\.constraint: 'fpr' is not one of \[None, 'equalized_odds'\]",
        ),
        (
            {"method": "eq_odds", "attribute": "group", "bound": 0.1},
            r"post_processing\[0\]: Unevaluated properties are not allowed \('bound' was unexpected\)",
        ),
    ],
)
def test_the_schema_refuses_a_constraint_or_a_key_of_another_method(entry, message):
    config = load_study()
    config["experiments"]["gender_mlp"]["post_processing"] = [entry]
    with pytest.raises(ConfigError, match=message):
        validate_config(config, SCHEMA)


def test_the_first_target_must_be_binary_unless_a_target_is_named():
    config = load_study()
    config["experiments"]["gender_mlp"]["targets"] = ["age"]
    with pytest.raises(ValueError, match=r"gender_mlp\.post_processing\[0\]\.target: .*name a binary one"):
        check_study(config)


def test_two_entries_with_one_name_and_an_experiment_without_other_eval_sets_are_refused():
    config = load_study()
    config["experiments"]["gender_mlp"]["post_processing"].append({"method": "eq_odds", "attribute": "group"})
    with pytest.raises(ValueError, match=r"post_processing\[2\]: it would be named 'eq_odds'.*give one a `name`"):
        check_study(config)
    config["experiments"]["gender_mlp"]["post_processing"][2]["name"] = "eq_odds_again"
    config["experiments"]["gender_mlp"]["eval_sets"] = ["val"]
    with pytest.raises(ValueError, match=r"gender_mlp\.post_processing: it is fitted on `val`.*add test"):
        check_study(config)


def test_a_dataset_without_a_validation_split_has_nothing_to_fit_on():
    config = load_study()
    config["datasets"]["faces"]["split"]["val"] = 0
    with pytest.raises(ValueError, match=r"gender_mlp\.post_processing: .* dataset 'faces' has none \(split.val: 0\)"):
        check_study(config)


def test_a_cross_dataset_eval_set_must_hold_the_attribute():
    config = load_study()
    config["experiments"]["gender_mlp"]["eval_sets"] = ["test", "other:test"]
    with pytest.raises(ValueError, match=r"attribute: eval set 'other:test' has no 'group'"):
        check_study(config)


def test_an_experiment_named_like_a_derived_run_is_refused():
    config = load_study()
    config["experiments"]["a__post_b"] = config["experiments"].pop("seeded")
    with pytest.raises(ValueError, match=r"experiments\.a__post_b: '__post_' in a name marks a post-processed run"):
        check_study(config)
