"""The rows an eval set audits and those it does not: true labels of another dataset mapped onto the run's classes
(`label_maps`), and every row left out written down with its reason (results/runs/<run>/rejects/<eval set>.csv).

A rejects table has one row per row not audited: `source` (where the row came from: "split" for the eval set's
images, "file" for a prediction file's rows), `row` (1-based data row in that file, or the row's position in the
split), `id` (the image), `reason`, and `kind`: "rejected" (a value that does not fit), "left_out" (a map or filter
that leaves it out on purpose) or "missing" (an image of the eval set without a prediction)."""

import numpy as np
import pandas as pd

from faceaudit.label_maps import map_labels

REJECT_COLUMNS = ["source", "row", "id", "reason", "kind"]


def empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=str) for column in REJECT_COLUMNS})


def map_true_labels(
    rows: pd.DataFrame, targets: dict, label_maps: dict, key: str
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """The eval set's rows with each mapped target's true label in the run's classes, the mask of rows kept, and the
    rejects. Targets without a map (every target of the run's own dataset) are taken as they are."""
    mapped = rows.copy()
    reasons = pd.Series("", index=rows.index, dtype=object)
    kinds = pd.Series("", index=rows.index, dtype=object)
    for target, mapping in label_maps.items():
        result = map_labels(rows[target], mapping, targets[target], f"{key}.{target}")
        mapped[target] = result.values
        first = (result.reasons != "") & (reasons == "")  # a row keeps the first reason it is refused for
        reasons[first] = result.reasons[first]
        kinds[first] = np.where(result.left_out[first], "left_out", "rejected")
    keep = (reasons == "").to_numpy()
    refused_rows = np.flatnonzero(~keep)
    rejects = pd.DataFrame(
        {
            "source": "split",
            "row": refused_rows + 1,
            "id": rows["path"].to_numpy()[refused_rows],
            "reason": reasons.to_numpy()[refused_rows],
            "kind": kinds.to_numpy()[refused_rows],
        },
        columns=REJECT_COLUMNS,
    )
    return mapped[keep].reset_index(drop=True), keep, rejects


def imported_rejects(imported, truth_rejects: pd.DataFrame) -> pd.DataFrame:
    """One rejects table of an imported prediction file: its refused rows ("rejected"), the eval set's images it has
    no prediction for ("missing"), rows a map left out on purpose, and the eval set's rows whose true label a
    `label_maps` entry refused."""
    refused = imported.rejects.assign(kind=np.where(imported.rejects["source"] == "split", "missing", "rejected"))
    left_out = imported.left_out.assign(kind="left_out")
    tables = [table for table in (refused, left_out, truth_rejects) if len(table)]
    if not tables:
        return empty_rejects()
    return pd.concat(tables, ignore_index=True)[REJECT_COLUMNS]


def read_eval_set(images_path, rows_path, eval_set: str, evaluation: dict) -> tuple:
    """The eval set's images and rows, true labels in the run's classes (map_true_labels), and the rows left out;
    an error naming the eval set where none is left."""
    from faceaudit.data.arrays import read_split
    from faceaudit.evaluation.predictions import require_examples

    images, rows = read_split(images_path, rows_path)
    rows, keep, rejects = map_true_labels(
        rows, evaluation["targets"], evaluation["label_maps"], evaluation["label_maps_key"]
    )
    if len(rejects) and not keep.any():
        raise ValueError(
            f"eval set '{eval_set}': {evaluation['label_maps_key']} refuses or leaves out all {len(rejects)} of its "
            f"rows (first: {rejects['reason'].iloc[0]}); map its classes onto the run's"
        )
    require_examples(images, eval_set, rows_path)
    return (images if keep.all() else images[keep]), rows, rejects
