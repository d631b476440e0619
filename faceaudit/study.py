"""Turn a validated study config into training runs, and check names that the schema cannot cross-reference."""

import itertools
import zlib

from faceaudit.datasets.common import NUMERIC

GRID_ABBREVIATIONS = {"learning_rate": "lr", "batch_size": "bs", "epochs": "ep", "optimizer": "opt", "strategy": "st"}
MULTI_TARGET_MODELS = {"multitask_cnn"}
TRANSFER_MODELS = {"vgg16", "resnet50", "inception_resnet_v2", *(f"efficientnet_b{number}" for number in range(8))}
# What each strategy trains in each of its steps (faceaudit.strategies applies them).
STRATEGY_STEPS = {
    "one_step": ["all"],
    "two_step": ["head", "all"],
    "three_step": ["head", "backbone", "all"],
    "last_layers": ["head", "last_layers"],
}
# Defaults of `training_resources` per model family (config/schema.yaml describes them).
FAMILY_RESOURCES = {
    "mlp": {"gpu": 1, "runtime": 30, "mem_mb": 4000, "threads": 2},
    "cnn": {"gpu": 1, "runtime": 60, "mem_mb": 8000, "threads": 2},
    "transfer": {"gpu": 1, "runtime": 240, "mem_mb": 16000, "threads": 4},
    "vae": {"gpu": 1, "runtime": 60, "mem_mb": 8000, "threads": 2},
}
EARLY_STOPPING_DEFAULTS = {"patience": None, "monitor": "val_loss", "restore_best_weights": True}


def model_family(model: str) -> str:
    """The family whose `training_resources` a model's jobs ask for."""
    if model in TRANSFER_MODELS:
        return "transfer"
    return model if model in ("mlp", "vae") else "cnn"


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
    dataset = datasets[experiment["dataset"]]
    if experiment["model"] == "vae":
        if experiment["targets"]:
            raise ValueError(f"{key}.targets: a vae learns the images and predicts no target; remove {experiment['targets']}")
        return
    for target in experiment["targets"]:
        if target not in dataset["labels"]:
            raise ValueError(f"{key}.targets: '{target}' is not a label of dataset '{experiment['dataset']}'")
    for eval_set in experiment.get("eval_sets", []):
        check_eval_set(f"{key}.eval_sets", eval_set, experiment, datasets)
    check_model_targets(key, experiment, dataset["labels"])
    check_strategy(key, experiment)
    check_loss_weighting(key, experiment, dataset)


def check_model_targets(key: str, experiment: dict, labels: dict) -> None:
    model, targets = experiment["model"], experiment["targets"]
    if not targets:
        raise ValueError(f"{key}.targets: '{model}' needs at least one target label")
    if model not in MULTI_TARGET_MODELS and len(targets) != 1:
        raise ValueError(f"{key}.model: '{model}' predicts one target, got {targets}; use multitask_cnn")
    binary_only = model == "baseline_cnn" or (model in TRANSFER_MODELS and experiment.get("head") == "flatten_128_sigmoid")
    if binary_only and (labels[targets[0]] == NUMERIC or len(labels[targets[0]]) != 2):
        raise ValueError(f"{key}.model: '{model}' (head '{experiment.get('head')}') has one sigmoid output for a binary target; '{targets[0]}' is not binary")


def check_strategy(key: str, experiment: dict) -> None:
    strategies = experiment.get("grid", {}).get("strategy", [experiment.get("strategy", "one_step")])
    for strategy in strategies:
        if strategy != "one_step" and experiment["model"] not in TRANSFER_MODELS:
            raise ValueError(f"{key}.strategy: '{strategy}' fine-tunes a pretrained backbone; '{experiment['model']}' has none (use one_step)")
        steps = experiment.get("steps", [])
        if steps and len(steps) != len(STRATEGY_STEPS[strategy]):
            raise ValueError(f"{key}.steps: strategy '{strategy}' has {len(STRATEGY_STEPS[strategy])} steps, but {len(steps)} are configured")


