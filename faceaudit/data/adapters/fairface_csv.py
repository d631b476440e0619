"""Adapter for FairFace's label files: `file,age,gender,race,service_test`, one CSV per split.

A spreadsheet that opened a label file turns the age bins 3-9 and 10-19 into dates (`9-Mar`, `19-Oct`); those are
mapped back and counted in `table.attrs["repairs"]`.
"""

from pathlib import PurePosixPath

import pandas as pd

from faceaudit.data.adapters.common import require_file
from faceaudit.labels import NUMERIC

SPREADSHEET_DATES = {"9-Mar": "3-9", "Mar-09": "3-9", "19-Oct": "10-19", "Oct-19": "10-19"}


def read_source(root, settings: dict, labels: dict) -> pd.DataFrame:
    tables = [read_label_file(root / name, split) for split, name in settings["label_files"].items()]
    table = pd.concat(tables, ignore_index=True)
    table["path"] = [str(PurePosixPath(settings["images"]) / file) for file in table.pop("file")]
    table.attrs["repairs"] = undo_spreadsheet_dates(table, labels)
    return table


def read_label_file(path, split: str) -> pd.DataFrame:
    table = pd.read_csv(require_file(path, f"FairFace label file of split '{split}'"), dtype=str, keep_default_na=False)
    if "file" not in table.columns:
        raise ValueError(f"{path}: no 'file' column (columns: {list(table.columns)})")
    return table.assign(split=split)


def undo_spreadsheet_dates(table: pd.DataFrame, labels: dict) -> list[dict]:
    """Put back class names that a spreadsheet read as dates; return what was changed and how often."""
    repairs = []
    for column, classes in labels.items():
        if classes == NUMERIC or column not in table.columns:
            continue
        for written, original in SPREADSHEET_DATES.items():
            mangled = table[column] == written
            if original in classes and written not in classes and mangled.any():
                table.loc[mangled, column] = original
                repairs.append({"column": column, "written": written, "read_as": original, "count": int(mangled.sum())})
    return repairs
