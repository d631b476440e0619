"""What a run records about itself: its spec, model size and architecture, throughput, where it ran and what it
cost (compute accounting: wall time, GPUs and GPU-hours, CPUs and CPU-hours, images/s, peak host memory, and on
SLURM the job id, node and queue wait)."""

import os
import resource
import shutil
import socket
import statistics
import subprocess
from datetime import datetime

from faceaudit.training.runtime import gpu_names

SACCT_SECONDS = 20  # sacct asks slurmdbd; a busy or absent database must not hold up a finished run for long


def run_info(
    spec: dict,
    threads: int,
    model,
    pixel_range,
    epochs_completed: int,
    training_seconds: float,
    images_per_second: list,
) -> dict:
    import keras
    import tensorflow as tf

    summary_lines = []
    model.summary(print_fn=lambda line, **kwargs: summary_lines.append(line))
    gpus = gpu_names()
    return {
        **spec,
        "threads": threads,
        "parameters": int(model.count_params()),
        "architecture": "\n".join(summary_lines),
        "pixel_range": list(pixel_range),
        "epochs_completed": epochs_completed,
        "training_seconds": round(training_seconds, 2),
        "images_per_second": images_per_second,
        "host": socket.gethostname(),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        "gpus": gpus,
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "compute": compute_accounting(training_seconds, images_per_second, threads, len(gpus), os.environ),
    }


def compute_accounting(
    training_seconds: float, images_per_second: list, threads: int, visible_gpus: int, environ
) -> dict:
    """What the run cost. GPUs and CPUs count what the run holds: SLURM's allocation in a SLURM job (what the
    cluster bills, also when TensorFlow cannot use a GPU it was given), else the GPUs TensorFlow sees and the run's
    thread count. Hours are those counts times the training wall time."""
    gpu_count = slurm_gpus(environ) if "SLURM_JOB_ID" in environ else None
    gpu_count = visible_gpus if gpu_count is None else gpu_count
    cpu_count = int(environ.get("SLURM_CPUS_PER_TASK") or threads)
    hours = training_seconds / 3600
    return {
        "wall_seconds": round(training_seconds, 2),
        "gpu_count": gpu_count,
        "gpu_hours": round(gpu_count * hours, 6),
        "cpu_count": cpu_count,
        "cpu_hours": round(cpu_count * hours, 6),
        "images_per_second": round(statistics.median(images_per_second), 1) if images_per_second else None,
        "peak_host_memory_mb": peak_host_memory_mb(),
        **slurm_accounting(environ),
    }


def peak_host_memory_mb() -> float:
    """The training process's peak resident memory (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def slurm_gpus(environ) -> int | None:
    """The GPUs SLURM gave the job: SLURM_GPUS_ON_NODE, else the ids in SLURM_JOB_GPUS; None where neither is set."""
    if environ.get("SLURM_GPUS_ON_NODE"):
        return int(environ["SLURM_GPUS_ON_NODE"])
    if environ.get("SLURM_JOB_GPUS"):
        return len(environ["SLURM_JOB_GPUS"].split(","))
    return None


def slurm_accounting(environ) -> dict:
    """Job id, node and queue wait (submit to start, from sacct) of the SLURM job the run trained in; outside SLURM
    all None. A queue wait that cannot be had is None with the reason in `queue_wait_note`."""
    job_id = environ.get("SLURM_JOB_ID")
    if job_id is None:
        return {
            "slurm_job_id": None,
            "slurm_node": None,
            "queue_wait_seconds": None,
            "queue_wait_note": "not a SLURM job",
        }
    wait, note = queue_wait(job_id)
    return {
        "slurm_job_id": job_id,
        "slurm_node": environ.get("SLURMD_NODENAME") or environ.get("SLURM_JOB_NODELIST"),
        "queue_wait_seconds": wait,
        "queue_wait_note": note,
    }


def queue_wait(job_id: str) -> tuple[float | None, str | None]:
    """(seconds from submission to start, None) from sacct, or (None, why not)."""
    sacct = shutil.which("sacct")
    if sacct is None:
        return None, "sacct not found"
    command = [sacct, "-j", job_id, "-X", "-n", "-P", "-o", "Submit,Start"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=SACCT_SECONDS)
    except subprocess.TimeoutExpired:
        return None, f"sacct gave no answer within {SACCT_SECONDS} s"
    if result.returncode != 0:
        return None, f"sacct failed: {(result.stderr.strip().splitlines() or ['no message'])[-1][:200]}"
    return parse_queue_wait(result.stdout, job_id)


def parse_queue_wait(sacct_output: str, job_id: str) -> tuple[float | None, str | None]:
    """sacct's `Submit|Start` line (the last: a requeued job's current instance) as seconds waited."""
    lines = [line for line in sacct_output.splitlines() if line.strip()]
    if not lines:
        return None, f"sacct knows no job {job_id} (accounting storage off?)"
    submit, start = lines[-1].split("|")[:2]
    try:
        waited = datetime.fromisoformat(start) - datetime.fromisoformat(submit)
    except ValueError:
        return None, f"sacct gave no start time for job {job_id}: {lines[-1]!r}"
    return round(waited.total_seconds(), 1), None
