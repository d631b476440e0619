"""The table of result files: the report finds every file by name, what a run has follows from its kind, the report
rule declares exactly what the report reads, and a page can do without the files it may lack."""

from pathlib import Path

import pytest
from conftest import TINY_STUDY, validated_study

from faceaudit.report.results import load_run
from faceaudit.study import audited_runs, derived_runs, expand_runs, seed_configurations
from faceaudit.study.result_files import (
    AUDIT_FILES,
    check_declared,
    report_files,
    report_inputs,
    run_pattern,
)


@pytest.fixture(scope="module")
def tiny():
    config = validated_study(TINY_STUDY)
    trained = expand_runs(config)
    classifiers = {name: run for name, run in trained.items() if run["model"] != "vae"}
    runs = classifiers | derived_runs(config, classifiers) | audited_runs(config)
    return runs, report_files(runs, {}, ["faces", "other_faces"], seed_configurations(runs), root="results")


def test_each_file_is_found_by_its_name_where_its_rule_writes_it(tiny):
    _, files = tiny
    test = files["runs"]["gender_cnn"]["eval_sets"]["other_faces-test"]
    for name in (*AUDIT_FILES, "rejects", "gallery"):
        assert test[name] == Path(run_pattern(name).format(run="gender_cnn", eval_set="other_faces-test")), name
    assert files["datasets"]["faces"]["manifest"] == Path("results/data/faces/manifest.csv")


def test_what_a_run_has_follows_from_its_kind(tiny):
    runs, files = tiny
    by_run = files["runs"]
    post = "gender_seeds__seed0__post_threshold_optimizer_equalized_odds"
    # A post-processed run shows its source run's curves and has no gallery (its model saw no images here).
    assert by_run[post]["curves"] == Path("results/runs/gender_seeds__seed0/figures/training_curves.png")
    assert by_run[post]["eval_sets"]["test"]["gallery"] is None
    # A model file has a gallery and no curves; prediction files have neither.
    assert by_run["gender_cnn_file__external"]["curves"] is None
    assert by_run["gender_cnn_file__external"]["eval_sets"]["test"]["gallery"] is not None
    assert by_run["gender_cnn_csv__imported"]["eval_sets"]["test"]["gallery"] is None
    assert set(by_run) == set(runs)
    assert {name: set(run["eval_sets"]) for name, run in by_run.items()} == {
        name: set(run["eval_sets"]) for name, run in runs.items()
    }
    assert set(files["seeds"]) == {"gender_seeds", "gender_seeds__post_threshold_optimizer_equalized_odds"}


def test_the_report_refuses_a_file_its_rule_does_not_declare(tiny):
    _, files = tiny
    declared = report_inputs(files)
    assert len(declared) == len(set(declared))
    check_declared(files, declared)
    missing = "results/runs/gender_cnn/subgroups/test.json"
    with pytest.raises(ValueError, match="1 file.*does not declare.*gender_cnn/subgroups/test.json"):
        check_declared(files, [path for path in declared if path != missing])


def test_a_run_page_does_without_the_files_it_may_lack(tmp_path):
    """A results folder with only run.json, metrics and fairness (e.g. written before calibration existed)."""
    run = {"run": "old", "model": "mlp", "eval_sets": ["test"]}
    files = report_files({"old": run}, {}, [], root=tmp_path)["runs"]["old"]
    for name in ("run_info", "metrics", "fairness"):
        path = files[name] if name == "run_info" else files["eval_sets"]["test"][name]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    loaded = load_run(files)
    assert loaded["metrics"] == {"test": {}}
    assert [loaded[key]["test"] for key in ("calibration", "subgroups", "galleries", "rejects")] == [None] * 4
