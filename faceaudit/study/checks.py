"""Checks of what the schema cannot cross-reference: names that must exist elsewhere in the study, and settings
that only make sense together. Each raises ValueError naming the key."""

from faceaudit.catalog import (
    BACKBONES,
    MIN_IMAGE_SIZE,
    MULTI_TARGET_MODELS,
    POST_PROCESSING_METHODS,
    STRATEGY_STEPS,
    output_kind,
)
from faceaudit.labels import NUMERIC, eval_set_source
from faceaudit.study.audited import (
    audited_eval_sets,
    check_audited_experiment,
    check_eval_set_label_maps,
    is_audited,
)
from faceaudit.study.derived import post_processing_name
from faceaudit.study.kinds import reserved_markers
from faceaudit.study.names import check_class_names
from faceaudit.study.runs import kept_classes, seed_indices
from faceaudit.study.splits import check_split_use


def check_study(config: dict) -> None:
    """Raise ValueError naming the key when an experiment refers to something the study does not define."""
    for name, dataset in config["datasets"].items():
        for attribute in dataset.get("sensitive_attributes", []):
            if attribute not in dataset["labels"]:
                raise ValueError(
                    f"datasets.{name}.sensitive_attributes: '{attribute}' is not one of its labels "
                    f"{sorted(dataset['labels'])}"
                )
        check_class_names(name, dataset)
        check_numeric_labels_and_split(name, dataset)
        check_audited_groups(name, dataset)
        check_kept_classes(name, dataset)
        for label, positive in dataset.get("positive_classes", {}).items():
            key = f"datasets.{name}.positive_classes.{label}"
            if label not in dataset["labels"]:
                raise ValueError(f"{key}: '{label}' is not one of its labels {sorted(dataset['labels'])}")
            classes = dataset["labels"][label]
            if len(classes) != 2:
                raise ValueError(
                    f"{key}: a positive class applies to binary labels only; '{label}' has {len(classes)} classes"
                )
            if positive not in classes:
                raise ValueError(f"{key}: '{positive}' is not a class of '{label}' {classes}")
    for name, experiment in config["experiments"].items():
        check_experiment(name, experiment, config["datasets"])
        check_split_use(name, experiment, config["datasets"])
        check_baseline(name, experiment, config["experiments"])


def check_baseline(name: str, experiment: dict, experiments: dict) -> None:
    """`baseline:` names another classifier experiment trained here on the same dataset and targets, with an eval
    set in common (the comparison is of the same rows)."""
    baseline = experiment.get("baseline")
    if baseline is None:
        return
    key = f"experiments.{name}.baseline"
    if baseline == name or baseline not in experiments:
        others = sorted(other for other in experiments if other != name)
        raise ValueError(f"{key}: '{baseline}' is not another experiment of this study (its experiments: {others})")
    other = experiments[baseline]
    if is_audited(other) or is_audited(experiment) or "vae" in (other["model"], experiment["model"]):
        raise ValueError(f"{key}: both experiments must be classifiers trained by this study ('{baseline}' is not)")
    for setting in ("dataset", "targets"):
        if other[setting] != experiment[setting]:
            raise ValueError(
                f"{key}: '{baseline}' has {setting} {other[setting]}, this experiment {experiment[setting]}: a "
                "comparison is of the same predictions' rows and targets"
            )
    if not set(other["eval_sets"]) & set(experiment["eval_sets"]):
        raise ValueError(f"{key}: '{baseline}' and this experiment have no eval set in common")


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
                raise ValueError(
                    f"datasets.{name}.intersections: '{attribute}' is not one of its sensitive_attributes {sensitive}"
                )
    for attribute, group in dataset.get("privileged_groups", {}).items():
        if attribute not in sensitive:
            raise ValueError(
                f"datasets.{name}.privileged_groups: '{attribute}' is not one of its sensitive_attributes {sensitive}"
            )
        if group not in dataset["labels"][attribute]:
            raise ValueError(
                f"datasets.{name}.privileged_groups.{attribute}: '{group}' is not a group of '{attribute}'"
            )


