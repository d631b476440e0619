"""A study config becomes training runs: one per experiment, grid point and training seed, each with a stable
readable name, its own hyperparameters and its own seed."""

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import SCHEMA
from snakemake.utils import validate

from faceaudit.bench.without_slurm import environment_without_slurm
from faceaudit.study import expand_runs, positive_classes

REPOSITORY = Path(__file__).resolve().parents[3]

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


# Training seeds: `seeds`, `repeats` or a grid over `seed`, one run (one job) per seed.


def with_experiment_settings(name: str, **settings) -> dict:
    config = load_study()
    config["experiments"][name] |= settings
    return revalidated(config)


def test_an_experiment_without_seeds_keeps_the_names_and_seeds_its_runs_had_before_seeds_existed():
    runs = expand_runs(load_study())

    # Written down before seeds existed: a changed name or seed would retrain every existing run.
    assert {name: run["seed"] for name, run in runs.items()} == {
        "gender_mlp": 1846025606,
        "sweep__bs8_lr0.1": 1322179346,
        "sweep__bs8_lr0.01": 355945887,
        "sweep__bs16_lr0.1": 987803649,
        "sweep__bs16_lr0.01": 858626890,
    }
    assert all(run["seed_index"] is None and run["configuration"] == name for name, run in runs.items())


def test_seeds_give_one_run_per_seed_that_differs_from_the_others_only_in_its_seed():
    runs = expand_runs(with_experiment_settings("gender_mlp", seeds=[0, 2]))

    assert [name for name in runs if name.startswith("gender_mlp")] == ["gender_mlp__seed0", "gender_mlp__seed2"]
    first, second = runs["gender_mlp__seed0"], runs["gender_mlp__seed2"]
    assert (first["seed_index"], second["seed_index"]) == (0, 2)
    assert first["configuration"] == second["configuration"] == "gender_mlp"
    assert first["experiment"] == second["experiment"] == "gender_mlp"
    assert first["seed"] != second["seed"]
    apart_from_name_and_seed = {"run", "seed", "seed_index"}
    assert {key: value for key, value in first.items() if key not in apart_from_name_and_seed} == {
        key: value for key, value in second.items() if key not in apart_from_name_and_seed
    }
    assert first["hyperparameters"] == expand_runs(load_study())["gender_mlp"]["hyperparameters"]


def test_repeats_are_the_seeds_zero_to_repeats_minus_one():
    repeated = expand_runs(with_experiment_settings("gender_mlp", repeats=3))
    listed = expand_runs(with_experiment_settings("gender_mlp", seeds=[0, 1, 2]))

    assert [name for name in repeated if name.startswith("gender_mlp")] == [
        "gender_mlp__seed0",
        "gender_mlp__seed1",
        "gender_mlp__seed2",
    ]
    assert repeated == listed


def test_seeds_and_a_grid_name_each_run_with_its_grid_point_then_its_seed():
    runs = expand_runs(with_experiment_settings("sweep", seeds=[0, 1]))

    sweep_runs = [name for name in runs if name.startswith("sweep")]
    assert len(sweep_runs) == 8
    assert {"sweep__bs8_lr0.1_seed0", "sweep__bs8_lr0.1_seed1", "sweep__bs16_lr0.01_seed1"} <= set(sweep_runs)
    run = runs["sweep__bs8_lr0.1_seed1"]
    assert run["configuration"] == "sweep__bs8_lr0.1"
    assert run["grid_point"] == {"batch_size": 8, "learning_rate": 0.1}, "the seed is not a hyperparameter"
    assert (run["hyperparameters"]["batch_size"], run["hyperparameters"]["learning_rate"]) == (8, 0.1)
    assert "seed" not in run["hyperparameters"]
    configurations = {runs[name]["configuration"] for name in sweep_runs}
    assert configurations == {"sweep__bs8_lr0.1", "sweep__bs8_lr0.01", "sweep__bs16_lr0.1", "sweep__bs16_lr0.01"}
    assert len({runs[name]["seed"] for name in sweep_runs}) == 8


def test_a_grid_over_seed_is_the_same_as_seeds():
    config = load_study()
    config["experiments"]["sweep"]["grid"]["seed"] = [1, 0]
    from_grid = expand_runs(config)

    from_seeds = expand_runs(with_experiment_settings("sweep", seeds=[1, 0]))

    assert from_grid == from_seeds
    assert "sweep__bs16_lr0.01_seed0" in from_grid


