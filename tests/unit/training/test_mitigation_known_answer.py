"""Known answers of in-training mitigation on generated images whose bias we chose.

In group A (90% of rows) a bright right half marks Male; in group B (10%) it marks Female. The left half carries a
weaker cue that holds in both groups. Plain training takes the shortcut and fails group B; group DRO, which minimises
the worst group's loss, must raise group B's test accuracy. With no bias (both groups drawn alike) no method may
open a gap beyond what chance gives.
"""

import numpy as np
import pandas as pd
import pytest
from training_helpers import MITIGATION_SETTINGS, run_spec

from faceaudit.evaluation.predictions import predict_eval_set
from faceaudit.training.classifier import train_run

GENDER = {"gender": ["Female", "Male"]}


def shortcut_images(count: int, seed: int, minority_share: float) -> tuple[np.ndarray, pd.DataFrame]:
    """16x16 images: left half brightness = weak cue of the label in every group; right half = strong cue that is
    flipped in group B. minority_share 0.5 with the cue unflipped in B = no bias."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, count)
    minority = rng.random(count) < minority_share
    shortcut = np.where(minority, 1 - label, label) if minority_share < 0.5 else label
    images = rng.normal(80, 30, (count, 16, 16, 1))
    images[:, :, :8, 0] += (label * 30)[:, None, None]
    images[:, :, 8:, 0] += (shortcut * 90)[:, None, None]
    rows = pd.DataFrame(
        {
            "path": [f"images/{index}.png" for index in range(count)],
            "gender": np.array(GENDER["gender"])[label],
            "group": np.where(minority, "B", "A"),
        }
    )
    return np.clip(images, 0, 255).astype(np.uint8), rows


def group_accuracies(
    tmp_path, name: str, mitigation: dict, seed: int, minority_share: float, epochs: int = 4
) -> pd.Series:
    out = tmp_path / name
    out.mkdir()
    spec = run_spec("mlp", GENDER, epochs=epochs, mitigation=mitigation) | {"run": name, "seed": seed}
    spec["hyperparameters"]["batch_size"] = 32
    spec["training"]["steps"][0]["learning_rate"] = 0.001
    train_run(
        spec,
        shortcut_images(800, seed, minority_share),
        shortcut_images(200, seed + 100, minority_share),
        out / "model.keras",
        out / "history.csv",
        out / "run.json",
        out / "checkpoint",
        threads=2,
    )
    images, rows = shortcut_images(1000, 999, minority_share)
    predictions = predict_eval_set(out / "model.keras", images, rows, GENDER, ["group"])
    return (predictions["gender_true"] == predictions["gender_pred"]).groupby(predictions["group"]).mean()


DRO = {"method": "group_dro", "attributes": ["group"], "strength": 0.5, "group_adjustment": 0.0}


def test_group_dro_raises_the_worst_groups_accuracy_over_plain_training(tmp_path):
    gains = []
    for seed in (1, 2):
        plain = group_accuracies(tmp_path, f"plain_{seed}", {"method": "none"}, seed, 0.1)
        dro = group_accuracies(tmp_path, f"dro_{seed}", DRO, seed, 0.1)
        print(f"seed {seed}: plain {plain.to_dict()}, group DRO {dro.to_dict()}")
        assert plain.idxmin() == "B", "the injected bias must hurt group B under plain training"
        gains.append(dro.min() - plain.min())
    # Observed: group B from 0.24 to 1.0 (seed 1) and from 0.0 to 0.15 (seed 2); A stays at 0.97 or above.
    assert min(gains) > 0 and np.mean(gains) > 0.2, f"worst-group accuracy gains {gains}"


NO_BIAS_METHODS = {"group_dro": DRO, **{name: MITIGATION_SETTINGS[name] for name in ("adversarial", "mmd")}}


@pytest.mark.parametrize("method", list(NO_BIAS_METHODS))
def test_without_bias_no_method_opens_a_gap_beyond_chance(tmp_path, method):
    accuracies = group_accuracies(tmp_path, method, NO_BIAS_METHODS[method], 3, 0.5, epochs=2)
    pooled = accuracies.mean()
    # about 500 test rows per group: 3 standard errors of a difference of two proportions
    bound = 3 * np.sqrt(pooled * (1 - pooled) * (2 / 500)) + 0.005
    assert abs(accuracies["A"] - accuracies["B"]) <= bound, accuracies.to_dict()
    assert pooled > 0.8, "the model must still learn the label"