def check_kept_classes(name: str, dataset: dict) -> None:
    for label, kept in dataset.get("keep_classes", {}).items():
        key = f"datasets.{name}.keep_classes.{label}"
        classes = dataset["labels"].get(label)
        if classes is None or classes == NUMERIC:
            raise ValueError(f"{key}: '{label}' is not a label with classes; its labels: {sorted(dataset['labels'])}")
        unknown = [class_name for class_name in kept if class_name not in classes]
        if unknown:
            raise ValueError(f"{key}: {unknown} not among the classes of '{label}' {classes}")
        for setting in ("positive_classes", "privileged_groups"):
            chosen = dataset.get(setting, {}).get(label)
            if chosen is not None and chosen not in kept:
                raise ValueError(f"datasets.{name}.{setting}.{label}: '{chosen}' is not kept by {key} {kept}")


def check_experiment(name: str, experiment: dict, datasets: dict) -> None:
    key = f"experiments.{name}"
    # Run-name parts that the workflow reads as a run's kind, so an experiment's own name may not hold them.
    for marker, meaning in reserved_markers().items():
        if marker in name:
            raise ValueError(f"{key}: '{marker}' in a name marks {meaning}; rename the experiment")
    if experiment["dataset"] not in datasets:
        raise ValueError(f"{key}.dataset: '{experiment['dataset']}' is not defined under datasets {sorted(datasets)}")
    dataset = datasets[experiment["dataset"]]
    if is_audited(experiment):
        check_audited_experiment(key, experiment, datasets)
        for eval_set in audited_eval_sets(experiment):
            check_eval_set(f"{key}.eval_sets", eval_set, experiment, datasets)
        check_eval_set_label_maps(key, experiment, datasets)
        return
    seed_indices(name, experiment)  # seeds, repeats and grid.seed: one of them at most
    if experiment["model"] == "vae":
        if experiment["targets"]:
            raise ValueError(
                f"{key}.targets: a vae learns the images and predicts no target; remove {experiment['targets']}"
            )
        return
    for target in experiment["targets"]:
        if target not in dataset["labels"]:
            raise ValueError(f"{key}.targets: '{target}' is not a label of dataset '{experiment['dataset']}'")
    for eval_set in experiment.get("eval_sets", []):
        check_eval_set(f"{key}.eval_sets", eval_set, experiment, datasets)
    check_eval_set_label_maps(key, experiment, datasets)
    check_model_targets(key, experiment, {label: kept_classes(dataset, label) for label in dataset["labels"]})
    check_image_size(key, experiment)
    check_strategy(key, experiment)
    check_loss_weighting(key, experiment, dataset)
    check_mitigation(key, experiment, dataset)
    check_model_selection(key, experiment, dataset)
    check_post_processing(key, experiment, datasets)


def check_model_targets(key: str, experiment: dict, labels: dict) -> None:
    model, targets = experiment["model"], experiment["targets"]
    if not targets:
        raise ValueError(f"{key}.targets: '{model}' needs at least one target label")
    if model not in MULTI_TARGET_MODELS and len(targets) != 1:
        raise ValueError(f"{key}.model: '{model}' predicts one target, got {targets}; use multitask_cnn")
    head = experiment.get("head", "classifier")  # only transfer models take a head
    binary_only = output_kind(model, head) == "sigmoid"
    if binary_only and (labels[targets[0]] == NUMERIC or len(labels[targets[0]]) != 2):
        raise ValueError(
            f"{key}.model: '{model}' (head '{head}') has one sigmoid output for a binary target; "
            f"'{targets[0]}' is not binary"
        )


def check_image_size(key: str, experiment: dict) -> None:
    minimum, size = MIN_IMAGE_SIZE.get(experiment["model"], 0), experiment["image"]["size"]
    if size < minimum:
        raise ValueError(
            f"{key}.image.size: '{experiment['model']}' needs images of at least {minimum} pixels, got {size}"
        )


