"""Turn a validated study config into training runs, and check names that the schema cannot cross-reference."""

import itertools
import zlib

from faceaudit.datasets.common import NUMERIC

GRID_ABBREVIATIONS = {"learning_rate": "lr", "batch_size": "bs", "epochs": "ep", "optimizer": "opt"}
SINGLE_TARGET_MODELS = {"mlp", "small_cnn", "cnn_bn"}


def check_study(config: dict) -> None:
    """Raise ValueError naming the key when an experiment refers to something the study does not define."""
    for name, dataset in config["datasets"].items():
        for attribute in dataset.get("sensitive_attributes", []):
            if attribute not in dataset["labels"]:
                raise ValueError(
                    f"datasets.{name}.sensitive_attributes: '{attribute}' is not one of its labels "
                    f"{sorted(dataset['labels'])}"
                )
        check_numeric_labels_and_split(name, dataset)
        check_audited_groups(name, dataset)
        for label, positive in dataset.get("positive_classes", {}).items():
            key = f"datasets.{name}.positive_classes.{label}"
            if label not in dataset["labels"]:
                raise ValueError(f"{key}: '{label}' is not one of its labels {sorted(dataset['labels'])}")
            classes = dataset["labels"][label]
            if len(classes) != 2:
                raise ValueError(f"{key}: a positive class applies to binary labels only; '{label}' has {len(classes)} classes")
            if positive not in classes:
                raise ValueError(f"{key}: '{positive}' is not a class of '{label}' {classes}")
    for name, experiment in config["experiments"].items():
        check_experiment(name, experiment, config["datasets"])


def check_numeric_labels_and_split(name: str, dataset: dict) -> None:
    """A numeric label (e.g. age in years) has no groups or positive class; held-out fractions add up to at most 1."""
    numeric = [label for label, classes in dataset["labels"].items() if classes == NUMERIC]
    for key in ("sensitive_attributes", "positive_classes"):
        for label in dataset.get(key, []):
            if label in numeric:
                raise ValueError(f"datasets.{name}.{key}: '{label}' is numeric; this needs a label with classes")
    split = dataset.get("split", {})
    if split.get("val", 0) + split.get("test", 0) > 1:
        raise ValueError(f"datasets.{name}.split: val {split['val']} + test {split['test']} is more than 1")


def check_audited_groups(name: str, dataset: dict) -> None:
    sensitive = dataset.get("sensitive_attributes", [])
    for parts in dataset.get("intersections", []):
        for attribute in parts:
            if attribute not in sensitive:
                raise ValueError(f"datasets.{name}.intersections: '{attribute}' is not one of its sensitive_attributes {sensitive}")
    for attribute, group in dataset.get("privileged_groups", {}).items():
        if attribute not in sensitive:
            raise ValueError(f"datasets.{name}.privileged_groups: '{attribute}' is not one of its sensitive_attributes {sensitive}")
        if group not in dataset["labels"][attribute]:
            raise ValueError(f"datasets.{name}.privileged_groups.{attribute}: '{group}' is not a group of '{attribute}'")


def check_experiment(name: str, experiment: dict, datasets: dict) -> None:
    key = f"experiments.{name}"
    if experiment["dataset"] not in datasets:
        raise ValueError(f"{key}.dataset: '{experiment['dataset']}' is not defined under datasets {sorted(datasets)}")
    labels = datasets[experiment["dataset"]]["labels"]
    for target in experiment["targets"]:
        if target not in labels:
            raise ValueError(f"{key}.targets: '{target}' is not a label of dataset '{experiment['dataset']}'")
        if labels[target] == NUMERIC:
            raise ValueError(f"{key}.targets: '{target}' is numeric; regression targets are not trained yet")
    for eval_set in experiment.get("eval_sets", []):
        check_eval_set(f"{key}.eval_sets", eval_set, experiment, datasets)
    if experiment["model"] in SINGLE_TARGET_MODELS and len(experiment["targets"]) != 1:
        raise ValueError(f"{key}.model: '{experiment['model']}' predicts one target, got {experiment['targets']}")


