"""Turn a validated study config into training runs: one per experiment, grid point and training seed, with a stable
name and everything its jobs depend on."""

import itertools
import zlib

from faceaudit.catalog import (
    BACKBONES,
    FAMILY_RESOURCES,
    GRID_ABBREVIATIONS,
    MITIGATION_GRID_KEYS,
    MITIGATION_OPTIONS,
    MITIGATION_STRENGTH,
    STRATEGY_STEPS,
    model_family,
)
from faceaudit.labels import NUMERIC, eval_set_label
from faceaudit.study.kinds import AUDITED_KINDS, GENERATIVE, TRAINED, runs_of_kind
from faceaudit.study.spec import LossWeighting, Mitigation, ModelSelection, Resources, RunSpec, Step, TrainingSettings

EARLY_STOPPING_DEFAULTS = {"patience": None, "monitor": "val_loss", "restore_best_weights": True}
SEED = "seed"  # the grid key that sweeps training seeds rather than a hyperparameter
HYPERPARAMETERS = tuple(key for key in GRID_ABBREVIATIONS if key != SEED and key not in MITIGATION_GRID_KEYS)


def expand_runs(config: dict) -> dict[str, RunSpec]:
    """One run per experiment, grid point and training seed, keyed by a stable, readable run name (not for models
    trained elsewhere: study.audited_runs)."""
    runs = {}
    for experiment_name, experiment in config["experiments"].items():
        if experiment["model"] in AUDITED_KINDS:
            continue  # not trained here: audited_runs
        seeds = seed_indices(experiment_name, experiment)
        hyperparameter_grid = {key: values for key, values in experiment.get("grid", {}).items() if key != SEED}
        for point in grid_points(hyperparameter_grid):
            for seed_index in seeds:
                name = run_name(experiment_name, point, seed_index)
                if name in runs:
                    raise ValueError(
                        f"experiments.{experiment_name}: run name '{name}' is already taken by a run of experiment "
                        f"'{runs[name]['experiment']}' (repeated grid value, or an experiment named like a run)"
                    )
                runs[name] = run_spec(name, experiment_name, experiment, point, config, seed_index)
    return runs


def seed_indices(experiment_name: str, experiment: dict) -> list[int | None]:
    """The training seeds an experiment asks for with `seeds`, `repeats` (seeds 0 to repeats - 1) or a grid over
    `seed`, one run each; [None] when it asks for none: one run, named and seeded as before seeds existed."""
    seeds, repeats = experiment.get("seeds"), experiment.get("repeats")
    grid_seeds = experiment.get("grid", {}).get(SEED)
    check_one_way_of_seeding(f"experiments.{experiment_name}", seeds, repeats, grid_seeds)
    if grid_seeds is not None:
        return list(grid_seeds)
    if seeds is not None:
        return list(seeds)
    if repeats is not None:
        return list(range(repeats))
    return [None]


def check_one_way_of_seeding(key: str, seeds: list | None, repeats: int | None, grid_seeds: list | None) -> None:
    if seeds is not None and repeats is not None:
        raise ValueError(
            f"{key}.repeats: give the training seeds once, either as seeds: {seeds} or as repeats: {repeats} "
            f"(seeds 0 to {repeats - 1}), not both"
        )
    if grid_seeds is not None and (seeds is not None or repeats is not None):
        other = f"seeds: {seeds}" if seeds is not None else f"repeats: {repeats}"
        raise ValueError(
            f"{key}.grid.seed: the grid sweeps the training seeds {grid_seeds} and {other} asks for seeds too; "
            "keep one of them"
        )


def grid_points(grid: dict) -> list[dict]:
    keys = sorted(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[key] for key in keys))]


