"""Which splits a study leaves empty, as far as the config tells: a split carved out by a `split:` fraction of 0 has
no rows. An experiment must not train on an empty train split, evaluate on an empty split, or watch a validation
quantity without validation data. Splits that a dataset's own files decide (split folders, partition or list files)
are only known when the manifest is built; predict then names an empty eval set."""

from faceaudit.labels import eval_set_source
from faceaudit.study.audited import experiment_eval_sets
from faceaudit.study.kinds import kind_of_experiment
from faceaudit.study.runs import EARLY_STOPPING_DEFAULTS

# Layouts whose settings list a file per split: the splits listed are the dataset's own, the others are carved out.
SPLIT_FILE_SETTINGS = {"fairface_csv": "label_files", "split_lists": "lists"}


def carved_splits(dataset: dict) -> set[str] | None:
    """The held-out splits (val, test) that the manifest carves out by `split:` fractions; None when the files on disk
    decide (class_folders: split folders are optional)."""
    layout = dataset["layout"]
    settings = dataset.get(layout, {})
    if layout in ("synthetic", "utkface_names"):
        return {"val", "test"}
    if layout == "celeba_attributes":
        return {"val", "test"} if settings.get("partition_file") is None else set()
    if layout in SPLIT_FILE_SETTINGS:
        listed = set(settings.get(SPLIT_FILE_SETTINGS[layout], {}))
        return {"val", "test"} - listed if "train" in listed else set()
    return None


def empty_splits(dataset: dict) -> dict[str, str]:
    """The splits known to be empty, each with the reason: a held-out fraction of 0, or no train rows left."""
    carved = carved_splits(dataset) or set()
    fractions = {split: dataset["split"][split] for split in ("val", "test") if split in carved}
    empty = {split: f"split.{split} is 0" for split, fraction in fractions.items() if fraction == 0}
    if fractions and sum(fractions.values()) >= 1:
        held_out = " + ".join(f"{split} {fraction}" for split, fraction in fractions.items())
        empty["train"] = f"split {held_out} holds out every row"
    return empty


def check_split_use(name: str, experiment: dict, datasets: dict) -> None:
    """Refuse an experiment that trains, evaluates or early-stops on a split its config leaves empty."""
    key, dataset_name = f"experiments.{name}", experiment["dataset"]
    own_empty = empty_splits(datasets[dataset_name])
    if not kind_of_experiment(experiment).trains:  # a model trained elsewhere: only its eval sets need rows
        check_eval_sets_have_rows(key, experiment_eval_sets(experiment), dataset_name, datasets)
        return
    if "train" in own_empty:
        raise ValueError(
            f"{key}.dataset: dataset '{dataset_name}' has no train rows ({own_empty['train']}); lower its held-out "
            "fractions, or evaluate on it from another experiment as '<dataset>:test'"
        )
    check_eval_sets_have_rows(key, experiment.get("eval_sets", []), dataset_name, datasets)
    for where, monitor in validation_monitors(experiment) if "val" in own_empty else []:
        raise ValueError(
            f"{key}.{where}: early stopping watches '{monitor}', but dataset '{dataset_name}' has no validation split "
            f"(datasets.{dataset_name}.split.val is 0); watch a training quantity (monitor: loss), remove the early "
            "stopping, or give split.val a fraction"
        )


def check_eval_sets_have_rows(key: str, eval_sets: list[str], dataset_name: str, datasets: dict) -> None:
    for eval_set in eval_sets:
        source, split = eval_set_source(dataset_name, eval_set)
        reason = empty_splits(datasets[source]).get(split)
        if reason:
            raise ValueError(
                f"{key}.eval_sets: eval set '{eval_set}' is empty (datasets.{source}.{reason}); give that split a "
                "fraction, or list eval sets that have examples (the default is [test]), e.g. eval_sets: [val]"
            )


def validation_monitors(experiment: dict) -> list[tuple[str, str]]:
    """(key, quantity) of each early stopping that watches a validation quantity, as faceaudit.study.runs resolves
    them: the experiment's `early_stopping`, overridden by each configured step's own."""
    general = EARLY_STOPPING_DEFAULTS | experiment.get("early_stopping", {})
    steps = experiment.get("steps", [])
    places = [
        (f"steps[{index}].early_stopping", general | step.get("early_stopping", {})) for index, step in enumerate(steps)
    ] or [("early_stopping", general)]
    return [
        (where, stopping["monitor"])
        for where, stopping in places
        if stopping["patience"] is not None and stopping["monitor"].startswith("val_")
    ]
