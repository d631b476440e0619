"""Small labelled image arrays, run specs and training runs shared by the training, resume and known-answer tests."""

import numpy as np
import pandas as pd

from faceaudit.training.classifier import train_run

TARGETS = {"gender": ["Female", "Male"], "age": ["young", "middle", "old"]}


def labelled_images(count: int, seed: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Images whose brightness encodes gender and whose left half encodes age, so a model can learn both."""
    rng = np.random.default_rng(seed)
    gender = rng.integers(0, 2, count)
    age = rng.integers(0, 3, count)
    images = rng.integers(0, 40, (count, 12, 12, 1)).astype(np.uint8)
    images[:, :, 6:, 0] += (gender * 150).astype(np.uint8)[:, None, None]
    images[:, :, :6, 0] += (age * 70).astype(np.uint8)[:, None, None]
    rows = pd.DataFrame(
        {
            "path": [f"images/{index}.jpg" for index in range(count)],
            "gender": np.array(TARGETS["gender"])[gender],
            "age": np.array(TARGETS["age"])[age],
            "group": np.where(rng.random(count) < 0.5, "A", "B"),
        }
    )
    return images, rows


def run_spec(model: str, targets: dict, epochs: int = 2, **training) -> dict:
    """What faceaudit.study makes of an experiment with these settings (one step unless `steps` says otherwise)."""
    steps = [
        {
            "trainable": "all",
            "epochs": epochs,
            "learning_rate": 0.01,
            "early_stopping": {"patience": None, "monitor": "val_loss", "restore_best_weights": True},
        }
    ]
    return {
        "run": f"{model}_test",
        "experiment": f"{model}_test",
        "dataset": "arrays",
        "model": model,
        "targets": targets,
        "image_size": 12,
        "color": "gray",
        "grid_point": {},
        "seed": 11,
        "hyperparameters": {
            "learning_rate": 0.01,
            "batch_size": 16,
            "epochs": epochs,
            "optimizer": "adam",
            "strategy": "one_step",
        },
        "training": {
            "steps": steps,
            "loss_weighting": {"method": "none"},
            "augmentation": {},
            "regression_loss": "mse",
            "mixed_precision": False,
            "dropout_rate": 0.5,
        }
        | training,
    }


def train(tmp_path, spec, name="run", **options):
    """train_run on 96 train and 32 val images into tmp_path/name; `options` go to train_run (policy, strategy)."""
    out = tmp_path / name
    out.mkdir()
    info = train_run(
        spec,
        labelled_images(96, 1),
        labelled_images(32, 2),
        out / "model.keras",
        out / "history.csv",
        out / "run.json",
        out / "checkpoint",
        threads=1,
        **options,
    )
    return out, info


# What workflow/scripts/train.py does, in a process of its own that a test can kill (argv: spec JSON, folder).
TRAIN_SCRIPT = """
import json, sys
from pathlib import Path
from faceaudit.data.arrays import read_split
from faceaudit.training.classifier import train_run

spec, out = json.loads(sys.argv[1]), Path(sys.argv[2])
train_run(spec, read_split(out / "train.npy", out / "train.csv"), read_split(out / "val.npy", out / "val.csv"),
          out / "model.keras", out / "history.csv", out / "run.json", out / "checkpoint", threads=1)
"""


# One small setting of each in-training mitigation method (faceaudit.training.mitigation), for the tests that train
# with them.
MITIGATION_SETTINGS = {
    "group_dro": {"method": "group_dro", "attributes": ["group"], "strength": 0.5, "group_adjustment": 1.0},
    "adversarial": {
        "method": "adversarial",
        "attributes": ["group"],
        "target": "gender",
        "strength": 1.0,
        "criterion": "equalized_odds",
        "update": "projection",
        "hidden_units": 8,
    },
    "mmd": {
        "method": "mmd",
        "attributes": ["group"],
        "target": "gender",
        "strength": 1.0,
        "groups": [],
        "label": None,
        "bandwidth": 0.1,
    },
}
