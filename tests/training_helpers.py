"""Small labelled image arrays, run specs and training runs shared by the training, resume and known-answer tests."""

import numpy as np
import pandas as pd
from conftest import validated_study

from faceaudit.catalog import BACKBONES
from faceaudit.study import expand_runs
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
    """The run faceaudit.study makes of a one-step experiment with this model and targets (the schema's defaults
    filled in, as the workflow would), with `training` replacing entries of its training settings."""
    labels = {"gender": TARGETS["gender"], "age": TARGETS["age"], "group": ["A", "B"]}
    labels |= {target: classes for target, classes in targets.items()}
    experiment = {
        "dataset": "arrays",
        "targets": list(targets),
        "model": model,
        "image": {"size": 12, "color": "gray"},
        "epochs": epochs,
        "batch_size": 16,
        "learning_rate": 0.01,
        "optimizer": "adam",
    }
    if model in BACKBONES:
        experiment["weights"] = None
    config = validated_study(
        {
            "datasets": {"arrays": {"layout": "synthetic", "labels": labels, "sensitive_attributes": ["group"]}},
            "experiments": {f"{model}_test": experiment},
        }
    )
    [spec] = expand_runs(config).values()
    return spec | {"seed": 11, "training": spec["training"] | training}


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
