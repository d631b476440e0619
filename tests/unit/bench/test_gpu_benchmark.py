"""GPU training benchmark: the training benchmark for a CNN and a transfer model with GPU utilisation sampled from
nvidia-smi in a background thread; on a machine without nvidia-smi it says "no GPU" and still runs, small."""

import csv
import sys
import time

from faceaudit.bench import gpu as gpu_benchmark
from faceaudit.bench.gpu import NO_GPU, GpuUtilisation

TINY = ["--images", "16", "--batch-size", "8", "--epochs", "2", "--jpeg-side", "48"]
CASES = ["--cnn-model", "small_cnn", "--cnn-size", "16", "--transfer-model", "vgg16", "--transfer-size", "32"]


def test_without_nvidia_smi_it_says_no_gpu_and_writes_the_table(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no nvidia-smi, as on this machine
    monkeypatch.setattr(sys, "argv", ["gpu_benchmark", *TINY, *CASES, "--output-dir", str(tmp_path / "benchmarks")])

    gpu_benchmark.main()

    printed = capsys.readouterr().out
    assert printed.startswith(f"{NO_GPU}: nvidia-smi is not on PATH")
    rows = list(csv.DictReader(open(tmp_path / "benchmarks/gpu_training.csv")))
    assert [(row["case"], row["model"], row["size"], row["pipeline"][:4]) for row in rows] == [
        ("CNN", "small_cnn", "16", "ours"),
        ("CNN", "small_cnn", "16", "base"),
        ("transfer", "vgg16", "32", "ours"),
        ("transfer", "vgg16", "32", "base"),
    ]
    assert all(float(row["images_per_second"]) > 0 and row["gpu_utilisation_percent"] == NO_GPU for row in rows)
    ours, baseline = rows[0], rows[1]
    assert float(ours["ratio"]) == round(float(ours["images_per_second"]) / float(baseline["images_per_second"]), 2)
    markdown = (tmp_path / "benchmarks/gpu_training.md").read_text()
    assert markdown.splitlines()[0].startswith("| case | model | size | pipeline | images_per_second |")
    assert markdown in printed and len(markdown.splitlines()) == 6


def test_utilisation_is_sampled_in_the_background_and_averaged_within_the_windows(tmp_path, monkeypatch):
    # Two GPUs at 30% and 50%, as `nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits` prints them.
    script = tmp_path / "nvidia-smi"
    script.write_text("#!/bin/sh\nprintf '30\\n50\\n'\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))

    with GpuUtilisation(interval=0.01) as utilisation:
        started = time.perf_counter()
        while len(utilisation.samples) < 3:
            time.sleep(0.01)
        ended = time.perf_counter()

    assert utilisation.available and {percent for _, percent in utilisation.samples} == {40.0}
    assert utilisation.mean_within([(started, ended)]) == 40.0
    assert utilisation.mean_within([(ended + 100, ended + 200)]) == "no sample"
    assert not utilisation.thread.is_alive(), "the sampler stops with the block"
