"""Send a job's output, TensorFlow's C++ messages included, to its Snakemake log file, and keep the console that
Snakemake shows for the few lines a user should see while the job runs (console_line)."""

import os
import sys

_console = None  # the job's original stderr once redirect_output_to has run: what Snakemake's console shows


def redirect_output_to(log_path: str) -> None:
    """Everything the job prints goes to log_path from now on; console_line still reaches the console.

    Call it before TensorFlow loads: its start-up lines (oneDNN, absl, CUDA) are printed by C++ code on file
    descriptor 2 before any Python setting can silence them, so they land in the log, not in front of the user.
    """
    global _console
    # Leaves TensorFlow's warnings and errors in the log, drops its INFO lines (CPU instruction sets and the like).
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    _console = os.fdopen(os.dup(2), "w", buffering=1)
    log = open(log_path, "w", buffering=1)
    # dup2 on the file descriptors, so messages written by C++ code (TensorFlow) land in the log too.
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout = sys.stderr = log


def console_line(text: str) -> None:
    """One line for the user: in the log, and on the console when the job's output goes to a log."""
    print(text, file=sys.stderr, flush=True)
    if _console is not None:
        print(text, file=_console, flush=True)
