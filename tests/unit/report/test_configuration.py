"""The configuration the report shows: what the user's config files (and --config) set, read back from the files,
and apart from it the defaults that validating against the real schema filled in."""

import copy
from pathlib import Path

import yaml
from conftest import SCHEMA
from snakemake.utils import validate

from faceaudit.report.configuration import configuration_context, configured_by_user, filled_defaults

REPO = Path(__file__).resolve().parents[3]


def test_config_files_merge_like_snakemake_then_the_command_line_wins(tmp_path):
    first, second = tmp_path / "study.yaml", tmp_path / "more.yaml"
    first.write_text("seed: 1\ndatasets:\n  faces: {layout: synthetic, labels: {gender: [F, M]}}\n")
    second.write_text("datasets:\n  faces: {labels: {group: [A, B]}}\n")

    user = configured_by_user([first, second], {"seed": 7})

    labels = {"gender": ["F", "M"], "group": ["A", "B"]}
    assert user == {"seed": 7, "datasets": {"faces": {"layout": "synthetic", "labels": labels}}}


def test_defaults_are_what_validation_added_to_the_tiny_study():
    user = yaml.safe_load((REPO / "tests/tiny_study.yaml").read_text())
    config = copy.deepcopy(user)
    validate(config, str(SCHEMA), set_default=True)

    defaults = dict(filled_defaults(config, user))

    assert defaults["experiments.gender_cnn.optimizer"] == "adam"
    assert defaults["datasets.faces.synthetic.groups[0].label_noise"] == 0.0, "an item of a list of blocks"
    assert "datasets.faces.synthetic.groups[1].label_noise" not in defaults, "group B sets its label noise"
    assert "experiments.gender_cnn.epochs" not in defaults and "seed" not in defaults
    assert "archive_limits" in defaults, "a block the study does not mention is one default"
    assert defaults["audit.bootstrap_resamples"] == 1000, "a default inside a block the study sets in part"
    context = configuration_context(config, user)
    assert yaml.safe_load(context["set"]) == user
    shown = {row["key"]: row["value"] for row in context["defaults"]}
    assert yaml.safe_load(shown["archive_limits"]) == config["archive_limits"], "on one line, readable as YAML"
