"""The study config is checked once, at the edge: the JSON schema fills defaults and refuses unknown keys and
wrong types; faceaudit.study.check_study refuses names that refer to nothing. Every error names its key."""

import copy
from pathlib import Path

import pytest
import yaml
from conftest import SCHEMA

from faceaudit.study import check_study, expand_runs
from faceaudit.study.validation import ConfigError, validate_config

REPOSITORY = Path(__file__).resolve().parents[3]
DEFAULT_CONFIG = REPOSITORY / "config" / "config.yaml"

MINIMAL_STUDY = """
datasets:
  faces:
    layout: synthetic
    labels:
      gender: [Female, Male]
      age: ["0-19", "20-39", "40+"]
      group: [A, B]
    sensitive_attributes: [group]
experiments:
  gender_mlp:
    dataset: faces
    targets: [gender]
    model: mlp
"""


def minimal_study() -> dict:
    return yaml.safe_load(MINIMAL_STUDY)


def validated(config: dict) -> dict:
    config = copy.deepcopy(config)
    validate_config(config, SCHEMA)
    return config


def validation_error(config: dict) -> str:
    """What the workflow prints: faceaudit.study.validation's short message, not Snakemake's schema dump."""
    with pytest.raises(ConfigError) as error:
        validate_config(config, SCHEMA)
    return str(error.value)


def test_the_embedded_default_config_is_valid_and_consistent():
    config = validated(yaml.safe_load(DEFAULT_CONFIG.read_text()))

    check_study(config)
    assert set(config["experiments"]) == {
        "gender_mlp",
        "gender_small_cnn",
        "age_cnn_bn",
        "gender_age_multitask",
        "gender_cnn_group_weighted",
        "age_years_regression",
        "faces_vae",
    }
    assert config["experiments"]["gender_mlp"]["optimizer"] == "adam"
    assert config["datasets"]["synthetic_faces"]["max_reject_fraction"] == 0.05


def test_defaults_are_filled_in():
    config = validated(minimal_study())

    assert config["seed"] == 1
    experiment = config["experiments"]["gender_mlp"]
    assert experiment["optimizer"] == "adam"
    assert experiment["image"] == {"size": 32, "color": "gray"}
    assert experiment["epochs"] == 10
    assert experiment["batch_size"] == 64
    assert experiment["learning_rate"] == 0.001
    assert experiment["eval_sets"] == ["test"]
    assert experiment["grid"] == {}
    assert experiment["resources"] == {}
    assert experiment["strategy"] == "one_step" and experiment["loss_weighting"]["method"] == "none"
    assert config["training_resources"]["transfer"] == {}
    dataset = config["datasets"]["faces"]
    assert dataset["split"] == {"val": 0.15, "test": 0.15, "seed": 0}
    assert dataset["max_reject_fraction"] == 0.05
    assert dataset["positive_classes"] == {}
    assert dataset["synthetic"]["n_images"] == 3000
    assert [group["name"] for group in dataset["synthetic"]["groups"]] == ["A", "B"]


def test_given_values_are_kept_and_only_missing_ones_filled():
    config = minimal_study()
    config["experiments"]["gender_mlp"].update(optimizer="sgd", image={"color": "rgb"})
    config["datasets"]["faces"]["split"] = {"test": 0.2}

    config = validated(config)

    assert config["experiments"]["gender_mlp"]["optimizer"] == "sgd"
    assert config["experiments"]["gender_mlp"]["image"] == {"size": 32, "color": "rgb"}
    assert config["datasets"]["faces"]["split"] == {"val": 0.15, "test": 0.2, "seed": 0}


def test_unknown_experiment_key_names_the_key():
    config = minimal_study()
    config["experiments"]["gender_mlp"]["lr"] = 0.01

    message = validation_error(config)

    assert "'lr' was unexpected" in message
    assert "at experiments.gender_mlp:" in message


def test_misspelt_top_level_key_names_the_key():
    config = minimal_study()
    config["experimets"] = config["experiments"]

    assert "'experimets' was unexpected" in validation_error(config)


