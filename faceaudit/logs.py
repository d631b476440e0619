"""Send a job's output, TensorFlow's C++ messages included, to its Snakemake log file."""

import os
import sys


def redirect_output_to(log_path: str) -> None:
    log = open(log_path, "w", buffering=1)
    # dup2 on the file descriptors, so messages written by C++ code (TensorFlow) land in the log too.
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout = sys.stderr = log
