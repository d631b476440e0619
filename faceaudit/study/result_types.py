"""The declared shape of each result file the stages exchange (study.result_files names the files): the writers
(evaluation, data, training) produce these, the report reads them. `problems(value, shape)` lists where a file
departs from its shape: a required key missing, a key the shape does not declare, a value of another type. The
tests check the files of real studies against these shapes, so a key added by a writer must be declared here.

Nodes below the levels that the report reads by name are `dict[str, Any]`."""

from types import NoneType, UnionType
from typing import Any, NotRequired, TypedDict, Union, get_args, get_origin, get_type_hints, is_typeddict

Number = float | None  # a statistic: None where it is undefined (an empty group, a zero denominator)
Interval = list[float | None]  # [low, high] of a 95% interval, None ends where undefined


class RunInfo(TypedDict, total=False):
    """run.json of any run (the run's spec, then what its rule recorded; kinds differ in what they record)."""

    run: str
    experiment: str
    configuration: str
    dataset: str
    model: str
    targets: dict[str, list[str] | str]
    image_size: int
    color: str
    hyperparameters: dict[str, Any]
    grid_point: dict[str, Any]
    seed: int
    seed_index: int | None
    eval_sets: list[str]
    training: dict[str, Any]
    threads: int
    parameters: int | None
    architecture: str
    pixel_range: list[float]
    epochs_completed: int
    training_seconds: float | None
    images_per_second: list[float]
    host: str
    slurm_job_id: str | None
    gpus: list[Any]
    tensorflow_version: str
    keras_version: str
    compute: dict[str, Any]
    resumed_from_epoch: int | None
    restored_epochs: list[Any]
    replicas: int
    precision_policy: str
    step_epochs: list[Any]
    loss_weights: dict[str, Any] | None
    mitigation: dict[str, Any]
    model_selection: dict[str, Any]
    origin: str
    source_run: str
    post_processing: dict[str, Any]
    external: dict[str, Any]
    imported: dict[str, Any]
    files: list[dict[str, Any]]
    summary: str


class ClassMetrics(TypedDict):
    kind: str
    n: int
    classes: list[str]
    accuracy: Number
    balanced_accuracy: Number
    f1_macro: Number
    precision: NotRequired[Number]
    sensitivity: NotRequired[Number]
    specificity: NotRequired[Number]
    f1: NotRequired[Number]
    positive_class: NotRequired[str]
    roc: NotRequired[dict[str, Any]]
    per_class: dict[str, dict[str, Any]]
    confusion_matrix: dict[str, Any]
    ordinal: NotRequired[dict[str, Any]]


class RegressionMetrics(TypedDict):
    kind: str
    n: int
    mae: Number
    rmse: Number
    mean_error: Number
    r2: Number


# metrics/<eval set>.json: {target: its metrics}
Metrics = dict[str, ClassMetrics | RegressionMetrics]


class GroupRates(TypedDict, total=False):
    n: int
    positives: int
    negatives: int
    accuracy: Number
    accuracy_ci: Interval | None
    error_rate: Number
    tpr: Number
    fpr: Number
    selection_rate: Number
    base_rate: Number
    mae: Number
    mae_ci: Interval | None
    mean_error: Number
    min_detectable_accuracy_gap: Number
    min_detectable_tpr_gap: Number
    insufficient_data: bool
    insufficient_reason: str | None
    ordinal: dict[str, Any]


class Comparison(TypedDict, total=False):
    """A group's accuracy (or MAE) against the rest: the difference, its interval and its tests."""

    difference: Number
    ci: Interval | None
    p_value: Number
    adjusted_p_value: Number
    distinguishable_from_zero: bool | None
    same_test_as: str
    insufficient_data: bool
    insufficient_reason: str | None


class Aif360Comparison(TypedDict, total=False):
    """aif360's four metrics of a group against the rest (or the privileged group), each with its interval and
    tests, keyed by metric."""

    privileged_group: str
    disparate_impact: Number
    statistical_parity_difference: Number
    equal_opportunity_difference: Number
    average_odds_difference: Number
    ci: dict[str, Interval | None]
    p_value: dict[str, Number]
    adjusted_p_value: dict[str, Number]
    distinguishable_from_zero: dict[str, bool | None]
    same_test_as: dict[str, str]
    four_fifths_rule: str | None
    four_fifths_flag: str | None
    insufficient_data: bool
    insufficient_reason: str | None


class AttributeAudit(TypedDict, total=False):
    """One sensitive attribute (or intersection) of one target in fairness/<eval set>.json."""

    groups: dict[str, GroupRates]
    best_group: str | None
    worst_group: str | None
    accuracy_gap: Number
    accuracy_gap_ci: Interval | None
    accuracy_ratio: Number
    accuracy_vs_rest: dict[str, Comparison]
    vs_rest: dict[str, Aif360Comparison]
    privileged: Aif360Comparison | None
    class_tpr_gaps: dict[str, Any]
    mae_spread: Number
    mae_spread_ci: Interval | None
    mae_ratio: Number
    mae_vs_rest: dict[str, Comparison]
    excluded_groups: list[dict[str, Any]]
    multiple_comparisons: dict[str, Any]


# fairness/<eval set>.json: {target: {attribute: its audit, "skipped_attributes": {attribute: reason}}}
Fairness = dict[str, dict[str, AttributeAudit | dict[str, str]]]


class TargetCalibration(TypedDict, total=False):
    kind: str
    skipped: str
    positive_class: str
    confidence: str
    bins: int
    overall: dict[str, Any]
    attributes: dict[str, dict[str, Any]]
    skipped_attributes: dict[str, str]