def test_misspelt_dataset_key_names_the_key():
    config = minimal_study()
    config["datasets"]["faces"]["sensitive_attribute"] = ["group"]

    assert "'sensitive_attribute' was unexpected" in validation_error(config)


def test_wrong_type_names_the_value_and_where_it_is():
    config = minimal_study()
    config["experiments"]["gender_mlp"]["epochs"] = "ten"

    message = validation_error(config)

    assert "'ten' is not of type 'integer'" in message
    assert "at experiments.gender_mlp.epochs:" in message


def test_unknown_model_name_is_refused_by_the_schema():
    config = minimal_study()
    config["experiments"]["gender_mlp"]["model"] = "resnet9000"

    assert "'resnet9000' is not one of" in validation_error(config)


def test_missing_required_key_is_named():
    config = minimal_study()
    del config["experiments"]["gender_mlp"]["model"]

    assert "'model' is a required property" in validation_error(config)


def test_a_classifier_without_targets_is_refused():
    config = minimal_study()
    del config["experiments"]["gender_mlp"]["targets"]

    assert "experiments.gender_mlp.targets: 'mlp' needs at least one target label" in check_study_error(config)


def check_study_error(config: dict) -> str:
    with pytest.raises(ValueError) as error:
        check_study(validated(config))
    return str(error.value)


def test_check_study_accepts_a_consistent_study():
    check_study(validated(minimal_study()))


def test_experiment_naming_an_unknown_dataset():
    config = minimal_study()
    config["experiments"]["gender_mlp"]["dataset"] = "celeba"

    message = check_study_error(config)

    assert message.startswith("experiments.gender_mlp.dataset:")
    assert "'celeba'" in message and "['faces']" in message


def test_experiment_naming_an_unknown_target():
    config = minimal_study()
    config["experiments"]["gender_mlp"]["targets"] = ["race"]

    message = check_study_error(config)

    assert message.startswith("experiments.gender_mlp.targets:")
    assert "'race'" in message and "'faces'" in message


def test_single_target_model_given_two_targets():
    config = minimal_study()
    config["experiments"]["gender_mlp"]["targets"] = ["gender", "age"]

    message = check_study_error(config)

    assert message.startswith("experiments.gender_mlp.model:")
    assert "'mlp'" in message and "['gender', 'age']" in message


def test_multitask_model_may_have_two_targets():
    config = minimal_study()
    config["experiments"]["gender_mlp"].update(model="multitask_cnn", targets=["gender", "age"])

    check_study(validated(config))


def test_sensitive_attribute_that_is_not_a_label():
    config = minimal_study()
    config["datasets"]["faces"]["sensitive_attributes"] = ["group", "race"]

    message = check_study_error(config)

    assert message.startswith("datasets.faces.sensitive_attributes:")
    assert "'race'" in message


def test_positive_class_that_is_not_a_class():
    config = minimal_study()
    config["datasets"]["faces"]["positive_classes"] = {"gender": "Other"}

    message = check_study_error(config)

    assert message.startswith("datasets.faces.positive_classes.gender:")
    assert "'Other'" in message


def test_positive_class_of_an_unknown_label():
    config = minimal_study()
    config["datasets"]["faces"]["positive_classes"] = {"smiling": "yes"}

    message = check_study_error(config)

    assert message.startswith("datasets.faces.positive_classes.smiling:")
    assert "'smiling' is not one of its labels" in message


def test_positive_class_of_a_label_with_more_than_two_classes():
    config = minimal_study()
    config["datasets"]["faces"]["positive_classes"] = {"age": "40+"}

    message = check_study_error(config)

    assert message.startswith("datasets.faces.positive_classes.age:")
    assert "binary" in message


def test_numeric_label_is_accepted_but_not_as_a_sensitive_attribute():
    config = minimal_study()
    config["datasets"]["faces"]["labels"]["age_years"] = "numeric"
    check_study(validated(config))

    config["datasets"]["faces"]["sensitive_attributes"] = ["age_years"]
    assert check_study_error(config).startswith("datasets.faces.sensitive_attributes: 'age_years' is numeric")