def eval_set_source(dataset: str, eval_set: str) -> tuple[str, str]:
    """(dataset, split) that an eval set names: `test` is the run's own test split, `other:test` another dataset's.

    Also accepts the eval set's file label (`other-test`): dataset names cannot hold a hyphen.
    """
    for separator in (":", "-"):
        if separator in eval_set:
            other, split = eval_set.split(separator, 1)
            return other, split
    return dataset, eval_set


def eval_set_label(eval_set: str) -> str:
    """The name an eval set's files get: `test`, or `other-test` for another dataset's split (no ':' in file names)."""
    return eval_set.replace(":", "-")


def check_eval_set(key: str, eval_set: str, experiment: dict, datasets: dict) -> None:
    """A cross-dataset eval set must name a defined dataset whose target labels have the same class names."""
    other, _ = eval_set_source(experiment["dataset"], eval_set)
    if other == experiment["dataset"]:
        return
    if other not in datasets:
        raise ValueError(f"{key}: '{eval_set}' names dataset '{other}', which is not defined under datasets {sorted(datasets)}")
    for target in experiment["targets"]:
        ours, theirs = datasets[experiment["dataset"]]["labels"][target], datasets[other]["labels"].get(target)
        if theirs != ours:
            raise ValueError(f"{key}: '{eval_set}': label '{target}' of dataset '{other}' is {theirs}, not {ours}")


def expand_runs(config: dict) -> dict[str, dict]:
    """One run per experiment and grid point, keyed by a stable, readable run name."""
    runs = {}
    for experiment_name, experiment in config["experiments"].items():
        for point in grid_points(experiment.get("grid", {})):
            name = run_name(experiment_name, point)
            if name in runs:
                raise ValueError(
                    f"experiments.{experiment_name}: run name '{name}' is already taken by a run of experiment "
                    f"'{runs[name]['experiment']}' (repeated grid value, or an experiment named like a run)"
                )
            runs[name] = run_spec(name, experiment_name, experiment, point, config)
    return runs


def grid_points(grid: dict) -> list[dict]:
    keys = sorted(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[key] for key in keys))]


def run_name(experiment_name: str, point: dict) -> str:
    if not point:
        return experiment_name
    parts = [f"{GRID_ABBREVIATIONS[key]}{format_value(value)}" for key, value in point.items()]
    return f"{experiment_name}__{'_'.join(parts)}"


def format_value(value) -> str:
    """Short form of a grid value (0.001, not 0.0010000); never one that two different values share."""
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return str(value)


def run_spec(name: str, experiment_name: str, experiment: dict, point: dict, config: dict) -> dict:
    """Everything one training run depends on, and nothing else (it becomes the train rule's params)."""
    dataset = config["datasets"][experiment["dataset"]]
    hyperparameters = {key: experiment[key] for key in GRID_ABBREVIATIONS} | point
    return {
        "run": name,
        "experiment": experiment_name,
        "dataset": experiment["dataset"],
        "model": experiment["model"],
        "targets": {target: list(dataset["labels"][target]) for target in experiment["targets"]},
        "image_size": experiment["image"]["size"],
        "color": experiment["image"]["color"],
        "hyperparameters": hyperparameters,
        "grid_point": point,
        "seed": run_seed(config["seed"], name),
        "eval_sets": [eval_set_label(eval_set) for eval_set in experiment["eval_sets"]],
        "resources": dict(experiment["resources"]),
    }


def run_seed(study_seed: int, name: str) -> int:
    """A per-run seed that stays the same when other runs are added or removed."""
    return (study_seed * 1_000_003 + zlib.crc32(name.encode())) % 2**31


def positive_classes(dataset: dict, targets: dict[str, list[str]]) -> dict[str, str]:
    """The positive class of each binary target: the configured one, else the last class listed."""
    configured = dataset.get("positive_classes", {})
    return {target: configured.get(target, classes[-1]) for target, classes in targets.items() if len(classes) == 2}