def check_strategy(key: str, experiment: dict) -> None:
    strategies = experiment.get("grid", {}).get("strategy", [experiment.get("strategy", "one_step")])
    for strategy in strategies:
        if strategy != "one_step" and experiment["model"] not in BACKBONES:
            raise ValueError(
                f"{key}.strategy: '{strategy}' fine-tunes a pretrained backbone; "
                f"'{experiment['model']}' has none (use one_step)"
            )
        steps = experiment.get("steps", [])
        if steps and len(steps) != len(STRATEGY_STEPS[strategy]):
            raise ValueError(
                f"{key}.steps: strategy '{strategy}' has {len(STRATEGY_STEPS[strategy])} steps, "
                f"but {len(steps)} are configured"
            )


def check_loss_weighting(key: str, experiment: dict, dataset: dict) -> None:
    weighting = experiment.get("loss_weighting", {})
    method, target = weighting.get("method", "none"), weighting.get("target")
    if method == "none":
        return
    if target is not None and target not in experiment["targets"]:
        raise ValueError(
            f"{key}.loss_weighting.target: '{target}' is not one of the experiment's targets {experiment['targets']}"
        )
    if method in ("group", "reweighing") and not weighting.get("attributes"):
        raise ValueError(
            f"{key}.loss_weighting.attributes: method '{method}' needs the attributes whose groups are weighted"
        )
    for attribute in weighting.get("attributes", []):
        if attribute not in dataset["labels"] or dataset["labels"][attribute] == NUMERIC:
            raise ValueError(
                f"{key}.loss_weighting.attributes: '{attribute}' is not a label with classes "
                f"of dataset '{experiment['dataset']}'"
            )
        if method == "reweighing" and attribute not in dataset.get("privileged_groups", {}):
            raise ValueError(
                f"{key}.loss_weighting: reweighing needs a privileged group of '{attribute}'; "
                "add it under the dataset's privileged_groups"
            )
    weighted = target or experiment["targets"][0]
    if method in ("class", "reweighing") and dataset["labels"][weighted] == NUMERIC:
        raise ValueError(
            f"{key}.loss_weighting: method '{method}' weights the classes of '{weighted}', which is numeric"
        )
    if method == "reweighing" and len(dataset["labels"][weighted]) != 2:
        raise ValueError(
            f"{key}.loss_weighting: reweighing needs a binary target; "
            f"'{weighted}' has {len(dataset['labels'][weighted])} classes"
        )


def check_mitigation(key: str, experiment: dict, dataset: dict) -> None:
    """Every in-training method the experiment (or its grid) asks for has groups to treat apart and a target with
    classes to watch; MMD's groups and label exist."""
    mitigation = experiment.get("mitigation", {})
    methods = experiment.get("grid", {}).get("mitigation", [mitigation.get("method", "none")])
    for method in (method for method in methods if method != "none"):
        check_group_attributes(f"{key}.mitigation", f"method '{method}'", mitigation.get("attributes"), dataset)
        if method not in ("adversarial", "mmd"):
            continue
        target = mitigation.get("target") or experiment["targets"][0]
        check_class_target(f"{key}.mitigation.target", f"method '{method}'", target, experiment, dataset)
        if method != "mmd":
            continue
        classes = kept_classes(dataset, target)
        if mitigation.get("label") is not None and mitigation["label"] not in classes:
            raise ValueError(f"{key}.mitigation.label: '{mitigation['label']}' is not a class of '{target}' {classes}")
        for group in mitigation.get("groups", []):
            values = group.split("+")
            if len(values) != len(mitigation["attributes"]) or any(
                value not in dataset["labels"][attribute] for attribute, value in zip(mitigation["attributes"], values)
            ):
                raise ValueError(
                    f"{key}.mitigation.groups: '{group}' is not a group of {mitigation['attributes']} (one value of "
                    "each, joined with '+', e.g. "
                    f"'{'+'.join(dataset['labels'][attribute][0] for attribute in mitigation['attributes'])}')"
                )