def test_numeric_target_is_a_regression_run():
    config = minimal_study()
    config["datasets"]["faces"]["labels"]["age_years"] = "numeric"
    config["experiments"]["gender_mlp"]["targets"] = ["age_years"]
    check_study(validated(config))

    config["experiments"]["gender_mlp"]["model"] = "baseline_cnn"
    assert (
        "'baseline_cnn' (head 'classifier') has one sigmoid output for a binary target; 'age_years' is not binary"
        in check_study_error(config)
    )


def test_fine_tuning_strategies_need_a_transfer_model_and_matching_steps():
    config = minimal_study()
    config["experiments"]["gender_mlp"]["strategy"] = "two_step"
    assert (
        "experiments.gender_mlp.strategy: 'two_step' fine-tunes a pretrained backbone; 'mlp' has none"
        in check_study_error(config)
    )

    config["experiments"]["gender_mlp"]["model"] = "vgg16"
    config["experiments"]["gender_mlp"]["steps"] = [{"learning_rate": 0.001}]
    assert "experiments.gender_mlp.steps: strategy 'two_step' has 2 steps, but 1 are configured" in check_study_error(
        config
    )


def test_loss_weighting_names_what_is_missing():
    config = minimal_study()
    config["experiments"]["gender_mlp"]["loss_weighting"] = {"method": "group"}
    assert "experiments.gender_mlp.loss_weighting.attributes: method 'group' needs the attributes" in check_study_error(
        config
    )

    config["experiments"]["gender_mlp"]["loss_weighting"] = {"method": "group", "attributes": ["hair"]}
    assert "'hair' is not a label with classes of dataset 'faces'" in check_study_error(config)

    config["experiments"]["gender_mlp"]["loss_weighting"] = {"method": "reweighing", "attributes": ["group"]}
    assert (
        "reweighing needs a privileged group of 'group'; add it under the dataset's privileged_groups"
        in check_study_error(config)
    )

    config["datasets"]["faces"]["privileged_groups"] = {"group": "A"}
    config["experiments"]["gender_mlp"]["targets"] = ["age"]
    assert "reweighing needs a binary target; 'age' has 3 classes" in check_study_error(config)


def test_a_vae_predicts_no_target():
    config = minimal_study()
    config["experiments"]["gender_mlp"]["model"] = "vae"
    assert "a vae learns the images and predicts no target" in check_study_error(config)
    del config["experiments"]["gender_mlp"]["targets"]
    check_study(validated(config))


def test_cross_dataset_eval_set_needs_a_dataset_with_the_same_classes():
    config = minimal_study()
    config["datasets"]["others"] = copy.deepcopy(config["datasets"]["faces"])
    config["experiments"]["gender_mlp"]["eval_sets"] = ["test", "others:test"]
    check_study(validated(config))

    config["datasets"]["others"]["labels"]["gender"] = ["F", "M"]
    message = check_study_error(config)
    assert message.startswith("experiments.gender_mlp.eval_sets: 'others:test': label 'gender' of dataset 'others'")

    config["experiments"]["gender_mlp"]["eval_sets"] = ["celeba:test"]
    assert "names dataset 'celeba', which is not defined" in check_study_error(config)
    config["experiments"]["gender_mlp"]["eval_sets"] = ["others:holdout"]
    assert "does not match" in validation_error(config)


def test_held_out_fractions_cannot_exceed_the_data():
    config = minimal_study()
    config["datasets"]["faces"]["split"] = {"val": 0.5, "test": 0.6}

    assert check_study_error(config).startswith("datasets.faces.split: val 0.5 + test 0.6 is more than 1")


def test_real_layouts_fill_their_settings_defaults():
    config = minimal_study()
    config["datasets"]["faces"].update(layout="celeba_attributes", download=[{"name": "img_align_celeba.zip"}])

    dataset = validated(config)["datasets"]["faces"]

    assert dataset["celeba_attributes"]["partition_file"] == "list_eval_partition.txt"
    assert dataset["download"] == [{"name": "img_align_celeba.zip", "extract": True}]
    assert dataset["sample_fraction"] == 1.0 and dataset["sample_size"] is None
    assert validated(config)["checksums_lock"] == "config/checksums.lock.yaml"


