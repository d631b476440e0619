"""Compute accounting in run.json: a real training run's wall time, GPUs, CPUs, images/s and peak memory; on SLURM
the job id, node and queue wait, or the reason there is none."""

import json
import shutil

import pytest
from training_helpers import run_spec, train

from faceaudit.training.provenance import compute_accounting, parse_queue_wait

SLURM_VARIABLES = ("SLURM_JOB_ID", "SLURMD_NODENAME", "SLURM_JOB_NODELIST", "SLURM_GPUS_ON_NODE", "SLURM_JOB_GPUS")


def test_a_trained_run_records_what_it_cost(tmp_path, monkeypatch):
    for variable in (*SLURM_VARIABLES, "SLURM_CPUS_PER_TASK"):
        monkeypatch.delenv(variable, raising=False)
    out, _ = train(tmp_path, run_spec("mlp", {"gender": ["Female", "Male"]}, epochs=3))
    info = json.loads((out / "run.json").read_text())
    compute = info["compute"]
    assert compute["wall_seconds"] == info["training_seconds"] > 0
    assert compute["gpu_count"] == len(info["gpus"]) and compute["gpu_hours"] == pytest.approx(
        compute["gpu_count"] * compute["wall_seconds"] / 3600, abs=1e-5
    )
    assert compute["cpu_count"] == info["threads"] == 1
    # wall_seconds is rounded to 0.01 s, cpu_hours (to 6 decimals) is computed from the unrounded time.
    assert compute["cpu_hours"] == pytest.approx(compute["wall_seconds"] / 3600, abs=1e-5)
    assert compute["images_per_second"] == pytest.approx(sorted(info["images_per_second"])[1], abs=0.05)
    assert 200 < compute["peak_host_memory_mb"] < 64_000, "TensorFlow alone takes some hundred MB"
    assert compute["slurm_job_id"] is None and compute["slurm_node"] is None
    assert compute["queue_wait_seconds"] is None and compute["queue_wait_note"] == "not a SLURM job"


def test_a_slurm_job_counts_its_allocation_and_says_why_a_queue_wait_is_missing(monkeypatch):
    environ = {
        "SLURM_JOB_ID": "4242",
        "SLURMD_NODENAME": "gpu07",
        "SLURM_JOB_NODELIST": "gpu[07]",
        "SLURM_GPUS_ON_NODE": "2",
        "SLURM_CPUS_PER_TASK": "8",
    }
    compute = compute_accounting(1800.0, [100.0, 300.0, 200.0], threads=2, visible_gpus=0, environ=environ)
    assert (compute["gpu_count"], compute["gpu_hours"]) == (2, 1.0), "SLURM's GPUs, though TensorFlow sees none"
    assert (compute["cpu_count"], compute["cpu_hours"]) == (8, 4.0)
    assert compute["images_per_second"] == 200.0
    assert compute["slurm_job_id"] == "4242" and compute["slurm_node"] == "gpu07"
    # This machine has sacct but no accounting database running (or no job 4242): no number, and the reason.
    assert compute["queue_wait_seconds"] is None and compute["queue_wait_note"].startswith(("sacct", "sacct knows"))
    monkeypatch.setenv("PATH", str(shutil.which("python")).rsplit("/", 1)[0])
    assert compute_accounting(1.0, [], 1, 0, environ)["queue_wait_note"] == "sacct not found"


def test_queue_wait_is_submit_to_start_of_the_jobs_current_instance():
    assert parse_queue_wait("2024-05-01T10:00:00|2024-05-01T10:02:30\n", "7") == (150.0, None)
    requeued = "2024-05-01T10:00:00|2024-05-01T10:00:05\n2024-05-01T11:00:00|2024-05-01T11:00:40\n"
    assert parse_queue_wait(requeued, "7") == (40.0, None)
    assert parse_queue_wait("2024-05-01T10:00:00|Unknown\n", "7") == (
        None,
        "sacct gave no start time for job 7: '2024-05-01T10:00:00|Unknown'",
    )
    assert parse_queue_wait("", "7")[0] is None
