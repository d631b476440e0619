"""Derived runs: a trained run's saved scores post-processed (`<run>__post_<name>`, kinds.POST_PROCESSED), one per
trained run and entry of its experiment's `post_processing`. Nothing is retrained."""

from faceaudit.catalog import POST_PROCESSING_METHODS
from faceaudit.study.kinds import POST_PROCESSED
from faceaudit.study.runs import positive_classes, run_seed
from faceaudit.study.spec import RunSpec

DERIVED_SEPARATOR = POST_PROCESSED.marker  # `<run>__post_<name>`


def post_processing_name(entry: dict) -> str:
    """The entry's `name`, else its method, with the constraint appended where it is not the method's default:
    eq_odds, threshold_optimizer_equalized_odds, reject_option_equal_opportunity."""
    if entry.get("name"):
        return entry["name"]
    constraint = resolved_constraint(entry)
    default = POST_PROCESSING_METHODS[entry["method"]]["constraints"][0]
    return entry["method"] if constraint == default else f"{entry['method']}_{constraint}"


def resolved_constraint(entry: dict) -> str:
    return entry.get("constraint") or POST_PROCESSING_METHODS[entry["method"]]["constraints"][0]


def derived_runs(config: dict, runs: dict[str, RunSpec]) -> dict[str, RunSpec]:
    """The runs whose predictions come from other runs' saved scores: one per trained classifier run and entry of
    its experiment's `post_processing`, named `<run>__post_<name>`. A seed's derived run is a seed of the derived
    configuration `<configuration>__post_<name>`, so derived runs are aggregated across seeds like trained ones."""
    derived = {}
    for name, run in runs.items():
        for entry in config["experiments"][run["experiment"]].get("post_processing", []):
            derived_name = f"{name}{DERIVED_SEPARATOR}{post_processing_name(entry)}"
            derived[derived_name] = derived_spec(derived_name, run, entry, config)
    return derived


def derived_spec(name: str, source: RunSpec, entry: dict, config: dict) -> RunSpec:
    """The source run's spec (what the model is, for the report) with its own name, configuration and eval sets, and
    the post-processing it stands for. It is fitted on the source's `val` predictions, so `val` is no eval set of it;
    it has no training, no cluster resources, and no grid point (grid tables compare trained runs)."""
    dataset = config["datasets"][source["dataset"]]
    method = POST_PROCESSING_METHODS[entry["method"]]
    target = entry.get("target") or next(iter(source["targets"]))
    suffix = DERIVED_SEPARATOR + post_processing_name(entry)
    spec = {key: value for key, value in source.items() if key not in ("training", "resources")}
    return spec | {
        "run": name,
        "configuration": source["configuration"] + suffix,
        "grid_point": {},
        "eval_sets": [eval_set for eval_set in source["eval_sets"] if eval_set != "val"],
        "post_processing": {
            "method": entry["method"],
            "constraint": resolved_constraint(entry),
            "attribute": entry["attribute"],
            "target": target,
            "source_run": source["run"],
            "positive_class": positive_classes(dataset, {target: source["targets"][target]})[target],
            "privileged_group": dataset["privileged_groups"].get(entry["attribute"]),
            "output": method["output"],
            "seed": run_seed(config["seed"], name),
            "options": {key: entry[key] for key in method["options"]},
        },
    }
