"""An empty split is refused at validation where the config tells it is empty: `split: {test: 0}` with the default
`eval_sets: [test]` (which trained, then failed in predict), `val: 0` with early stopping on a validation quantity
(which trained without ever stopping). A dataset whose own files decide its splits is left to predict's check."""

import copy

import pytest
import yaml
from conftest import SCHEMA

from faceaudit.study import check_study, expand_runs
from faceaudit.study.validation import validate_config

STUDY = yaml.safe_load(
    """
datasets:
  faces:
    layout: synthetic
    labels: {gender: [Female, Male], age: ["0-19", "20+"], group: [A, B]}
experiments:
  gender_mlp: {dataset: faces, targets: [gender], model: mlp}
"""
)


def checked(dataset_changes: dict = None, **experiment_changes) -> dict:
    config = copy.deepcopy(STUDY)
    config["datasets"]["faces"].update(dataset_changes or {})
    config["experiments"]["gender_mlp"].update(experiment_changes)
    validate_config(config, SCHEMA)
    check_study(config)
    return config


def refusal(dataset_changes: dict = None, **experiment_changes) -> str:
    with pytest.raises(ValueError) as error:
        checked(dataset_changes, **experiment_changes)
    return str(error.value)


def test_a_test_fraction_of_0_with_the_default_eval_set_is_refused():
    message = refusal({"split": {"test": 0}})

    assert message.startswith(
        "experiments.gender_mlp.eval_sets: eval set 'test' is empty (datasets.faces.split.test is 0)"
    )
    assert "(the default is [test]), e.g. eval_sets: [val]" in message


def test_a_test_fraction_of_0_is_fine_when_nothing_evaluates_on_test():
    checked({"split": {"test": 0}}, eval_sets=["val"])


def test_a_val_fraction_of_0_trains_without_validation_when_nothing_needs_it():
    config = checked({"split": {"val": 0}})

    assert expand_runs(config)["gender_mlp"]["training"]["steps"][0]["early_stopping"]["patience"] is None


def test_a_val_fraction_of_0_is_fine_for_early_stopping_on_a_training_quantity():
    checked({"split": {"val": 0}}, early_stopping={"patience": 2, "monitor": "loss"})


def test_early_stopping_on_a_validation_quantity_needs_validation_data():
    message = refusal({"split": {"val": 0}}, early_stopping={"patience": 2})

    assert message.startswith(
        "experiments.gender_mlp.early_stopping: early stopping watches 'val_loss', but dataset 'faces' has no "
        "validation split (datasets.faces.split.val is 0)"
    )


def test_a_steps_early_stopping_is_named_by_its_step():
    message = refusal(
        {"split": {"val": 0}},
        model="vgg16",
        strategy="two_step",
        steps=[{"epochs": 1}, {"epochs": 1, "early_stopping": {"patience": 1, "monitor": "val_accuracy"}}],
    )

    assert message.startswith("experiments.gender_mlp.steps[1].early_stopping: early stopping watches 'val_accuracy'")


def test_a_val_eval_set_needs_validation_data():
    assert refusal({"split": {"val": 0}}, eval_sets=["val"]).startswith(
        "experiments.gender_mlp.eval_sets: eval set 'val' is empty (datasets.faces.split.val is 0)"
    )


def test_a_vae_validates_on_train_images_when_there_is_no_val_split():
    config = copy.deepcopy(STUDY)
    config["datasets"]["faces"]["split"] = {"val": 0}
    config["experiments"]["gender_mlp"] = {"dataset": "faces", "model": "vae"}
    validate_config(config, SCHEMA)

    check_study(config)


def test_a_dataset_with_no_train_rows_cannot_be_trained_on_but_can_be_a_test_set():
    config = copy.deepcopy(STUDY)
    config["datasets"]["others"] = copy.deepcopy(config["datasets"]["faces"]) | {"split": {"val": 0, "test": 1}}
    config["experiments"]["gender_mlp"]["eval_sets"] = ["test", "others:test"]
    validate_config(config, SCHEMA)
    check_study(config)

    config["experiments"]["gender_mlp"]["dataset"] = "others"
    with pytest.raises(ValueError) as error:
        check_study(config)
    assert str(error.value).startswith(
        "experiments.gender_mlp.dataset: dataset 'others' has no train rows (split val 0 + test 1 holds out every row)"
    )


def test_a_cross_dataset_eval_set_on_an_empty_split_is_refused():
    config = copy.deepcopy(STUDY)
    config["datasets"]["others"] = copy.deepcopy(config["datasets"]["faces"]) | {"split": {"test": 0}}
    config["experiments"]["gender_mlp"]["eval_sets"] = ["others:test"]
    validate_config(config, SCHEMA)

    with pytest.raises(ValueError, match=r"eval set 'others:test' is empty \(datasets.others.split.test is 0\)"):
        check_study(config)


REAL_LAYOUTS = {
    "fairface_csv": {"fairface_csv": {"label_files": {"train": "train.csv", "test": "val.csv"}}},
    "celeba_attributes": {},
    "split_lists": {"split_lists": {"lists": {"train": "train.txt", "test": "test.txt"}}},
    "class_folders": {},
}


@pytest.mark.parametrize("layout", sorted(REAL_LAYOUTS))
def test_a_dataset_with_its_own_test_files_decides_its_test_split(layout):
    """FairFace's label files, CelebA's partition file, IP102's lists: `split.test` does not apply to them; class
    folders are only known on disk (predict names an empty eval set then)."""
    checked({"layout": layout, "split": {"test": 0}, **REAL_LAYOUTS[layout]})


@pytest.mark.parametrize("layout", ["fairface_csv", "split_lists"])
def test_a_val_split_carved_from_train_is_empty_at_0(layout):
    message = refusal({"layout": layout, "split": {"val": 0}, **REAL_LAYOUTS[layout]}, eval_sets=["val"])

    assert "eval set 'val' is empty (datasets.faces.split.val is 0)" in message


def test_celeba_without_its_partition_file_splits_by_fractions():
    message = refusal(
        {"layout": "celeba_attributes", "split": {"test": 0}, "celeba_attributes": {"partition_file": None}}
    )

    assert "eval set 'test' is empty" in message