def check_model_selection(key: str, experiment: dict, dataset: dict) -> None:
    selection = experiment.get("model_selection", {})
    if selection.get("monitor", "none") == "none":
        return
    what = f"monitor '{selection['monitor']}'"
    check_group_attributes(f"{key}.model_selection", what, selection.get("attributes"), dataset)
    target = selection.get("target") or experiment["targets"][0]
    check_class_target(f"{key}.model_selection.target", what, target, experiment, dataset)
    if dataset.get("split", {}).get("val", 1) == 0:
        raise ValueError(
            f"{key}.model_selection: {what} compares groups on the validation split, but dataset "
            f"'{experiment['dataset']}' has none (split.val is 0)"
        )


def check_group_attributes(key: str, what: str, attributes: list | None, dataset: dict) -> None:
    if not attributes:
        raise ValueError(f"{key}.attributes: {what} needs the attributes whose groups it compares, e.g. [group]")
    for attribute in attributes:
        if attribute not in dataset["labels"] or dataset["labels"][attribute] == NUMERIC:
            raise ValueError(
                f"{key}.attributes: '{attribute}' is not a label with classes; labels: {sorted(dataset['labels'])}"
            )


def check_class_target(key: str, what: str, target: str, experiment: dict, dataset: dict) -> None:
    if target not in experiment["targets"]:
        raise ValueError(f"{key}: '{target}' is not one of the experiment's targets {experiment['targets']}")
    if dataset["labels"][target] == NUMERIC:
        raise ValueError(f"{key}: {what} needs a target with classes; '{target}' is numeric")


def check_eval_set(key: str, eval_set: str, experiment: dict, datasets: dict) -> None:
    """A cross-dataset eval set must name a defined dataset whose target labels have the same class names, or a
    `label_maps` entry mapping them (checked by check_eval_set_label_maps)."""
    other, _ = eval_set_source(experiment["dataset"], eval_set)
    if other == experiment["dataset"]:
        return
    if other not in datasets:
        raise ValueError(
            f"{key}: '{eval_set}' names dataset '{other}', which is not defined under datasets {sorted(datasets)}"
        )
    mapped = experiment.get("label_maps", {}).get(other, {})
    for target in (target for target in experiment["targets"] if target not in mapped):
        ours, theirs = datasets[experiment["dataset"]]["labels"][target], datasets[other]["labels"].get(target)
        if theirs != ours:
            raise ValueError(
                f"{key}: '{eval_set}': label '{target}' of dataset '{other}' is {theirs}, not {ours}; map its "
                f"classes onto these with label_maps: {{{other}: {{{target}: {{their class: our class}}}}}}"
            )


def check_post_processing(key: str, experiment: dict, datasets: dict) -> None:
    """Each post-processing entry: a binary target of the experiment, a sensitive attribute (with a privileged group
    where the method needs one) that every eval set it adjusts has, a constraint the method knows, a name of its
    own, and an eval set besides `val` (on which it is fitted)."""
    entries = experiment.get("post_processing", [])
    dataset = datasets[experiment["dataset"]]
    names = {}
    for index, entry in enumerate(entries):
        entry_key = f"{key}.post_processing[{index}]"
        method = POST_PROCESSING_METHODS[entry["method"]]
        check_post_processing_target(entry_key, entry, experiment, dataset)
        check_post_processing_attribute(entry_key, entry, experiment, datasets, method["needs_privileged_group"])
        check_search_size(entry_key, entry)
        if entry["attribute"] == (entry.get("target") or experiment["targets"][0]):
            raise ValueError(
                f"{entry_key}.attribute: '{entry['attribute']}' is the target it post-processes, so its groups would "
                "be the classes themselves (fairlearn fails only after training); name another sensitive attribute"
            )
        name = post_processing_name(entry)
        if name in names:
            raise ValueError(
                f"{entry_key}: it would be named '{name}' like post_processing[{names[name]}]; give one a `name`"
            )
        names[name] = index
    if entries and dataset.get("split", {}).get("val") == 0:
        raise ValueError(
            f"{key}.post_processing: it is fitted on the validation split, and dataset '{experiment['dataset']}' "
            "has none (split.val: 0)"
        )
    if entries and not [eval_set for eval_set in experiment.get("eval_sets", []) if eval_set != "val"]:
        raise ValueError(
            f"{key}.post_processing: it is fitted on `val` and applied to the other eval sets, and eval_sets "
            f"{experiment.get('eval_sets')} has none; add test"
        )