class TargetThresholds(TypedDict, total=False):
    skipped: str
    positive_class: str
    score_column: str
    thresholds: list[float]
    overall: dict[str, Any]
    attributes: dict[str, dict[str, Any]]
    skipped_attributes: dict[str, str]


class Calibration(TypedDict):
    """calibration/<eval set>.json."""

    calibration: dict[str, TargetCalibration]
    thresholds: dict[str, TargetThresholds]


class TargetSubgroups(TypedDict):
    scanned_attributes: list[str]
    size: int
    errors: int
    error_rate: Number
    subgroups: list[dict[str, Any]]
    stopped: str | None
    null_scores: list[float]
    null_95th_percentile: Number
    binned_attributes: dict[str, Any]


class Subgroups(TypedDict):
    """subgroups/<eval set>.json."""

    method: str
    null_method: str
    settings: dict[str, int]
    targets: dict[str, TargetSubgroups]
    skipped_targets: dict[str, str]


class GroupGallery(TypedDict, total=False):
    n: int
    errors: int
    examples: list[dict[str, Any]]
    mean_heatmap: str | None
    heatmap_images: int


class Gallery(TypedDict):
    """gallery/<eval set>.json: {target: {attribute: {group: its errors and heatmaps}}} under `targets`."""

    show_faces: bool
    thumbnail_px: int
    gradcam_layer: str | None
    gradcam_note: str
    targets: dict[str, dict[str, dict[str, GroupGallery]]]


class SeedValue(TypedDict, total=False):
    """A statistic across seeds: per seed, their mean and spread, and the interval over retraining and rows."""

    per_seed: dict[str, Number]
    mean: Number
    sd: Number
    min: Number
    max: Number
    ci: Interval | None
    standard_error: Number
    degrees_of_freedom: Number
    t_statistic: Number
    p_value: Number
    adjusted_p_value: Number
    distinguishable_from_zero: bool | None
    insufficient_data: bool
    insufficient_reason: str | None
    n: int
    n_per_seed: dict[str, int]


class SeedTarget(TypedDict, total=False):
    overall: dict[str, SeedValue]
    attributes: dict[str, dict[str, Any]]
    multiple_comparisons: dict[str, Any]
    skipped_attributes: dict[str, str]


class SeedAggregate(TypedDict):
    """seeds/<configuration>/<eval set>.json; besides these keys, one SeedTarget per target (SEED_TARGETS)."""

    runs: list[str]
    resamples: int
    method: str


class ConfigurationComparison(TypedDict):
    """comparisons/<configuration>/<eval set>.json: a configuration minus its baseline (evaluation.comparisons)."""

    runs: list[str]
    baseline_runs: list[str]
    pairing: str
    retraining_covered: bool
    resamples: int
    positive_classes: dict[str, str]
    method: str
    verdicts_explained: dict[str, str]
    targets: dict[str, dict[str, Any]]


class NamedComparison(ConfigurationComparison):
    """The file as the compare rule writes it: which configuration, against which baseline."""

    configuration: str
    baseline: str
    how: str


class DataAudit(TypedDict):
    """data/<dataset>/data_audit.json."""

    images: dict[str, int]
    image_size: list[int]
    settings: dict[str, Any]
    group_labels: list[dict[str, Any]]
    duplicates: list[dict[str, Any]]
    image_statistics: list[dict[str, Any]]
    statistic_descriptions: dict[str, str]


# Each result file's shape, by its name in study.result_files.
SHAPES = {
    "run_info": RunInfo,
    "metrics": Metrics,
    "fairness": Fairness,
    "calibration": Calibration,
    "subgroups": Subgroups,
    "gallery": Gallery,
    "seeds": SeedAggregate,
    "comparison": NamedComparison,
    "data_audit": DataAudit,
}


def problems(value, shape, path: str = "$") -> list[str]:
    """Where `value` (a loaded JSON file) departs from `shape`, each as "<path>: <what>"; [] where it conforms."""
    if shape is Any:
        return []
    if shape is SeedAggregate:
        return seed_aggregate_problems(value, path)
    if is_typeddict(shape):
        return typed_dict_problems(value, shape, path)
    origin = get_origin(shape)
    if origin in (Union, UnionType):
        found = [problems(value, member, path) for member in get_args(shape)]
        return [] if [] in found else min(found, key=len)
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, not an object"]
        _, value_shape = get_args(shape)
        return [problem for key, item in value.items() for problem in problems(item, value_shape, f"{path}.{key}")]
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__}, not a list"]
        (item_shape,) = get_args(shape)
        return [
            problem for index, item in enumerate(value) for problem in problems(item, item_shape, f"{path}[{index}]")
        ]
    return [] if is_instance(value, shape) else [f"{path}: {type(value).__name__}, not {shape.__name__}"]


def typed_dict_problems(value, shape, path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: {type(value).__name__}, not an object"]
    declared = get_type_hints(shape)
    found = [f"{path}: no key '{key}'" for key in sorted(shape.__required_keys__ - set(value))]
    found += [f"{path}.{key}: a key {shape.__name__} does not declare" for key in value if key not in declared]
    for key, item in value.items():
        if key in declared:
            found += problems(item, declared[key], f"{path}.{key}")
    return found


def seed_aggregate_problems(value, path: str) -> list[str]:
    common = {key: value[key] for key in SeedAggregate.__annotations__ if isinstance(value, dict) and key in value}
    targets = {key: item for key, item in value.items() if key not in common} if isinstance(value, dict) else {}
    return typed_dict_problems(common, SeedAggregate, path) + problems(targets, dict[str, SeedTarget], path)


def is_instance(value, shape) -> bool:
    if shape is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if shape is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if shape is NoneType:
        return value is None
    return isinstance(value, shape)
