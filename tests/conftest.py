"""Shared fixtures: the tiny study that the end-to-end, browser and cluster tests run through the real workflow."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]

TINY_STUDY = {
    "seed": 3,
    "datasets": {
        "faces": {
            "layout": "synthetic",
            "synthetic": {
                "n_images": 240,
                "image_size": 32,
                "seed": 5,
                "groups": [{"name": "A", "share": 0.6}, {"name": "B", "share": 0.4, "label_noise": 0.2}],
            },
            "labels": {
                "gender": ["Female", "Male"],
                "age": ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70"],
                "group": ["A", "B"],
                "age_years": "numeric",
            },
            "sensitive_attributes": ["group", "gender"],
            "split": {"val": 0.2, "test": 0.25},
        },
        # Another population with the same class names, used whole as a cross-dataset test set.
        "other_faces": {
            "layout": "synthetic",
            "synthetic": {
                "n_images": 80,
                "image_size": 32,
                "seed": 9,
                "groups": [{"name": "A", "share": 0.3}, {"name": "B", "share": 0.7}],
            },
            "labels": {
                "gender": ["Female", "Male"],
                "age": ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70"],
                "group": ["A", "B"],
            },
            "sensitive_attributes": ["group"],
            "split": {"val": 0, "test": 1},
        },
    },
    "experiments": {
        "gender_cnn": {
            "dataset": "faces",
            "targets": ["gender"],
            "model": "small_cnn",
            "image": {"size": 16, "color": "gray"},
            "epochs": 2,
            "batch_size": 32,
            "eval_sets": ["val", "test", "other_faces:test"],
        },
        "both_multitask": {
            "dataset": "faces",
            "targets": ["gender", "age"],
            "model": "multitask_cnn",
            "image": {"size": 16, "color": "rgb"},
            "epochs": 2,
            "batch_size": 32,
        },
        # Age in years as regression, with group-balanced loss weights and flipped training images.
        "age_regression": {
            "dataset": "faces",
            "targets": ["age_years"],
            "model": "mlp",
            "image": {"size": 16, "color": "gray"},
            "epochs": 2,
            "batch_size": 32,
            "loss_weighting": {"method": "group", "attributes": ["group"]},
            "augmentation": {"horizontal_flip": True},
        },
    },
}


def run_snakemake(workdir: Path, *arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir), "-c2", *arguments]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result


def write_config(workdir: Path, study: dict) -> None:
    (workdir / "config").mkdir(exist_ok=True)
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(study))


@pytest.fixture(scope="session")
def study_dir(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("study")
    write_config(workdir, TINY_STUDY)
    run_snakemake(workdir)
    return workdir


