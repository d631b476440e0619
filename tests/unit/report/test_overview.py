"""The index's run tables: one per dataset, target and eval set, best and worst marked within each; what each run's
training cost and the study's totals (GPU-hours, CPU-hours, longest job)."""

import pytest

from faceaudit.report.overview import compute_record, compute_table, overview


def run(name: str, dataset: str, eval_sets: list[str]) -> dict:
    return {"run": name, "model": "small_cnn", "dataset": dataset, "eval_sets": eval_sets, "targets": {"gender": []}}


def result(accuracy: float, seconds: float, compute: dict | None = None) -> dict:
    metrics = {"gender": {"kind": "binary", "positive_class": "Male", "accuracy": accuracy, "roc": {"auc": 0.5}}}
    info = {"training_seconds": seconds, "gpus": [], "threads": 2, "images_per_second": [10.0, 30.0, 20.0]}
    if compute is not None:
        info["compute"] = compute
    return {
        "metrics": {"val": metrics, "test": metrics},
        "fairness": {"val": {"gender": {}}, "test": {"gender": {}}},
        "info": info | {"host": "laptop"},
    }


def accounting(seconds: float, gpus: int, cpus: int, node: str | None = "gpu07") -> dict:
    return {
        "wall_seconds": seconds,
        "gpu_count": gpus,
        "gpu_hours": gpus * seconds / 3600,
        "cpu_count": cpus,
        "cpu_hours": cpus * seconds / 3600,
        "images_per_second": 100.0,
        "peak_host_memory_mb": 2048.0,
        "slurm_job_id": "17",
        "slurm_node": node,
        "queue_wait_seconds": 4.0,
        "queue_wait_note": None,
    }


@pytest.fixture
def study():
    runs = {
        "a": run("a", "faces", ["val", "test"]),
        "b": run("b", "faces", ["test"]),
        "c": run("c", "other", ["test"]),
        "d": run("d", "faces", ["test"]),
    }
    results = {
        "a": result(0.9, 7200.0, accounting(7200.0, gpus=2, cpus=8)),
        "b": result(0.6, 3600.0, accounting(3600.0, gpus=1, cpus=4, node=None)),
        "c": result(0.7, 60.0),
        "d": result(0.8, 10.0),
    }
    return runs, results


def test_a_table_per_dataset_target_and_eval_set_marks_best_and_worst_within_it(study):
    tables = overview(*study)["tables"]
    groups = [(table["dataset"], table["target"], table["eval_set"]) for table in tables]
    assert groups == [
        ("faces", "gender (positive: Male)", "val"),
        ("faces", "gender (positive: Male)", "test"),
        ("other", "gender (positive: Male)", "test"),
    ]
    faces_test = tables[1]
    assert [row["run"] for row in faces_test["rows"]] == ["a", "b", "d"]
    marks = {row["run"]: row["cells"][0]["mark"] for row in faces_test["rows"]}
    assert marks == {"a": "best", "b": "worst", "d": None}
    assert tables[0]["rows"][0]["cells"][0]["mark"] is None, "one run alone is neither best nor worst"
    assert faces_test["rows"][0]["cells"][0]["key"] == "test.gender.accuracy"


def test_compute_totals_sum_gpu_and_cpu_hours_and_name_the_longest_job(study):
    runs, results = study
    compute = compute_table(runs, results)
    # a: 2 GPUs x 2 h, 8 CPUs x 2 h; b: 1 GPU x 1 h, 4 CPUs x 1 h; c, d: written before accounting, 2 threads, no GPU.
    assert compute["totals"]["GPU-hours"] == pytest.approx(5.0)
    assert compute["totals"]["CPU-hours"] == pytest.approx(16 + 4 + 2 * 70 / 3600)
    assert compute["totals"]["longest job"] == "a (7200.0 s)" and compute["totals"]["runs"] == 4
    # A post-processed run carries its source's run.json (and record) but trained nothing: not counted again.
    runs["a__post_threshold"] = run("a__post_threshold", "faces", ["test"])
    results["a__post_threshold"] = result(0.9, 7200.0, accounting(7200.0, gpus=2, cpus=8))
    results["a__post_threshold"]["info"]["origin"] = "post_processing"
    assert compute_table(runs, results)["totals"]["GPU-hours"] == pytest.approx(5.0)
    headers = compute["headers"]
    row_b = dict(zip(headers[1:], (cell["value"] for cell in compute["rows"][1]["cells"]), strict=True))
    assert row_b["node"] == "laptop", "no SLURM node: the host it ran on"
    assert (row_b["GPU-hours"], row_b["queue wait s"], row_b["SLURM job"]) == (1.0, 4.0, "17")


def test_a_run_json_without_accounting_shows_what_can_be_derived():
    record = compute_record(result(0.5, 36.0)["info"])
    assert (record["gpu_hours"], record["cpu_count"], record["cpu_hours"]) == (0, 2, 0.02)
    assert record["images_per_second"] == 20.0 and record["peak_host_memory_mb"] is None