def test_resources_accept_their_keys_and_refuse_others():
    config = minimal_study()
    config["experiments"]["gender_mlp"]["resources"] = {"runtime": 15, "mem_mb": 2000}
    config["training_resources"] = {"transfer": {"gpu": 2}}
    validated(config)
    config["experiments"]["gender_mlp"]["resources"] = {"gpus": 2}
    assert "Additional properties are not allowed ('gpus' was unexpected)" in validation_error(config)


def test_the_ip102_config_names_its_102_classes_in_the_datasets_own_words():
    config = validated(yaml.safe_load((DEFAULT_CONFIG.parent / "ip102.yaml").read_text()))
    check_study(config)
    classes = config["datasets"]["ip102"]["labels"]["pest"]
    assert len(classes) == len(set(classes)) == 102
    assert (classes[0], classes[24], classes[101]) == ("rice leaf roller", "aphids", "Cicadellidae")
    # classes.txt names two classes "alfalfa weevil"; they keep their line numbers to stay distinct.
    assert (classes[44], classes[56]) == ("alfalfa weevil (45)", "alfalfa weevil (57)")


# Each model family's keys and each layout's settings block apply (and get their defaults) only where they belong:
# the schema's if/then branches, which Snakemake's default-filling validator enters only when their `if` holds.
TRANSFER_KEYS = {"head", "weights", "unfreeze_last"}
CLASSIFIER_KEYS = {
    "strategy",
    "steps",
    "loss_weighting",
    "augmentation",
    "regression_loss",
    "mixed_precision",
    "dropout_rate",
    "eval_sets",
}
LAYOUT_BLOCKS = {"synthetic", "fairface_csv", "celeba_attributes", "class_folders", "split_lists", "utkface_names"}


def test_an_mlp_gets_the_classifier_defaults_and_none_of_the_other_families():
    experiment = validated(minimal_study())["experiments"]["gender_mlp"]

    assert CLASSIFIER_KEYS <= set(experiment)
    assert not (TRANSFER_KEYS | {"vae"}) & set(experiment)


def test_a_backbone_gets_its_head_weights_and_unfreeze_last_defaults():
    config = validated(minimal_study())
    assert "head" not in config["experiments"]["gender_mlp"]

    config["experiments"]["gender_mlp"]["model"] = "vgg16"
    experiment = validated(config)["experiments"]["gender_mlp"]

    assert (experiment["head"], experiment["weights"], experiment["unfreeze_last"]) == ("classifier", "imagenet", 20)
    assert experiment["strategy"] == "one_step" and "vae" not in experiment


def test_a_backbone_keeps_its_given_head_and_an_error_inside_it_names_the_value():
    config = minimal_study()
    config["experiments"]["gender_mlp"].update(model="resnet50", head="dense_128_32", weights=None)
    experiment = validated(config)["experiments"]["gender_mlp"]
    assert (experiment["head"], experiment["weights"], experiment["unfreeze_last"]) == ("dense_128_32", None, 20)

    config["experiments"]["gender_mlp"]["head"] = "dense_64"
    message = validation_error(config)
    assert "'dense_64' is not one of ['classifier', 'dense_128_32', 'flatten_128_sigmoid']" in message
    assert "was unexpected" not in message


def test_a_vae_gets_its_own_defaults_and_no_classifier_keys():
    config = minimal_study()
    config["experiments"]["gender_mlp"] = {"dataset": "faces", "model": "vae", "vae": {"latent_size": 8}}

    experiment = validated(config)["experiments"]["gender_mlp"]

    assert experiment["vae"] == {"latent_size": 8, "reconstruction_loss": "bce"}
    assert experiment["targets"] == [] and experiment["epochs"] == 10
    assert not (CLASSIFIER_KEYS | TRANSFER_KEYS) & set(experiment)


def test_an_mlp_with_a_head_is_refused_naming_the_key():
    config = minimal_study()
    config["experiments"]["gender_mlp"]["head"] = "dense_128_32"

    message = validation_error(config)

    assert "Unevaluated properties are not allowed ('head' was unexpected)" in message
    assert "at experiments.gender_mlp:" in message