# reject_option's grid: thresholds x margins pairs, each one a fairness evaluation on the val predictions. 3000 x 3000
# ran 240 s in silence and held 5.3 GB before it was stopped (it needed about 60 GB); the default is 100 x 50.
MOST_REJECT_OPTION_PAIRS = 100_000


def check_search_size(entry_key: str, entry: dict) -> None:
    pairs = entry.get("thresholds", 1) * entry.get("margins", 1)
    if pairs > MOST_REJECT_OPTION_PAIRS:
        raise ValueError(
            f"{entry_key}: thresholds x margins = {entry['thresholds']} x {entry['margins']} = {pairs:,} pairs to "
            f"search, more than {MOST_REJECT_OPTION_PAIRS:,} (the default 100 x 50 = 5,000 took 4 s on 500 val rows, "
            "and time and memory grow with the pairs): search fewer"
        )


def check_post_processing_target(entry_key: str, entry: dict, experiment: dict, dataset: dict) -> None:
    target = entry.get("target") or experiment["targets"][0]
    if target not in experiment["targets"]:
        raise ValueError(
            f"{entry_key}.target: '{target}' is not one of the experiment's targets {experiment['targets']}"
        )
    classes = kept_classes(dataset, target)
    if classes == NUMERIC or len(classes) != 2:
        kind = "is numeric" if classes == NUMERIC else f"has {len(classes)} classes"
        raise ValueError(
            f"{entry_key}.target: {entry['method']} post-processes binary targets; '{target}' {kind}"
            + ("" if entry.get("target") else " (the first target; name a binary one with `target:`)")
        )


def check_post_processing_attribute(
    entry_key: str, entry: dict, experiment: dict, datasets: dict, needs_privileged_group: bool
) -> None:
    attribute, dataset = entry["attribute"], datasets[experiment["dataset"]]
    if attribute not in dataset.get("sensitive_attributes", []):
        raise ValueError(
            f"{entry_key}.attribute: '{attribute}' is not one of the sensitive_attributes "
            f"{dataset.get('sensitive_attributes', [])} of dataset '{experiment['dataset']}'"
        )
    if needs_privileged_group and attribute not in dataset.get("privileged_groups", {}):
        raise ValueError(
            f"{entry_key}.attribute: {entry['method']} compares a privileged group with the rest, and "
            f"'{attribute}' has none; add it under datasets.{experiment['dataset']}.privileged_groups"
        )
    for eval_set in experiment.get("eval_sets", []):
        other, _ = eval_set_source(experiment["dataset"], eval_set)
        if attribute not in datasets[other].get("sensitive_attributes", []):
            raise ValueError(
                f"{entry_key}.attribute: eval set '{eval_set}' has no '{attribute}' (not among the "
                f"sensitive_attributes of dataset '{other}'), so its predictions cannot be post-processed by group"
            )


def check_resamples_for_intervals(config: dict, seed_configurations: dict, comparisons: dict) -> None:
    """Seeds audited as one and configurations compared with their baseline take the test rows' variance from
    bootstrap resamples: refuse `audit.bootstrap_resamples` below 2 before anything trains (it failed in
    aggregate_seeds after every seed had trained), naming what needs them."""
    resamples = config["audit"]["bootstrap_resamples"]
    needing = [
        *(f"the seeds of {name}" for name in seed_configurations),
        *(f"the comparison of {name} with {comparison['baseline']}" for name, comparison in comparisons.items()),
    ]
    if resamples < 2 and needing:
        more = f" (and {len(needing) - 1} more)" if len(needing) > 1 else ""
        raise ValueError(
            f"audit.bootstrap_resamples: {resamples}, but {needing[0]}{more} need the test rows' variance, from at "
            "least 2 bootstrap resamples (the default is 1000): raise it, or train each configuration with one seed "
            "and name no baseline"
        )