def test_a_vae_trains_once_per_seed_too():
    config = load_study()
    config["experiments"]["faces_vae"] = {"dataset": "faces", "model": "vae", "repeats": 2, "epochs": 1}
    runs = expand_runs(revalidated(config))

    assert [runs[name]["seed_index"] for name in ("faces_vae__seed0", "faces_vae__seed1")] == [0, 1]
    assert runs["faces_vae__seed0"]["hyperparameters"] == runs["faces_vae__seed1"]["hyperparameters"]
    assert "strategy" not in runs["faces_vae__seed0"]["hyperparameters"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"seeds": [0, 1], "repeats": 2}, r"experiments\.gender_mlp\.repeats: give the training seeds once"),
        ({"seeds": [0], "grid": {"seed": [1]}}, r"experiments\.gender_mlp\.grid\.seed: .* and seeds: \[0\] asks"),
        ({"repeats": 2, "grid": {"seed": [1]}}, r"experiments\.gender_mlp\.grid\.seed: .* and repeats: 2 asks"),
    ],
)
def test_asking_for_seeds_in_two_ways_is_refused_naming_the_key(settings, message):
    config = load_study()
    config["experiments"]["gender_mlp"] |= settings

    with pytest.raises(ValueError, match=message):
        expand_runs(config)


def test_two_thousand_runs_expand_each_with_its_own_name_and_seed():
    """The size of a cluster-scale grid (its planning speed is measured by `make bench-planning`, not here)."""
    config = with_experiment_settings("sweep", repeats=100)
    config["experiments"]["sweep"]["grid"] = {
        "learning_rate": [0.1, 0.01, 0.001, 0.0001],
        "batch_size": [8, 16, 32, 64, 128],
    }

    runs = expand_runs(config)

    assert len(runs) == 2001
    sweep = [run for run in runs.values() if run["experiment"] == "sweep"]
    assert len({run["seed"] for run in sweep}) == 2000 and len({run["configuration"] for run in sweep}) == 20


def test_the_training_seeds_of_a_run_read_the_same_preprocessed_files(tmp_path):
    """What the workflow's input functions (common.smk) give the two seeds' train jobs, as a dry run prints it."""
    config = load_study()
    config["experiments"]["gender_mlp"]["seeds"] = [0, 1]
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(config))
    targets = [f"results/runs/gender_mlp__seed{seed}/model.keras" for seed in (0, 1)]

    result = dry_run(tmp_path, *targets, "--configfile", str(tmp_path / "study.yaml"))

    inputs = train_job_inputs(result.stdout)
    assert set(inputs) == {"gender_mlp__seed0", "gender_mlp__seed1"}
    assert inputs["gender_mlp__seed0"] == inputs["gender_mlp__seed1"]
    assert "results/data/faces/32-gray/train.npy" in inputs["gender_mlp__seed0"]
    assert re.search(r"^preprocess\s+1$", result.stdout, re.MULTILINE), "one preprocess job for both seeds"
    assert re.search(r"^train\s+2$", result.stdout, re.MULTILINE), "one train job per seed"


def dry_run(workdir: Path, *arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "-s", str(REPOSITORY / "Snakefile"), "-d", str(workdir), "-n"]
    result = subprocess.run(
        [*command, *arguments], capture_output=True, text=True, timeout=300, env=environment_without_slurm()
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def train_job_inputs(dry_run_output: str) -> dict[str, str]:
    """{run: the input line} of each `rule train:` job in a dry run's output."""
    jobs = re.findall(r"^rule train:\n((?:    .*\n)+)", dry_run_output, re.MULTILINE)
    inputs = {}
    for job in jobs:
        fields = dict(re.findall(r"^    (\w+): (.*)$", job, re.MULTILINE))
        inputs[fields["wildcards"].removeprefix("run=")] = fields["input"]
    return inputs


SEEDED_ARRAYS_STUDY = """
datasets:
  arrays:
    layout: synthetic
    labels: {gender: [Female, Male], age: [young, middle, old], group: [A, B]}
experiments:
  gender_mlp:
    dataset: arrays
    targets: [gender]
    model: mlp
    image: {size: 12, color: gray}
    epochs: 1
    batch_size: 16
    learning_rate: 0.01
    augmentation: {horizontal_flip: true}
    seeds: [0, 1]
"""


def test_two_seeds_train_different_weights_on_the_same_split(tmp_path):
    import keras  # here, not at the top: the rest of the study's tests need no Keras
    from training_helpers import labelled_images, train

    runs = expand_runs(load_study(SEEDED_ARRAYS_STUDY))
    outputs = {name: train(tmp_path, runs[name], name)[0] for name in ("gender_mlp__seed0", "gender_mlp__seed1")}

    weights = {name: keras.models.load_model(out / "model.keras").get_weights() for name, out in outputs.items()}
    first, second = weights.values()
    assert [array.shape for array in first] == [array.shape for array in second]
    assert not any(np.array_equal(a, b) for a, b in zip(first, second) if a.size > 1), "each seed trains its own way"
    infos = {name: json.loads((out / "run.json").read_text()) for name, out in outputs.items()}
    assert infos["gender_mlp__seed0"]["seed"] != infos["gender_mlp__seed1"]["seed"]
    # train() reads the same train and val arrays for both, as the workflow's train jobs read the same files.
    expected_range = [0.0, float(labelled_images(96, 1)[0].max())]
    assert infos["gender_mlp__seed0"]["pixel_range"] == infos["gender_mlp__seed1"]["pixel_range"] == expected_range