def check_loss_weighting(key: str, experiment: dict, dataset: dict) -> None:
    weighting = experiment.get("loss_weighting", {})
    method, target = weighting.get("method", "none"), weighting.get("target")
    if method == "none":
        return
    if target is not None and target not in experiment["targets"]:
        raise ValueError(f"{key}.loss_weighting.target: '{target}' is not one of the experiment's targets {experiment['targets']}")
    if method in ("group", "reweighing") and not weighting.get("attributes"):
        raise ValueError(f"{key}.loss_weighting.attributes: method '{method}' needs the attributes whose groups are weighted")
    for attribute in weighting.get("attributes", []):
        if attribute not in dataset["labels"] or dataset["labels"][attribute] == NUMERIC:
            raise ValueError(f"{key}.loss_weighting.attributes: '{attribute}' is not a label with classes of dataset '{experiment['dataset']}'")
        if method == "reweighing" and attribute not in dataset.get("privileged_groups", {}):
            raise ValueError(f"{key}.loss_weighting: reweighing needs a privileged group of '{attribute}'; add it under the dataset's privileged_groups")
    weighted = target or experiment["targets"][0]
    if method in ("class", "reweighing") and dataset["labels"][weighted] == NUMERIC:
        raise ValueError(f"{key}.loss_weighting: method '{method}' weights the classes of '{weighted}', which is numeric")
    if method == "reweighing" and len(dataset["labels"][weighted]) != 2:
        raise ValueError(f"{key}.loss_weighting: reweighing needs a binary target; '{weighted}' has {len(dataset['labels'][weighted])} classes")


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
    spec = {
        "run": name,
        "experiment": experiment_name,
        "dataset": experiment["dataset"],
        "model": experiment["model"],
        "targets": {target: dataset["labels"][target] if dataset["labels"][target] == NUMERIC else list(dataset["labels"][target])
                    for target in experiment["targets"]},
        "image_size": experiment["image"]["size"],
        "color": experiment["image"]["color"],
        "hyperparameters": hyperparameters,
        "grid_point": point,
        "seed": run_seed(config["seed"], name),
        "eval_sets": [eval_set_label(eval_set) for eval_set in experiment["eval_sets"]],
        "resources": run_resources(experiment, config),
    }
    if experiment["model"] == "vae":
        del hyperparameters["strategy"]
        return spec | {"eval_sets": [], "vae": dict(experiment["vae"])}
    return spec | {"training": training_settings(experiment, hyperparameters, dataset)}


def training_settings(experiment: dict, hyperparameters: dict, dataset: dict) -> dict:
    """How a classifier trains: its steps, loss weighting, augmentation, and the transfer model's head and weights."""
    settings = {
        "steps": resolve_steps(experiment, hyperparameters),
        "loss_weighting": resolve_loss_weighting(experiment, dataset),
        "augmentation": {key: value for key, value in experiment["augmentation"].items() if value},
        "regression_loss": experiment["regression_loss"],
        "mixed_precision": experiment["mixed_precision"],
        "dropout_rate": experiment["dropout_rate"],
    }
    if experiment["model"] in TRANSFER_MODELS:
        settings |= {"head": experiment["head"], "weights": experiment["weights"], "unfreeze_last": experiment["unfreeze_last"]}
    return settings


def resolve_steps(experiment: dict, hyperparameters: dict) -> list[dict]:
    """One entry per step of the strategy: what trains, epochs, learning rate and early stopping."""
    trainables = STRATEGY_STEPS[hyperparameters["strategy"]]
    configured = experiment["steps"] or [{} for _ in trainables]
    default_stopping = EARLY_STOPPING_DEFAULTS | experiment.get("early_stopping", {})
    return [
        {
            "trainable": trainable,
            "epochs": step.get("epochs", hyperparameters["epochs"]),
            "learning_rate": step.get("learning_rate", hyperparameters["learning_rate"]),
            "early_stopping": default_stopping | step.get("early_stopping", {}),
        }
        for trainable, step in zip(trainables, configured)
    ]


def resolve_loss_weighting(experiment: dict, dataset: dict) -> dict:
    weighting = experiment["loss_weighting"]
    if weighting["method"] == "none":
        return {"method": "none"}
    target = weighting["target"] or experiment["targets"][0]
    return {
        "method": weighting["method"],
        "attributes": list(weighting["attributes"]),
        "target": target,
        "privileged_groups": {attribute: dataset["privileged_groups"][attribute] for attribute in weighting["attributes"] if attribute in dataset["privileged_groups"]},
        "positive_class": positive_classes(dataset, {target: dataset["labels"][target]}).get(target),
    }


def run_resources(experiment: dict, config: dict) -> dict:
    """The model family's defaults, then its `training_resources`, then the experiment's own `resources`."""
    family = model_family(experiment["model"])
    configured = config.get("training_resources", {}).get(family, {})
    return FAMILY_RESOURCES[family] | configured | experiment.get("resources", {})


def run_seed(study_seed: int, name: str) -> int:
    """A per-run seed that stays the same when other runs are added or removed."""
    return (study_seed * 1_000_003 + zlib.crc32(name.encode())) % 2**31


def positive_classes(dataset: dict, targets: dict[str, list[str]]) -> dict[str, str]:
    """The positive class of each binary target: the configured one, else the last class listed."""
    configured = dataset.get("positive_classes", {})
    return {target: configured.get(target, classes[-1]) for target, classes in targets.items() if classes != NUMERIC and len(classes) == 2}


def classifier_runs(runs: dict) -> dict:
    return {name: run for name, run in runs.items() if run["model"] != "vae"}


def vae_runs(runs: dict) -> dict:
    return {name: run for name, run in runs.items() if run["model"] == "vae"}