def run_name(experiment_name: str, point: dict, seed_index: int | None = None) -> str:
    """`<experiment>__<grid point>_seed<k>`, the parts that apply: `exp`, `exp__bs16_lr0.01`, `exp__seed1`,
    `exp__lr0.01_seed1`. Without seed_index it is the run's configuration, the name its seeds share."""
    parts = [f"{GRID_ABBREVIATIONS[key]}{format_value(value)}" for key, value in point.items()]
    if seed_index is not None:
        parts.append(f"{GRID_ABBREVIATIONS[SEED]}{seed_index}")
    if not parts:
        return experiment_name
    return f"{experiment_name}__{'_'.join(parts)}"


def format_value(value) -> str:
    """Short form of a grid value (0.001, not 0.0010000); never one that two different values share."""
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return str(value)


def run_spec(
    name: str, experiment_name: str, experiment: dict, point: dict, config: dict, seed_index: int | None = None
) -> RunSpec:
    """Everything one training run depends on, and nothing else (it becomes the train rule's params). Its seed is
    derived from its name, so each training seed of a configuration initialises, shuffles and augments differently;
    the data split is the dataset's own (its split.seed), the same for all of them."""
    dataset = config["datasets"][experiment["dataset"]]
    vae = experiment["model"] == "vae"
    # A vae has no strategy and is not evaluated: the schema gives it neither `strategy` nor `eval_sets`.
    hyperparameters = {key: experiment[key] for key in HYPERPARAMETERS if not (vae and key == "strategy")}
    hyperparameters |= {key: value for key, value in point.items() if key in HYPERPARAMETERS}
    spec = {
        "run": name,
        "experiment": experiment_name,
        "configuration": run_name(experiment_name, point),
        "dataset": experiment["dataset"],
        "model": experiment["model"],
        "targets": {target: kept_classes(dataset, target) for target in experiment["targets"]},
        "image_size": experiment["image"]["size"],
        "color": experiment["image"]["color"],
        "hyperparameters": hyperparameters,
        "grid_point": point,
        "seed_index": seed_index,
        "seed": run_seed(config["seed"], name),
        "eval_sets": [] if vae else [eval_set_label(eval_set) for eval_set in experiment["eval_sets"]],
        "resources": run_resources(experiment, config),
    }
    if vae:
        return spec | {"vae": dict(experiment["vae"])}
    check_xla_without_determinism(experiment_name, experiment)
    return spec | {"training": training_settings(experiment, hyperparameters, dataset, point)}


def check_xla_without_determinism(experiment_name: str, experiment: dict) -> None:
    """Keras does not compile with XLA while op determinism is on: it would warn and train without XLA."""
    if experiment["jit_compile"] and experiment["deterministic"]:
        raise ValueError(
            f"experiments.{experiment_name}.jit_compile: XLA needs `deterministic: false` as well (Keras does not "
            "compile with XLA while TensorFlow's op determinism is on)"
        )


def training_settings(
    experiment: dict, hyperparameters: dict, dataset: dict, point: dict | None = None
) -> TrainingSettings:
    """How a classifier trains: its steps, loss weighting, in-training mitigation (the grid `point` may set its method
    and strength), model selection, augmentation, and the transfer model's head and weights."""
    settings = {
        "steps": resolve_steps(experiment, hyperparameters),
        "loss_weighting": resolve_loss_weighting(experiment, dataset),
        "augmentation": {key: value for key, value in experiment["augmentation"].items() if value},
        "regression_loss": experiment["regression_loss"],
        "mixed_precision": experiment["mixed_precision"],
        "deterministic": experiment["deterministic"],
        "jit_compile": experiment["jit_compile"],
        "dropout_rate": experiment["dropout_rate"],
        "mitigation": resolve_mitigation(experiment, point or {}),
        "model_selection": resolve_model_selection(experiment),
    }
    if experiment["model"] in BACKBONES:
        settings |= {
            "head": experiment["head"],
            "weights": experiment["weights"],
            "unfreeze_last": experiment["unfreeze_last"],
        }
    return settings


def resolve_steps(experiment: dict, hyperparameters: dict) -> list[Step]:
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