def test_an_mlp_with_weights_is_refused_naming_the_key():
    config = minimal_study()
    config["experiments"]["gender_mlp"]["weights"] = "/nonexistent.h5"

    assert "Unevaluated properties are not allowed ('weights' was unexpected)" in validation_error(config)


@pytest.mark.parametrize("model", ["mlp", "small_cnn", "vgg16", "efficientnet_b0"])
def test_vae_settings_on_another_model_are_refused(model):
    config = minimal_study()
    config["experiments"]["gender_mlp"].update(model=model, vae={"latent_size": 8})

    assert "Unevaluated properties are not allowed ('vae' was unexpected)" in validation_error(config)


@pytest.mark.parametrize(
    "key, value",
    [("strategy", "one_step"), ("eval_sets", ["test"]), ("head", "classifier"), ("augmentation", {"zoom": 0.1})],
)
def test_classifier_and_transfer_keys_on_a_vae_are_refused(key, value):
    config = minimal_study()
    config["experiments"]["gender_mlp"] = {"dataset": "faces", "model": "vae", key: value}

    assert f"Unevaluated properties are not allowed ('{key}' was unexpected)" in validation_error(config)


def test_a_vae_cannot_sweep_a_strategy_and_its_runs_have_none():
    config = minimal_study()
    config["experiments"]["gender_mlp"] = {"dataset": "faces", "model": "vae", "grid": {"learning_rate": [0.1, 0.01]}}
    runs = expand_runs(validated(config))
    assert runs["gender_mlp__lr0.1"]["hyperparameters"] == {
        "learning_rate": 0.1,
        "batch_size": 64,
        "epochs": 10,
        "optimizer": "adam",
    }
    assert runs["gender_mlp__lr0.1"]["eval_sets"] == [] and "training" not in runs["gender_mlp__lr0.1"]

    config["experiments"]["gender_mlp"]["grid"] = {"strategy": ["one_step"]}
    message = validation_error(config)
    assert "'strategy' should not be valid" in message and "at experiments.gender_mlp.grid:" in message


@pytest.mark.parametrize("model", ["mlp", "vgg16", "vae"])
def test_an_unknown_experiment_key_is_still_refused_for_every_family(model):
    config = minimal_study()
    config["experiments"]["gender_mlp"].update(model=model, lr=0.01)

    assert "Unevaluated properties are not allowed ('lr' was unexpected)" in validation_error(config)


def test_a_synthetic_dataset_gets_its_own_block_and_no_other_layouts():
    dataset = validated(minimal_study())["datasets"]["faces"]

    assert dataset["synthetic"]["n_images"] == 3000 and dataset["synthetic"]["signal"] == 0.9
    assert set(dataset) & LAYOUT_BLOCKS == {"synthetic"}


@pytest.mark.parametrize("layout", sorted(LAYOUT_BLOCKS - {"synthetic"}))
def test_each_layout_gets_only_its_own_settings_defaults(layout):
    config = minimal_study()
    config["datasets"]["faces"]["layout"] = layout

    dataset = validated(config)["datasets"]["faces"]

    assert set(dataset) & LAYOUT_BLOCKS == {layout}
    assert dataset[layout] and "images" in dataset[layout]


def test_a_fairface_csv_block_on_a_synthetic_dataset_is_refused_naming_it():
    config = minimal_study()
    config["datasets"]["faces"]["fairface_csv"] = {"images": "train"}

    message = validation_error(config)

    assert "Unevaluated properties are not allowed ('fairface_csv' was unexpected)" in message
    assert "at datasets.faces:" in message


def test_a_synthetic_block_on_a_downloaded_dataset_is_refused():
    config = minimal_study()
    config["datasets"]["faces"].update(layout="celeba_attributes", synthetic={"n_images": 100})

    assert "Unevaluated properties are not allowed ('synthetic' was unexpected)" in validation_error(config)


