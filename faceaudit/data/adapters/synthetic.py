"""Adapter for the `synthetic` layout: labels.csv written by faceaudit.data.synthetic beside its images/ folder."""

from pathlib import Path

import pandas as pd

LABELS_FILE = "labels.csv"


def read_source(root: Path, settings: dict | None = None, labels: dict | None = None) -> pd.DataFrame:
    labels_path = root / LABELS_FILE
    if not labels_path.is_file():
        raise FileNotFoundError(f"{labels_path}: the synthetic dataset's labels file is missing")
    table = pd.read_csv(labels_path, dtype=str, keep_default_na=False)
    if "file" not in table.columns:
        raise ValueError(f"{labels_path}: no 'file' column (columns: {list(table.columns)})")
    return table.rename(columns={"file": "path"})
