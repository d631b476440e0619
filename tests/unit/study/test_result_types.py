"""The declared shapes of the result files: what `problems` reports when a file departs from its shape (the
integration test checks the tiny study's real files against every shape)."""

from faceaudit.study.result_types import Calibration, Fairness, Gallery, Metrics, SeedAggregate, problems


def test_a_conforming_file_has_no_problems():
    metrics = {"age_years": {"kind": "regression", "n": 4, "mae": 1.5, "rmse": 2, "mean_error": None, "r2": 0.3}}
    assert problems(metrics, Metrics) == []


def test_a_missing_key_an_undeclared_key_and_a_wrong_type_are_each_named_with_their_path():
    gallery = {"show_faces": "yes", "thumbnail_px": 48, "gradcam_layer": None, "targets": {}, "colour": "red"}
    assert problems(gallery, Gallery) == [
        "$: no key 'gradcam_note'",
        "$.colour: a key Gallery does not declare",
        "$.show_faces: str, not bool",
    ]


def test_nested_nodes_are_checked_through_dicts_lists_and_unions():
    fairness = {"gender": {"group": {"groups": {"A": {"n": "12"}}}, "skipped_attributes": {}}}
    assert problems(fairness, Fairness) == ["$.gender.group.groups.A.n: str, not int"]
    calibration = {"calibration": {"gender": {"bins": 10, "overall": []}}, "thresholds": {}}
    assert problems(calibration, Calibration) == ["$.calibration.gender.overall: list, not an object"]


def test_a_seed_aggregate_holds_its_common_keys_and_one_node_per_target():
    aggregate = {"runs": ["a", "b"], "resamples": 10, "method": "mean", "gender": {"overall": {"accuracy": {}}}}
    assert problems(aggregate, SeedAggregate) == []
    assert problems(aggregate | {"gender": {"overall": {"accuracy": {"mean": "high"}}}}, SeedAggregate) == [
        "$.gender.overall.accuracy.mean: str, not float"
    ]