def test_a_synthetic_dataset_takes_no_downloads():
    config = minimal_study()
    config["datasets"]["faces"]["download"] = [{"url": "https://example.org/faces.zip"}]

    message = validation_error(config)

    assert "is expected to be empty" in message and "at datasets.faces.download:" in message


def test_an_error_inside_the_layouts_block_names_the_value():
    config = minimal_study()
    config["datasets"]["faces"]["synthetic"] = {"n_images": 5}

    message = validation_error(config)

    assert "5 is less than the minimum of 10" in message and "at datasets.faces.synthetic.n_images:" in message


def test_a_model_needing_bigger_images_is_refused_below_its_minimum():
    config = minimal_study()
    config["experiments"]["gender_mlp"]["model"] = "plain_cnn"

    assert (
        check_study_error(config) == "experiments.gender_mlp.image.size: 'plain_cnn' needs images of at least 40 "
        "pixels, got 32"
    )
    config["experiments"]["gender_mlp"]["image"] = {"size": 64, "color": "rgb"}
    check_study(validated(config))


def test_seeds_and_repeats_default_to_none_and_are_accepted_one_at_a_time():
    experiment = validated(minimal_study())["experiments"]["gender_mlp"]
    assert (experiment["seeds"], experiment["repeats"]) == (None, None)

    for settings in ({"seeds": [0, 1, 2]}, {"repeats": 5}, {"grid": {"seed": [0, 1], "learning_rate": [0.01]}}):
        config = minimal_study()
        config["experiments"]["gender_mlp"] |= settings
        check_study(validated(config))


@pytest.mark.parametrize(
    ("settings", "key", "problem"),
    [
        ({"seeds": []}, "experiments.gender_mlp.seeds", "[] should be non-empty"),
        ({"seeds": [1, 1]}, "experiments.gender_mlp.seeds", "[1, 1] has non-unique elements"),
        ({"seeds": [-1]}, "experiments.gender_mlp.seeds[0]", "-1 is less than the minimum of 0"),
        ({"seeds": 3}, "experiments.gender_mlp.seeds", "3 is not of type 'array', 'null'"),
        ({"repeats": 0}, "experiments.gender_mlp.repeats", "0 is less than the minimum of 1"),
        ({"repeats": 101}, "experiments.gender_mlp.repeats", "101 is greater than the maximum of 100"),
        ({"grid": {"seed": [-2]}}, "experiments.gender_mlp.grid.seed[0]", "-2 is less than the minimum of 0"),
        ({"grid": {"seed": []}}, "experiments.gender_mlp.grid.seed", "[] should be non-empty"),
    ],
)
def test_wrong_seeds_and_repeats_are_refused_naming_the_key(settings, key, problem):
    config = minimal_study()
    config["experiments"]["gender_mlp"] |= settings

    message = validation_error(config)

    assert message.startswith(f"Config error at {key}: {problem}")
    assert "Training seeds" in message or "this many times" in message, "the key's description follows"


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {"seeds": [0, 1], "repeats": 3},
            "experiments.gender_mlp.repeats: give the training seeds once, either as seeds: [0, 1] or as repeats: 3 "
            "(seeds 0 to 2), not both",
        ),
        (
            {"seeds": [0, 1], "grid": {"seed": [2]}},
            "experiments.gender_mlp.grid.seed: the grid sweeps the training seeds [2] and seeds: [0, 1] asks for seeds "
            "too; keep one of them",
        ),
        (
            {"repeats": 3, "grid": {"seed": [2]}},
            "experiments.gender_mlp.grid.seed: the grid sweeps the training seeds [2] and repeats: 3 asks for seeds "
            "too; keep one of them",
        ),
    ],
)
def test_asking_for_training_seeds_in_two_ways_is_refused_naming_the_key(settings, expected):
    config = minimal_study()
    config["experiments"]["gender_mlp"] |= settings

    assert check_study_error(config) == expected


def test_a_vae_asking_for_seeds_in_two_ways_is_refused_too():
    config = minimal_study()
    config["experiments"]["gender_mlp"] = {"dataset": "faces", "model": "vae", "seeds": [0], "repeats": 2}

    assert check_study_error(config).startswith("experiments.gender_mlp.repeats: give the training seeds once")
