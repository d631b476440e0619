"""A study config becomes training runs: one per experiment and grid point, each with a stable readable name,
its own hyperparameters and its own seed."""

import copy
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from faceaudit.study import expand_runs, positive_classes

SCHEMA = str(Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "config.schema.yaml")

STUDY = """
seed: 3
datasets:
  faces:
    layout: synthetic
    labels:
      gender: [Female, Male]
      age: ["0-19", "20-39", "40+"]
      group: [A, B]
    sensitive_attributes: [group, gender]
experiments:
  gender_mlp:
    dataset: faces
    targets: [gender]
    model: mlp
    epochs: 3
    learning_rate: 0.001
  sweep:
    dataset: faces
    targets: [gender, age]
    model: multitask_cnn
    image: {size: 48, color: rgb}
    epochs: 5
    grid:
      learning_rate: [0.1, 0.01]
      batch_size: [8, 16]
"""


def load_study(text: str = STUDY, **top_level) -> dict:
    config = yaml.safe_load(text)
    config.update(top_level)
    validate(config, SCHEMA, set_default=True)
    return config


def revalidated(config: dict) -> dict:
    """Validate a changed study again, as the workflow would: a new model's own keys (a backbone's head, weights,
    unfreeze_last) get their defaults only from the schema branch of that model."""
    validate(config, SCHEMA, set_default=True)
    return config


def test_experiment_without_grid_is_one_run_named_after_it():
    runs = expand_runs(load_study())

    run = runs["gender_mlp"]
    assert run["run"] == "gender_mlp"
    assert run["experiment"] == "gender_mlp"
    assert run["dataset"] == "faces"
    assert run["model"] == "mlp"
    assert run["targets"] == {"gender": ["Female", "Male"]}
    assert (run["image_size"], run["color"]) == (32, "gray")
    assert run["hyperparameters"] == {
        "learning_rate": 0.001,
        "batch_size": 64,
        "epochs": 3,
        "optimizer": "adam",
        "strategy": "one_step",
    }
    assert run["grid_point"] == {}
    assert run["eval_sets"] == ["test"]


def test_grid_expands_into_one_run_per_combination_with_readable_names():
    runs = expand_runs(load_study())

    sweep_runs = sorted(name for name in runs if name.startswith("sweep"))
    assert sweep_runs == ["sweep__bs16_lr0.01", "sweep__bs16_lr0.1", "sweep__bs8_lr0.01", "sweep__bs8_lr0.1"]
    run = runs["sweep__bs8_lr0.1"]
    assert run["experiment"] == "sweep"
    assert run["hyperparameters"] == {
        "learning_rate": 0.1,
        "batch_size": 8,
        "epochs": 5,
        "optimizer": "adam",
        "strategy": "one_step",
    }
    assert run["grid_point"] == {"batch_size": 8, "learning_rate": 0.1}
    assert run["targets"] == {"gender": ["Female", "Male"], "age": ["0-19", "20-39", "40+"]}
    assert (run["image_size"], run["color"]) == (48, "rgb")
    assert runs["sweep__bs16_lr0.01"]["hyperparameters"]["batch_size"] == 16
    assert runs["sweep__bs16_lr0.01"]["hyperparameters"]["learning_rate"] == 0.01


def test_runs_get_distinct_seeds_that_do_not_change_between_calls():
    first = expand_runs(load_study())
    second = expand_runs(load_study())

    seeds = {name: run["seed"] for name, run in first.items()}
    assert len(set(seeds.values())) == len(seeds) == 5
    assert seeds == {name: run["seed"] for name, run in second.items()}
    assert all(0 <= seed < 2**31 for seed in seeds.values())


def test_adding_an_experiment_changes_no_existing_run():
    before = expand_runs(load_study())
    config = load_study()
    config["experiments"] = {
        "age_cnn": {**copy.deepcopy(config["experiments"]["gender_mlp"]), "targets": ["age"], "model": "cnn_bn"}
    } | config["experiments"]

    after = expand_runs(config)

    assert set(after) == set(before) | {"age_cnn"}
    for name, run in before.items():
        assert after[name] == run
    assert after["age_cnn"]["seed"] not in {run["seed"] for run in before.values()}


def test_study_seed_changes_every_run_seed():
    default = expand_runs(load_study())
    reseeded = expand_runs(load_study(seed=4))

    assert all(default[name]["seed"] != reseeded[name]["seed"] for name in default)


def test_grid_over_optimizer_and_epochs():
    config = load_study()
    config["experiments"]["gender_mlp"]["grid"] = {"optimizer": ["adam", "sgd"], "epochs": [2]}

    runs = expand_runs(config)

    assert runs["gender_mlp__ep2_optsgd"]["hyperparameters"] == {
        "learning_rate": 0.001,
        "batch_size": 64,
        "epochs": 2,
        "optimizer": "sgd",
        "strategy": "one_step",
    }
    assert "gender_mlp__ep2_optadam" in runs
    assert "gender_mlp" not in runs


def test_close_learning_rates_get_different_names():
    config = load_study()
    config["experiments"]["gender_mlp"]["grid"] = {"learning_rate": [0.1, 0.1000001, 1e-5]}

    names = sorted(expand_runs(config))

    assert names[:3] == ["gender_mlp__lr0.1", "gender_mlp__lr0.1000001", "gender_mlp__lr1e-05"]


