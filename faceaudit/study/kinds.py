"""The kinds of run a study holds, one row each: what makes a run of that kind, how its name shows it, and what it
has. The workflow's rules, the study checks and the report read this table instead of telling kinds apart by hand.

A run's kind shows in its name so that Snakemake can tell which rule makes a file from the path alone: a run under
results/runs/ is trained here unless its name holds another kind's marker (`<run>__post_<name>`,
`<experiment>__external`, `<experiment>__imported`); generative models live under results/vae/. An experiment's own
name may hold no marker (study.checks)."""

import re
from dataclasses import dataclass

from faceaudit.catalog import GENERATIVE_MODELS


@dataclass(frozen=True)
class RunKind:
    name: str
    description: str  # what such a run is, in a sentence's middle ("a post-processed run")
    folder: str  # its files: results/<folder>/<run>/
    marker: str  # the part of its name that says its kind ("" where the folder and no marker say it)
    marker_ends_name: bool  # `<experiment>__external`, or `<run>__post_<name>` with a name after the marker
    trains: bool  # a model is trained here (a training job, a model file, a training history)
    has_images: bool  # a model ran on the eval set's images here: its predictions come with a gallery of faces
    has_curves: bool  # the report shows training curves (its own, or those of the run it derives from)
    run_info_rule: str  # the rule that writes its run.json
    predictions_rule: str | None  # the rule that writes results/runs/<run>/predictions/<eval set>.csv


TRAINED = RunKind(
    name="trained",
    description="a classifier trained here",
    folder="runs",
    marker="",
    marker_ends_name=True,
    trains=True,
    has_images=True,
    has_curves=True,
    run_info_rule="train",
    predictions_rule="predict",
)
GENERATIVE = RunKind(
    name="generative",
    description="a generative model trained here",
    folder="vae",
    marker="",
    marker_ends_name=True,
    trains=True,
    has_images=False,
    has_curves=False,
    run_info_rule="train_vae",
    predictions_rule=None,
)
POST_PROCESSED = RunKind(
    name="post_processed",
    description="a post-processed run",
    folder="runs",
    marker="__post_",
    marker_ends_name=False,
    trains=False,
    has_images=False,
    has_curves=True,  # the curves of the run whose scores it post-processes
    run_info_rule="post_process",
    predictions_rule="apply_post_processing",
)
EXTERNAL = RunKind(
    name="external",
    description="a run of `model: external`",
    folder="runs",
    marker="__external",
    marker_ends_name=True,
    trains=False,
    has_images=True,
    has_curves=False,
    run_info_rule="audited_run_info",
    predictions_rule="predict_external",
)
IMPORTED = RunKind(
    name="imported",
    description="a run of `model: imported`",
    folder="runs",
    marker="__imported",
    marker_ends_name=True,
    trains=False,
    has_images=False,
    has_curves=False,
    run_info_rule="audited_run_info",
    predictions_rule="import_predictions",
)
KINDS = (TRAINED, GENERATIVE, POST_PROCESSED, EXTERNAL, IMPORTED)
KINDS_BY_NAME = {kind.name: kind for kind in KINDS}
MARKED = tuple(kind for kind in KINDS if kind.marker)
# The audited models' kinds, by the model name an experiment gives (`model: external`, `model: imported`).
AUDITED_KINDS = {kind.name: kind for kind in (EXTERNAL, IMPORTED)}


def name_pattern(kind: RunKind) -> str:
    """A regular expression matching exactly the names of this kind's runs (one path component): a marked kind's
    names hold its marker where it belongs; an unmarked kind's hold none of the marked kinds' markers."""
    if kind.marker:
        return rf"[^/]+{re.escape(kind.marker)}" + ("" if kind.marker_ends_name else r"[^/]+")
    return rf"(?![^/]*(?:{'|'.join(marker_in_name(marked) for marked in MARKED)}))[^/]+"


def marker_in_name(kind: RunKind) -> str:
    return re.escape(kind.marker) + (r"(?![^/])" if kind.marker_ends_name else "")


def kind_of_run(spec: dict) -> RunKind:
    """The kind of a run from its spec (study.expand_runs, derived_runs, audited_runs)."""
    if "post_processing" in spec:
        return POST_PROCESSED
    if spec["model"] in AUDITED_KINDS:
        return AUDITED_KINDS[spec["model"]]
    return GENERATIVE if spec["model"] in GENERATIVE_MODELS else TRAINED


def kind_of_experiment(experiment: dict) -> RunKind:
    """The kind of an experiment's runs before derivation (its post-processed runs are POST_PROCESSED)."""
    return kind_of_run({"model": experiment["model"]})


def runs_of_kind(runs: dict, *kinds: RunKind) -> dict:
    """The runs (name: spec) of the given kinds, in their order."""
    return {name: run for name, run in runs.items() if kind_of_run(run) in kinds}


def reserved_markers() -> dict[str, str]:
    """{marker: what a run whose name holds it is}: no experiment's own name may hold one."""
    return {kind.marker: kind.description for kind in MARKED}
