"""Runs of models trained elsewhere: a model file run on the study's data (`model: external`, run
`<experiment>__external`) or prediction files made elsewhere (`model: imported`, run `<experiment>__imported`).
Nothing trains them; from their predictions on they are evaluated, audited and reported like trained runs."""

from faceaudit.catalog import AUDITED_MODELS
from faceaudit.label_maps import check_label_map
from faceaudit.labels import NUMERIC, eval_set_label, eval_set_source
from faceaudit.study.kinds import AUDITED_KINDS
from faceaudit.study.runs import kept_classes, run_seed

EXTERNAL, IMPORTED = AUDITED_MODELS


def is_audited(experiment: dict) -> bool:
    return experiment["model"] in AUDITED_MODELS


def audited_eval_sets(experiment: dict) -> list[str]:
    """An imported experiment's eval sets are those its files are given for; an external one's are `eval_sets`."""
    if experiment["model"] == IMPORTED:
        return list(experiment["imported"]["files"])
    return list(experiment["eval_sets"])


def audited_runs(config: dict) -> dict:
    """One run per experiment of a model trained elsewhere, keyed by `<experiment>__external|imported`."""
    runs = {}
    for experiment_name, experiment in config["experiments"].items():
        if not is_audited(experiment):
            continue
        model = experiment["model"]
        name = experiment_name + AUDITED_KINDS[model].marker
        dataset = config["datasets"][experiment["dataset"]]
        runs[name] = {
            "run": name,
            "experiment": experiment_name,
            "configuration": name,
            "dataset": experiment["dataset"],
            "model": model,
            "targets": {target: kept_classes(dataset, target) for target in experiment["targets"]},
            "image_size": experiment["image"]["size"],
            "color": experiment["image"]["color"],
            "hyperparameters": {},
            "grid_point": {},
            "seed_index": None,
            "seed": run_seed(config["seed"], name),
            "eval_sets": [eval_set_label(eval_set) for eval_set in audited_eval_sets(experiment)],
            model: with_default_outputs(experiment, dataset) if model == EXTERNAL else dict(experiment[model]),
        }
    return runs


def with_default_outputs(experiment: dict, dataset: dict) -> dict:
    """`external` with every target's output given: by default output i is target i, and an output's classes are
    in the dataset's order unless it lists its own."""
    outputs = experiment["external"].get("outputs") or {}
    filled = {
        target: {"output": index, "classes": dataset["labels"][target]} | outputs.get(target, {})
        for index, target in enumerate(experiment["targets"])
    }
    return dict(experiment["external"]) | {"outputs": filled}


def eval_set_label_maps(experiment: dict, own_dataset: str, eval_set: str) -> dict:
    """The experiment's `label_maps` for the dataset an eval set reads ({} for its own dataset: no mapping)."""
    source, _ = eval_set_source(own_dataset, eval_set)
    if source == own_dataset:
        return {}
    return dict(experiment.get("label_maps", {}).get(source, {}))


def check_audited_experiment(key: str, experiment: dict, datasets: dict) -> None:
    """What only a model trained elsewhere needs: targets, its eval sets' datasets, and maps that can work."""
    dataset = datasets[experiment["dataset"]]
    if not experiment["targets"]:
        raise ValueError(f"{key}.targets: a model trained elsewhere is audited on targets; list at least one")
    for target in experiment["targets"]:
        if target not in dataset["labels"]:
            raise ValueError(f"{key}.targets: '{target}' is not a label of dataset '{experiment['dataset']}'")
    model = experiment["model"]
    for target, mapping in experiment[model].get("label_map", {}).items():
        if target not in experiment["targets"]:
            raise ValueError(f"{key}.{model}.label_map: '{target}' is not one of the targets {experiment['targets']}")
        check_label_map(mapping, dataset["labels"][target], f"{key}.{model}.label_map.{target}")
    if model == EXTERNAL:
        check_external_outputs(f"{key}.external.outputs", experiment, dataset)


def check_external_outputs(key: str, experiment: dict, dataset: dict) -> None:
    outputs = experiment["external"].get("outputs", {})
    for target in outputs:
        if target not in experiment["targets"]:
            raise ValueError(f"{key}: '{target}' is not one of the targets {experiment['targets']}")
    if outputs and set(outputs) != set(experiment["targets"]):
        missing = [target for target in experiment["targets"] if target not in outputs]
        raise ValueError(f"{key}: give every target its output, or none (output i = target i); missing: {missing}")
    for target, output in outputs.items():
        mapped = experiment["external"].get("label_map", {}).get(target, {})
        classes = dataset["labels"][target]
        for class_name in output.get("classes") or []:
            name = mapped.get(class_name, mapped.get(str(class_name), class_name))
            if classes != NUMERIC and str(name) not in classes:
                raise ValueError(
                    f"{key}.{target}.classes: '{class_name}' is not a class of '{target}' {classes}; name the "
                    f"dataset's class, or map it with experiments.*.external.label_map.{target}"
                )


def check_eval_set_label_maps(key: str, experiment: dict, datasets: dict) -> None:
    """Each map is for a dataset an eval set reads and a label it has, and its targets are this experiment's
    classes (the classes of the target in the experiment's own dataset)."""
    own = datasets[experiment["dataset"]]
    read = {eval_set_source(experiment["dataset"], eval_set)[0] for eval_set in experiment_eval_sets(experiment)}
    for source, maps in experiment.get("label_maps", {}).items():
        if source not in read or source == experiment["dataset"]:
            raise ValueError(
                f"{key}.label_maps.{source}: no cross-dataset eval set of this experiment reads '{source}' (eval sets: "
                f"{experiment_eval_sets(experiment)}); a map is for a `<dataset>:<split>` eval set"
            )
        for label, mapping in maps.items():
            if label not in experiment["targets"]:
                raise ValueError(
                    f"{key}.label_maps.{source}.{label}: '{label}' is not one of the targets {experiment['targets']}"
                )
            if label not in datasets[source]["labels"]:
                raise ValueError(f"{key}.label_maps.{source}.{label}: dataset '{source}' has no label '{label}'")
            check_label_map(mapping, own["labels"][label], f"{key}.label_maps.{source}.{label}")


def experiment_eval_sets(experiment: dict) -> list[str]:
    return audited_eval_sets(experiment) if is_audited(experiment) else list(experiment.get("eval_sets", []))
