"""The audit job: one eval set's predictions read once, every audit file written under the name the table of result
files gives it, each the same as the function behind it computes on its own."""

import json

import numpy as np
import pandas as pd

from faceaudit.evaluation.audit import audit_eval_set, audit_group_calibration, audit_group_fairness, audit_metrics
from faceaudit.study.result_files import AUDIT_FILES, FOLDERS, run_pattern

GENDER = ["Female", "Male"]


def predictions(rows: int = 240) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    truth = rng.integers(0, 2, rows)
    group = rng.choice(["A", "B"], rows, p=[0.6, 0.4])
    right = rng.random(rows) < np.where(group == "B", 0.7, 0.9)
    score_male = np.clip(np.where(right == (truth == 1), 0.8, 0.2) + rng.normal(0, 0.1, rows), 0.01, 0.99)
    return pd.DataFrame(
        {
            "path": [f"{index:03d}.jpg" for index in range(rows)],
            "gender_true": np.asarray(GENDER)[truth],
            "gender_pred": np.asarray(GENDER)[(score_male > 0.5).astype(int)],
            "gender_score_0": 1 - score_male,
            "gender_score_1": score_male,
            "group": group,
        }
    )


EVALUATION = {
    "targets": {"gender": GENDER},
    "positive_classes": {"gender": "Male"},
    "ordinal_targets": [],
    "sensitive_attributes": ["group"],
    "intersections": [],
    "privileged_groups": {"group": "A"},
    "audit": {
        "bootstrap_resamples": 50,
        "seed": 0,
        "min_group_size": 30,
        "min_positives": 10,
        "multiple_comparisons": "holm",
    },
    "calibration_audit": {"bootstrap_resamples": 50, "seed": 0, "calibration_bins": 10},
    "scanned_attributes": {"group": ["A", "B"], "gender": GENDER},
    "subgroup_search": {"subgroup_depth": 1, "subgroups_reported": 1, "subgroup_scan_restarts": 1},
}


def test_the_audit_writes_every_file_of_the_table_as_its_functions_compute_them(tmp_path):
    table = predictions()
    path = tmp_path / "predictions.csv"
    table.to_csv(path, index=False)
    outputs = {name: tmp_path / run_pattern(name).format(run="run", eval_set="test") for name in AUDIT_FILES}
    for output in outputs.values():
        output.parent.mkdir(parents=True, exist_ok=True)

    audit_eval_set(path, EVALUATION, outputs)

    for name, output in outputs.items():
        assert output.is_dir() if name in FOLDERS else output.is_file(), name
    assert {figure.suffix for name in FOLDERS for figure in outputs[name].iterdir()} == {".png"}
    read = pd.read_csv(path, dtype={"path": str})
    assert json.loads(outputs["metrics"].read_text()) == json.loads(json.dumps(audit_metrics(read.copy(), EVALUATION)))
    fairness = audit_group_fairness(read.copy(), EVALUATION)
    assert json.loads(outputs["fairness"].read_text()) == json.loads(json.dumps(fairness))
    calibration, thresholds = audit_group_calibration(read.copy(), EVALUATION)
    written = json.loads(outputs["calibration"].read_text())
    assert written == json.loads(json.dumps({"calibration": calibration, "thresholds": thresholds}))
    assert set(json.loads(outputs["subgroups"].read_text())["targets"]) == {"gender"}
