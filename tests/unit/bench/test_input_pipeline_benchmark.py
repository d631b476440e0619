"""Input pipeline benchmark, no model: batches drawn from the project's tf.data pipeline over the .npy memory map
and from ImageDataGenerator decoding JPEGs, images/s of each and their ratio per input size."""

import sys

import pytest

from faceaudit.bench import input_pipeline
from faceaudit.bench.input_pipeline import run_benchmark


def test_main_prints_both_rates_and_the_ratio_per_size(monkeypatch, capsys):
    arguments = ["--images", "16", "--sizes", "16", "24", "--batch-size", "8", "--epochs", "2", "--jpeg-side", "48"]
    monkeypatch.setattr(sys, "argv", ["input_pipeline", *arguments])

    input_pipeline.main()

    lines = capsys.readouterr().out.splitlines()
    header = next(number for number, line in enumerate(lines) if line.startswith("input "))
    assert "TensorFlow" in lines[header - 1] and "no model" in lines[header - 1]
    rows = [line.split() for line in lines[header + 1 :]]
    assert [row[0] for row in rows] == ["16", "24"]
    for row in rows:
        ours, baseline, ratio = float(row[2]), float(row[4]), float(row[6].rstrip("x"))
        assert ours > 0 and baseline > 0
        assert ratio == pytest.approx(ours / baseline, rel=0.1, abs=0.06)  # as printed: rounded


def test_one_epoch_is_refused_because_the_first_is_not_counted(tmp_path):
    with pytest.raises(ValueError, match="epochs must be at least 2"):
        run_benchmark(8, (16,), 4, 1, 48, tmp_path)
