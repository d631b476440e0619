"""Which configuration is compared with which (evaluation.comparisons computes the change): each configuration that
applies a fairness method, against its baseline, the same configuration without the method.

A baseline is found in one of three ways (``HOW``), the first that applies:
* a post-processed configuration (`<configuration>__post_<name>`) against the configuration whose runs it was made
  from, run by run (paired);
* an experiment's `baseline:` names the experiment; a grid's configurations are matched by their grid values;
* a configuration trained with `mitigation` or `loss_weighting` against the configuration whose runs have the same
  settings without them (another experiment or another grid point), where the study has one.
"""

from faceaudit.study.spec import RunSpec

HOW = {
    "post-processed": "post-processed from the baseline's runs (the same models)",
    "named": "named in the config (`baseline:`)",
    "same settings": "the same settings without the method",
}
# What a run spec holds that does not make two configurations different settings.
NOT_SETTINGS = ("run", "experiment", "configuration", "grid_point", "seed_index", "seed", "resources")
METHOD_SETTINGS = ("mitigation", "loss_weighting")
# Part of a method's settings: in-training mitigation keeps the epoch with the best worst-group accuracy.
WITH_THE_METHOD = (*METHOD_SETTINGS, "model_selection")


def configurations(runs: dict[str, RunSpec]) -> dict[str, list[str]]:
    """{configuration: its runs in seed order} of every evaluated run."""
    found = {}
    for name, run in runs.items():
        found.setdefault(run["configuration"], []).append(name)
    return found


def study_comparisons(config: dict, runs: dict[str, RunSpec]) -> dict[str, dict]:
    """{configuration: {baseline, runs, baseline_runs, paired, eval_sets, how}} for every configuration that has a
    baseline; `runs` are the study's evaluated classifier runs (trained and post-processed)."""
    by_configuration = configurations(runs)
    found = {}
    for configuration, names in by_configuration.items():
        first = runs[names[0]]
        baseline, how = baseline_of(first, config, runs, by_configuration)
        if baseline is None:
            continue
        baseline_runs = by_configuration[baseline]
        paired = how == "post-processed"
        if paired:
            source_of = {runs[name]["post_processing"]["source_run"]: name for name in names}
            names = [source_of[source] for source in baseline_runs if source in source_of]
        other_eval_sets = runs[baseline_runs[0]]["eval_sets"]
        found[configuration] = {
            "baseline": baseline,
            "runs": names,
            "baseline_runs": baseline_runs,
            "paired": paired,
            "eval_sets": [eval_set for eval_set in first["eval_sets"] if eval_set in other_eval_sets],
            "how": HOW[how],
        }
    return {configuration: found[configuration] for configuration in found if found[configuration]["eval_sets"]}


def baseline_of(run: RunSpec, config: dict, runs: dict, by_configuration: dict) -> tuple[str | None, str | None]:
    """(the configuration's baseline, how it was found), or (None, None)."""
    if "post_processing" in run:
        return runs[run["post_processing"]["source_run"]]["configuration"], "post-processed"
    named = config["experiments"].get(run["experiment"], {}).get("baseline")
    if named is not None:
        return named_baseline(run, named, runs, by_configuration), "named"
    if not applies_a_method(run):
        return None, None
    for configuration, names in by_configuration.items():
        other = runs[names[0]]
        if "post_processing" not in other and not applies_a_method(other) and settings_of(other) == settings_of(run):
            return configuration, "same settings"
    return None, None


def named_baseline(run: RunSpec, named: str, runs: dict, by_configuration: dict) -> str:
    """The configuration of experiment `named` whose grid values agree with the run's (study.checks has made sure
    that the experiment exists and trains on the same data)."""
    candidates = [
        configuration
        for configuration, names in by_configuration.items()
        if runs[names[0]]["experiment"] == named and "post_processing" not in runs[names[0]]
    ]
    matching = [
        configuration
        for configuration in candidates
        if all(
            run["grid_point"].get(key, value) == value
            for key, value in runs[by_configuration[configuration][0]]["grid_point"].items()
        )
    ]
    if len(matching) != 1:
        raise ValueError(
            f"experiments.{run['experiment']}.baseline: '{named}' has {len(matching)} configurations whose grid "
            f"values match those of {run['configuration']} ({run['grid_point'] or 'no grid'}): give both experiments "
            "the same grid, or the baseline none"
        )
    return matching[0]


def applies_a_method(run: RunSpec) -> bool:
    training = run.get("training", {})
    return any(training.get(key, {}).get("method", "none") != "none" for key in METHOD_SETTINGS)


def settings_of(run: RunSpec) -> dict:
    """What the run is, less its name, seed and grid point, and less the fairness method it applies."""
    settings = {key: value for key, value in run.items() if key not in NOT_SETTINGS}
    training = {key: value for key, value in run.get("training", {}).items() if key not in WITH_THE_METHOD}
    return settings | {"training": training}
