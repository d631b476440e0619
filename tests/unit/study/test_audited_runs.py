"""Models trained elsewhere in the study config (`model: external`, `model: imported`) and label maps for
cross-dataset eval sets: what the config accepts, the runs it gives, and every refusal naming its key."""

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import SCHEMA

from faceaudit.evaluation.eval_rows import map_true_labels, read_eval_set
from faceaudit.external.models import SCALINGS
from faceaudit.study import audited_runs, check_study, expand_runs
from faceaudit.study.validation import validate_config

REPOSITORY = Path(__file__).resolve().parents[3]

STUDY = """
seed: 1
datasets:
  faces:
    layout: synthetic
    labels: {gender: [Female, Male], group: [A, B], age_years: numeric}
    sensitive_attributes: [group]
  others:
    layout: synthetic
    labels: {gender: [woman, man], group: [A, B], age_years: numeric}
    sensitive_attributes: [group]
experiments:
  gender_mlp:
    dataset: faces
    targets: [gender]
    model: mlp
    eval_sets: [test, "others:test"]
    label_maps: {others: {gender: {woman: Female, man: Male}}}
  colleague:
    dataset: faces
    targets: [gender]
    model: external
    image: {size: 64, color: rgb}
    external: {file: models/colleague.keras, outputs: {gender: {output: 0, classes: [m, f]}},
               label_map: {gender: {m: Male, f: Female}}}
  course_csv:
    dataset: faces
    targets: [gender]
    model: imported
    imported: {files: {test: imports/test.csv, "others:test": imports/others.csv}}
    label_maps: {others: {gender: {woman: Female, man: Male}}}
"""


def study() -> dict:
    config = yaml.safe_load(STUDY)
    validate_config(config, SCHEMA)
    return config


def refusal(config: dict) -> str:
    with pytest.raises(ValueError) as error:
        check_study(config)
    return str(error.value)


def test_models_trained_elsewhere_are_runs_of_their_own_shape_and_never_trained():
    config = study()
    check_study(config)
    runs = audited_runs(config)
    assert set(runs) == {"colleague__external", "course_csv__imported"}
    assert set(expand_runs(config)) == {"gender_mlp"}, "nothing trains a model made elsewhere"
    assert runs["course_csv__imported"]["eval_sets"] == ["test", "others-test"]
    external = runs["colleague__external"]
    assert external["eval_sets"] == ["test"] and (external["image_size"], external["color"]) == (64, "rgb")
    assert external["external"]["scaling"] == "unit", "the schema's default"
    assert "training" not in external and "resources" not in external


def test_an_external_model_without_outputs_maps_output_i_to_target_i_in_the_datasets_class_order():
    config = study()
    del config["experiments"]["colleague"]["external"]["outputs"]
    del config["experiments"]["colleague"]["external"]["label_map"]
    outputs = audited_runs(config)["colleague__external"]["external"]["outputs"]
    assert outputs == {"gender": {"output": 0, "classes": ["Female", "Male"]}}


def test_schema_scalings_are_those_the_external_model_code_knows():
    schema = yaml.safe_load(Path(SCHEMA).read_text())
    branch = next(
        part["then"]["properties"]["external"]
        for part in schema["properties"]["experiments"]["additionalProperties"]["allOf"]
        if part["if"]["properties"]["model"] == {"const": "external"}
    )
    assert sorted(branch["properties"]["scaling"]["enum"]) == sorted(SCALINGS)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda c: c["experiments"]["gender_mlp"].pop("label_maps"),
            "experiments.gender_mlp.eval_sets: 'others:test': label 'gender' of dataset 'others' is ['woman', 'man']",
        ),
        (
            lambda c: c["experiments"]["gender_mlp"]["label_maps"]["others"]["gender"].update(man="Mann"),
            "experiments.gender_mlp.label_maps.others.gender: 'man' maps to 'Mann', not a class (Female, Male)",
        ),
        (
            lambda c: c["experiments"]["gender_mlp"]["label_maps"].update(faces={"gender": {}}),
            "experiments.gender_mlp.label_maps.faces: no cross-dataset eval set of this experiment reads 'faces'",
        ),
        (
            lambda c: c["experiments"]["colleague"]["external"]["label_map"]["gender"].pop("f"),
            "experiments.colleague.external.outputs.gender.classes: 'f' is not a class of 'gender'",
        ),
        (
            lambda c: c["experiments"]["colleague"]["external"]["outputs"].update(age_years={"output": 1}),
            "experiments.colleague.external.outputs: 'age_years' is not one of the targets ['gender']",
        ),
        (
            lambda c: c["experiments"].update(x__external=c["experiments"].pop("colleague")),
            "experiments.x__external: '__external' in a name marks a run of `model: external`",
        ),
        (
            lambda c: c["experiments"]["course_csv"]["imported"]["files"].update({"faces:val": "a.csv"}),
            None,
        ),
    ],
)
def test_refusals_name_the_key(change, expected):
    config = study()
    change(config)
    if expected is None:  # another dataset's name for the experiment's own: accepted
        check_study(config)
        return
    assert refusal(config).startswith(expected), refusal(config)


