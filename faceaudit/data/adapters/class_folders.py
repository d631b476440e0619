"""Adapter for one folder per class (`Female/`, `Male/`), optionally inside `train/`, `val/`, `test/` folders."""

from pathlib import Path

import pandas as pd

from faceaudit.data.adapters.common import files_under, require_folder, single_class_label
from faceaudit.labels import SPLITS


def read_source(root: Path, settings: dict, labels: dict) -> pd.DataFrame:
    label, _ = single_class_label(labels, "class_folders")
    folder = require_folder(root / settings["images"], "folder of class folders")
    if has_split_folders(folder):
        tables = [
            class_rows(folder / split, label, root).assign(split=split) for split in SPLITS if (folder / split).is_dir()
        ]
        return pd.concat(tables, ignore_index=True)
    return class_rows(folder, label, root)


def has_split_folders(folder: Path) -> bool:
    children = {child.name for child in folder.iterdir() if child.is_dir() and not child.name.startswith(".")}
    return bool(children) and children <= set(SPLITS)


def class_rows(folder: Path, label: str, root: Path) -> pd.DataFrame:
    """One row per file: its class is the first folder below `folder`; a file lying beside the class folders gets a
    reason."""
    rows = []
    for path in files_under(folder):
        parts = path.relative_to(folder).parts
        inside = len(parts) > 1
        rows.append(
            {
                "path": path.relative_to(root).as_posix(),
                label: parts[0] if inside else "",
                "reason": ""
                if inside
                else f"not inside a class folder of {folder.relative_to(root).as_posix() or '.'}",
            }
        )
    return pd.DataFrame(rows, columns=["path", label, "reason"])
