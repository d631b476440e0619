"""Names are checked when the config is validated, with the rule in the message: label, dataset and experiment names
by the schema's patterns (a label becomes a Keras layer and CSV columns), class names, which are data, only where
the workflow's files could not give them back."""

import io

import pandas as pd
import pytest
import yaml
from conftest import SCHEMA

from faceaudit.evaluation.metrics import compute_metrics
from faceaudit.study import check_study
from faceaudit.study.names import CLASS_NAME_RULE
from faceaudit.study.validation import ConfigError, validate_config

STUDY = """
datasets:
  faces:
    layout: synthetic
    labels:
      gender: [Female, Male]
      group: [A, B]
experiments:
  gender_mlp: {dataset: faces, targets: [gender], model: mlp}
"""


def study(**changes) -> dict:
    config = yaml.safe_load(STUDY)
    for key, value in changes.items():
        config["datasets"]["faces"][key] = value
    return config


def schema_error(config: dict) -> str:
    """The message with its wrapped lines joined."""
    with pytest.raises(ConfigError) as error:
        validate_config(config, SCHEMA)
    return " ".join(str(error.value).split())


@pytest.mark.parametrize("label", ["hair color", "age<b>", "größe", "hair-color"])
def test_a_label_name_beyond_letters_digits_and_underscores_is_refused_with_the_rule(label):
    message = schema_error(study(labels={label: ["no", "yes"], "gender": ["Female", "Male"]}))

    assert message.startswith(f"Config error at datasets.faces.labels: '{label}' does not match '^[A-Za-z0-9_]+$'")
    assert "A label name is letters, digits and underscores" in message


@pytest.mark.parametrize("label", ["path", "split", "reason"])
def test_a_label_named_like_a_manifest_column_is_refused(label):
    message = schema_error(study(labels={label: ["no", "yes"], "gender": ["Female", "Male"]}))

    assert f"'{label}' should not be valid" in message and "not path, split or reason" in message


def test_the_label_rule_is_what_keras_needs():
    """Names at the edges of the pattern build and train; a refused one stops Keras after preprocessing."""
    import numpy as np

    from faceaudit.models import build_model

    def train_a_step(label: str) -> None:
        model = build_model("mlp", (4, 4, 1), {label: 2})
        model.compile(optimizer="adam", loss={label: "sparse_categorical_crossentropy"})
        model.fit(np.zeros((2, 4, 4, 1), "uint8"), {label: np.zeros(2, "int32")}, epochs=1, verbose=0)

    for label in ("5_o_Clock_Shadow", "_x", "A1"):
        train_a_step(label)
    with pytest.raises(ValueError, match="'hair color' is not a valid scope name"):
        train_a_step("hair color")


def test_dataset_and_experiment_names_state_their_rule():
    config = yaml.safe_load(STUDY)
    config["datasets"]["my faces"] = config["datasets"].pop("faces")
    assert "A dataset name is a letter, then letters, digits or underscores" in schema_error(config)

    config = yaml.safe_load(STUDY)
    config["experiments"]["gender:mlp"] = config["experiments"].pop("gender_mlp")
    message = schema_error(config)
    assert message.startswith("Config error at experiments: 'gender:mlp' does not match")
    assert "An experiment name is a letter, then letters, digits or underscores" in message


ALLOWED_CLASS_NAMES = ["more than 70", "Latino_Hispanic", "a, b", 'say "hi"', "$x$", "été", "0-2", " padded "]
REFUSED_CLASS_NAMES = {
    "1": "comes back from a CSV column as a number",
    "2.5": "comes back from a CSV column as a number",
    "True": "comes back from a CSV column as a number, boolean",
    "NA": "missing value",
    "null": "missing value",
    "": "is empty",
    "  ": "is empty",
    "a\tb": "holds a control character",
    "a\nb": "holds a control character",
}


@pytest.mark.parametrize("class_name", ALLOWED_CLASS_NAMES)
def test_class_names_may_hold_spaces_and_punctuation(class_name):
    config = study(labels={"gender": [class_name, "other"], "group": ["A", "B"]})
    validate_config(config, SCHEMA)

    check_study(config)


@pytest.mark.parametrize("class_name", sorted(REFUSED_CLASS_NAMES))
def test_a_class_name_the_files_cannot_give_back_is_refused_with_the_rule(class_name):
    config = study(labels={"gender": ["other", class_name], "group": ["A", "B"]})
    validate_config(config, SCHEMA)

    with pytest.raises(ValueError) as error:
        check_study(config)

    message = str(error.value)
    assert message.startswith(f"datasets.faces.labels.gender: class {class_name!r} ")
    assert REFUSED_CLASS_NAMES[class_name] in message and CLASS_NAME_RULE in message


def metrics_through_a_predictions_file(classes: list[str]) -> dict:
    """Write predictions of a target with these classes and read them back as workflow/scripts/evaluate.py does."""
    true = [classes[index % 2] for index in range(6)]
    table = pd.DataFrame(
        {"path": [f"{n}.jpg" for n in range(6)], "t_true": true, "t_pred": true, "t_score_0": 0.5, "t_score_1": 0.5}
    )
    predictions = pd.read_csv(io.StringIO(table.to_csv(index=False)), dtype={"path": str})
    return compute_metrics(predictions, {"t": classes}, {"t": classes[1]})


@pytest.mark.parametrize("class_name", ALLOWED_CLASS_NAMES)
def test_allowed_class_names_come_through_the_evaluation(class_name):
    metrics = metrics_through_a_predictions_file([class_name, "other"])

    assert metrics["t"]["accuracy"] == 1.0


@pytest.mark.parametrize("classes", [["1", "2"], ["2.5", "1.5"], ["True", "False"], ["NA", "yes"], ["null", "yes"]])
def test_refused_class_names_would_not_come_through_the_evaluation(classes):
    """A column that holds only such names (a binary target, a model predicting one class) comes back as numbers,
    booleans or NaN; NA-like names always do."""
    with pytest.raises(ValueError, match="is not one of the classes"):
        metrics_through_a_predictions_file(classes)