def resolve_loss_weighting(experiment: dict, dataset: dict) -> LossWeighting:
    weighting = experiment["loss_weighting"]
    if weighting["method"] == "none":
        return {"method": "none"}
    target = weighting["target"] or experiment["targets"][0]
    return {
        "method": weighting["method"],
        "attributes": list(weighting["attributes"]),
        "target": target,
        "privileged_groups": {
            attribute: dataset["privileged_groups"][attribute]
            for attribute in weighting["attributes"]
            if attribute in dataset["privileged_groups"]
        },
        "positive_class": positive_classes(dataset, {target: dataset["labels"][target]}).get(target),
    }


def resolve_mitigation(experiment: dict, point: dict) -> Mitigation:
    """The experiment's `mitigation` block with the grid point's method and strength, reduced to the keys its method
    uses; a strength of null becomes the method's default, the target the first target."""
    configured = experiment.get("mitigation", {"method": "none"}) | {
        setting: point[key] for key, setting in MITIGATION_GRID_KEYS.items() if key in point
    }
    method = configured["method"]
    if method == "none":
        return {"method": "none"}
    strength = configured["strength"]
    resolved = {
        "method": method,
        "attributes": list(configured["attributes"]),
        "strength": MITIGATION_STRENGTH[method] if strength is None else strength,
    }
    for option in MITIGATION_OPTIONS[method]:
        resolved[option] = configured[option]
    if "target" in resolved:
        resolved["target"] = resolved["target"] or experiment["targets"][0]
    return resolved


def resolve_model_selection(experiment: dict) -> ModelSelection:
    selection = experiment.get("model_selection", {"monitor": "none"})
    if selection["monitor"] == "none":
        return {"monitor": "none"}
    return {
        "monitor": selection["monitor"],
        "attributes": list(selection["attributes"]),
        "target": selection["target"] or experiment["targets"][0],
    }


def run_resources(experiment: dict, config: dict) -> Resources:
    """The model family's defaults, then its `training_resources`, then the experiment's own `resources`."""
    family = model_family(experiment["model"])
    configured = config.get("training_resources", {}).get(family, {})
    return FAMILY_RESOURCES[family] | configured | experiment.get("resources", {})


def run_seed(study_seed: int, name: str) -> int:
    """A per-run seed that stays the same when other runs are added or removed."""
    return (study_seed * 1_000_003 + zlib.crc32(name.encode())) % 2**31


def kept_classes(dataset: dict, label: str) -> list[str] | str:
    """A label's classes in the declared order, less those `keep_classes` leaves out (rows of which the manifest
    refuses), so that a model restricted to White and Others has two outputs, not five; NUMERIC for a numeric label."""
    classes = dataset["labels"][label]
    if classes == NUMERIC:
        return classes
    kept = dataset.get("keep_classes", {}).get(label)
    return [name for name in classes if kept is None or name in kept]


def positive_classes(dataset: dict, targets: dict[str, list[str]]) -> dict[str, str]:
    """The positive class of each binary target: the configured one, else the last class listed."""
    configured = dataset.get("positive_classes", {})
    return {
        target: configured.get(target, classes[-1])
        for target, classes in targets.items()
        if classes != NUMERIC and len(classes) == 2
    }


def classifier_runs(runs: dict) -> dict:
    return runs_of_kind(runs, TRAINED)


def seed_configurations(runs: dict) -> dict[str, list[str]]:
    """The configurations trained with two or more seeds, each with its runs in seed order: what is aggregated
    across seeds (a configuration asked for with one seed has nothing to aggregate)."""
    by_configuration = {}
    for name, run in runs.items():
        if run.get("seed_index") is not None:
            by_configuration.setdefault(run["configuration"], []).append(name)
    return {configuration: names for configuration, names in by_configuration.items() if len(names) > 1}


def vae_runs(runs: dict) -> dict:
    return runs_of_kind(runs, GENERATIVE)
