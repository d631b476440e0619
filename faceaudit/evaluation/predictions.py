"""Run a trained model over an eval set and write one row per example: true label, prediction, scores, groups."""

from pathlib import Path

import numpy as np
import pandas as pd

from faceaudit.labels import NUMERIC
from faceaudit.models import class_scores
from faceaudit.training.inputs import make_dataset


class EmptyEvalSetError(ValueError):
    """An eval set whose split has no examples."""


def require_examples(images: np.ndarray, eval_set: str, rows_path: Path) -> None:
    """Keras' predict fails on an empty split with an UnboundLocalError; name the eval set and its split instead."""
    if len(images) == 0:
        rows_path = Path(rows_path)
        raise EmptyEvalSetError(
            f"eval set '{eval_set}' has no examples: split '{rows_path.stem}' ({rows_path}) is empty, because its "
            "dataset gave that split no rows (a `split:` fraction of 0, or split files or folders without it). "
            f"Remove '{eval_set}' from the experiment's eval_sets (the default is [test]) or give the split rows."
        )


def predict_eval_set(
    model,
    images: np.ndarray,
    rows: pd.DataFrame,
    targets: dict[str, list[str] | str],
    carried_labels: list[str],
    batch_size: int = 256,
) -> pd.DataFrame:
    """Enough per example to recompute every metric and fairness figure without the model: per class target its
    class scores and predicted class, per numeric target the predicted number; then the `carried_labels` (the
    sensitive attributes and numeric labels, faceaudit.labels.carried_labels). `model`: a Keras model, or the path
    of its file."""
    if isinstance(model, str | Path):
        import keras

        model = keras.models.load_model(model)
    scores = model.predict(make_dataset(images, None, batch_size, shuffle=False), verbose=0)
    table = pd.DataFrame({"path": rows["path"]})
    for target, classes in targets.items():
        table[f"{target}_true"] = rows[target].to_numpy()
        if classes == NUMERIC:
            table[f"{target}_pred"] = np.asarray(scores[target], dtype="float64").reshape(-1)
            continue
        target_scores = class_scores(scores[target], len(classes))
        table[f"{target}_pred"] = np.asarray(classes, dtype=object)[target_scores.argmax(axis=1)]
        for class_index in range(len(classes)):
            table[f"{target}_score_{class_index}"] = target_scores[:, class_index]
    for label in carried_labels:
        table[label] = rows[label].to_numpy()
    return table