def test_another_datasets_true_labels_are_mapped_and_the_rows_without_a_mapping_written_down():
    rows = pd.DataFrame({"path": ["a.jpg", "b.jpg", "c.jpg", "d.jpg"], "gender": ["woman", "man", "unknown", "other"]})
    maps = {"gender": {"woman": "Female", "man": "Male", "other": None}}
    kept, keep, rejects = map_true_labels(rows, {"gender": ["Female", "Male"]}, maps, "experiments.x.label_maps.o")
    assert kept.to_dict("list") == {"path": ["a.jpg", "b.jpg"], "gender": ["Female", "Male"]}
    assert keep.tolist() == [True, True, False, False]
    assert rejects[["row", "id", "kind"]].to_dict("list") == {
        "row": [3, 4],
        "id": ["c.jpg", "d.jpg"],
        "kind": ["rejected", "left_out"],
    }
    assert rejects["reason"].iloc[0] == "no mapping for 'unknown' in experiments.x.label_maps.o.gender"


def test_without_a_map_the_rows_are_taken_as_they_are():
    rows = pd.DataFrame({"path": ["a.jpg"], "gender": ["Female"]})
    kept, keep, rejects = map_true_labels(copy.deepcopy(rows), {"gender": ["Female", "Male"]}, {}, "k")
    pd.testing.assert_frame_equal(kept, rows)
    assert keep.all() and rejects.empty


def test_the_fairface_published_model_config_is_one_imported_run_in_fairfaces_format():
    config = yaml.safe_load((REPOSITORY / "config/fairface_published.yaml").read_text())
    validate_config(config, SCHEMA)
    check_study(config)
    (run,) = audited_runs(config).values()
    assert run["run"] == "fairface_published__imported" and run["imported"]["format"] == "fairface"
    assert list(run["targets"]) == ["race", "gender", "age"] and run["eval_sets"] == ["test"]


def test_an_eval_set_read_from_disk_keeps_the_images_of_the_rows_a_map_keeps(tmp_path):
    images = np.arange(4, dtype=np.uint8).reshape(4, 1, 1, 1) * np.ones((1, 2, 2, 1), np.uint8)
    np.save(tmp_path / "test.npy", images)
    pd.DataFrame({"path": list("abcd"), "gender": ["woman", "x", "man", "woman"]}).to_csv(
        tmp_path / "test.csv", index=False
    )
    evaluation = {
        "targets": {"gender": ["Female", "Male"]},
        "label_maps": {"gender": {"woman": "Female", "man": "Male"}},
        "label_maps_key": "experiments.e.label_maps.others",
    }
    kept, rows, rejects = read_eval_set(tmp_path / "test.npy", tmp_path / "test.csv", "others-test", evaluation)
    assert [int(image[0, 0, 0]) for image in kept] == [0, 2, 3] and list(rows["path"]) == ["a", "c", "d"]
    assert list(rejects["id"]) == ["b"]

    evaluation["label_maps"] = {"gender": {"woman": None, "man": None, "x": None}}
    with pytest.raises(ValueError, match="eval set 'others-test': experiments.e.label_maps.others refuses or leaves"):
        read_eval_set(tmp_path / "test.npy", tmp_path / "test.csv", "others-test", evaluation)
