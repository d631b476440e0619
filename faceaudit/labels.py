"""Shared vocabulary of labels, splits, groups and eval sets, used by every stage."""

# The class list of a label that holds numbers (e.g. age in years) instead of classes.
NUMERIC = "numeric"
SPLITS = ("train", "val", "test")


def is_numeric(classes) -> bool:
    return isinstance(classes, str) and classes == NUMERIC


def carried_labels(labels: dict, sensitive_attributes: list[str], targets: dict) -> dict:
    """The labels a predictions file holds besides the targets, with their classes: the sensitive attributes, then
    the numeric labels (e.g. age in years), which form no groups but which the subgroup search scans in bins."""
    numeric = [name for name, classes in labels.items() if is_numeric(classes) and name not in targets]
    return {name: labels[name] for name in [*sensitive_attributes, *numeric]}


def intersection_name(parts: list[str]) -> str:
    """The group column of an intersection of attributes, e.g. gender+race (its groups read "Female+Black")."""
    return "+".join(parts)


def positive_class_of(target: str, classes: list[str], positive_classes: dict[str, str]) -> str:
    """Return the positive class of a binary target: the configured one, else the last class."""
    positive_class = positive_classes.get(target, classes[-1])
    if positive_class not in classes:
        raise ValueError(
            f"target {target!r}: positive class {positive_class!r} is not one of its classes {list(classes)}"
        )
    return positive_class


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