def test_run_names_that_collide_are_refused():
    config = load_study()
    config["experiments"]["gender_mlp"]["grid"] = {"batch_size": [8, 8]}

    with pytest.raises(ValueError, match=r"experiments\.gender_mlp: run name 'gender_mlp__bs8'"):
        expand_runs(config)


def test_experiment_named_like_another_experiments_run_is_refused():
    config = load_study()
    config["experiments"]["sweep__bs8_lr0.1"] = copy.deepcopy(config["experiments"]["gender_mlp"])

    with pytest.raises(ValueError, match="sweep__bs8_lr0.1"):
        expand_runs(config)


def test_positive_class_defaults_to_the_last_class_listed():
    config = load_study()
    run = expand_runs(config)["sweep__bs8_lr0.1"]

    assert positive_classes(config["datasets"]["faces"], run["targets"]) == {"gender": "Male"}


def test_configured_positive_class_is_honoured():
    config = load_study()
    config["datasets"]["faces"]["positive_classes"] = {"gender": "Female"}
    run = expand_runs(config)["gender_mlp"]

    assert positive_classes(config["datasets"]["faces"], run["targets"]) == {"gender": "Female"}


def test_a_grid_over_strategies_gives_each_run_its_steps():
    config = load_study()
    config["experiments"]["gender_mlp"] |= {
        "model": "resnet50",
        "grid": {"strategy": ["two_step", "three_step"]},
        "learning_rate": 0.01,
        "early_stopping": {"patience": 2},
    }
    runs = expand_runs(revalidated(config))

    assert sorted(name for name in runs if name.startswith("gender_mlp")) == [
        "gender_mlp__stthree_step",
        "gender_mlp__sttwo_step",
    ]
    steps = runs["gender_mlp__stthree_step"]["training"]["steps"]
    assert [step["trainable"] for step in steps] == ["head", "backbone", "all"]
    assert all(step["learning_rate"] == 0.01 and step["epochs"] == 3 for step in steps)
    assert steps[0]["early_stopping"] == {"patience": 2, "monitor": "val_loss", "restore_best_weights": True}
    assert runs["gender_mlp__sttwo_step"]["training"]["head"] == "classifier"


def test_per_step_settings_override_the_experiment():
    config = load_study()
    config["experiments"]["gender_mlp"] |= {
        "model": "vgg16",
        "strategy": "last_layers",
        "unfreeze_last": 4,
        "steps": [
            {"epochs": 2},
            {"learning_rate": 1e-5, "early_stopping": {"patience": 1, "monitor": "val_gender_accuracy"}},
        ],
    }
    training = expand_runs(revalidated(config))["gender_mlp"]["training"]

    assert training["steps"] == [
        {
            "trainable": "head",
            "epochs": 2,
            "learning_rate": 0.001,
            "early_stopping": {"patience": None, "monitor": "val_loss", "restore_best_weights": True},
        },
        {
            "trainable": "last_layers",
            "epochs": 3,
            "learning_rate": 1e-5,
            "early_stopping": {"patience": 1, "monitor": "val_gender_accuracy", "restore_best_weights": True},
        },
    ]
    assert training["unfreeze_last"] == 4


def test_resources_come_from_the_model_family_then_the_experiment():
    config = load_study()
    config["training_resources"] = {"mlp": {"runtime": 15}, "transfer": {"gpu": 2, "threads": 8}}
    config["experiments"]["gender_mlp"]["resources"] = {"mem_mb": 2000}
    config["experiments"]["tuned"] = {
        **copy.deepcopy(config["experiments"]["gender_mlp"]),
        "model": "efficientnet_b0",
        "resources": {},
    }
    runs = expand_runs(revalidated(config))

    assert runs["gender_mlp"]["resources"] == {"gpu": 1, "runtime": 15, "mem_mb": 2000, "threads": 2}
    assert runs["sweep__bs8_lr0.1"]["resources"] == {"gpu": 1, "runtime": 60, "mem_mb": 8000, "threads": 2}
    assert runs["tuned"]["resources"] == {"gpu": 2, "runtime": 240, "mem_mb": 16000, "threads": 8}


def test_a_target_restricted_by_keep_classes_has_only_the_kept_classes_in_declared_order():
    config = load_study()
    config["datasets"]["faces"]["keep_classes"] = {"age": ["40+", "0-19"]}
    config["experiments"]["age_only"] = {"dataset": "faces", "targets": ["age"], "model": "mlp"}
    runs = expand_runs(revalidated(config))

    assert runs["age_only"]["targets"] == {"age": ["0-19", "40+"]}
    assert positive_classes(config["datasets"]["faces"], runs["age_only"]["targets"]) == {"age": "40+"}
    assert runs["gender_mlp"]["targets"] == {"gender": ["Female", "Male"]}


def test_a_positive_class_or_privileged_group_that_keep_classes_leaves_out_is_refused():
    from faceaudit.study import check_study

    config = load_study()
    config["datasets"]["faces"]["keep_classes"] = {"group": ["B"]}
    config["datasets"]["faces"]["privileged_groups"] = {"group": "A"}
    with pytest.raises(ValueError, match=r"datasets\.faces\.privileged_groups\.group: 'A' is not kept"):
        check_study(revalidated(config))
