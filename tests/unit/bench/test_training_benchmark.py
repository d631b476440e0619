"""Training benchmark: the same model trained on the project's pipeline (JPEGs decoded once into a memory map) and on
the notebooks' ImageDataGenerator (JPEGs decoded every epoch), with images/s of each and their ratio."""

import sys

import pytest

from faceaudit.bench import training as training_benchmark
from faceaudit.bench.training import run_benchmark

TINY = {"n_images": 24, "size": 32, "model_name": "deep_cnn", "batch_size": 8, "epochs": 2, "jpeg_side": 96}


def test_both_pipelines_train_on_the_same_images_and_the_ratio_is_ours_over_baseline(tmp_path):
    figures = run_benchmark(**TINY, folder=tmp_path)

    ours, baseline = figures["ours"], figures["baseline"]
    assert figures["preprocess_seconds"] > 0
    for result in (ours, baseline):
        assert result["images_per_second"] > 0
        assert result["seconds_per_epoch"] > 0
        assert len(result["epoch_seconds"]) == TINY["epochs"]
    assert ours["images_per_epoch"] == baseline["images_per_epoch"] == TINY["n_images"]
    assert ours["batches_per_epoch"] == baseline["batches_per_epoch"] == 3
    assert figures["ratio"] == pytest.approx(ours["images_per_second"] / baseline["images_per_second"])
    assert figures["tensorflow_version"] and figures["device"]


def test_main_prints_the_table_and_the_ratio(monkeypatch, capsys):
    arguments = ["--images", "16", "--size", "32", "--model", "small_cnn", "--batch-size", "8", "--epochs", "2"]
    monkeypatch.setattr(sys, "argv", ["training_benchmark", *arguments, "--jpeg-side", "64"])

    training_benchmark.main()

    printed = capsys.readouterr().out
    assert "TensorFlow" in printed and "device" in printed
    assert "one-off preprocessing" in printed
    assert "median of epochs 2..2" in printed
    lines = printed.splitlines()
    table = lines[next(number for number, line in enumerate(lines) if line.startswith("pipeline ")) :]
    assert table[0].split() == ["pipeline", "images/s", "s/epoch", "images/epoch"]
    assert table[1].startswith("ours") and table[1].split()[-1] == "16"
    assert table[2].startswith("baseline") and table[2].split()[-1] == "16"
    assert table[3].startswith("ratio ours/baseline:") and table[3].endswith("x")


def test_one_epoch_is_refused_because_the_first_epoch_is_not_counted(tmp_path):
    with pytest.raises(ValueError, match="epochs must be at least 2"):
        run_benchmark(**{**TINY, "epochs": 1}, folder=tmp_path)
