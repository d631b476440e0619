"""What a run records about itself: its spec, model size and architecture, throughput and where it ran."""

import os
import socket

from faceaudit.training.runtime import gpu_names


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
        "gpus": gpu_names(),
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
    }
