"""Adapter for UTKFace: labels in the file name, `age_gender_race_timestamp.jpg.chip.jpg`.

gender and race are 0-based codes into the declared classes, which must therefore be complete and in code order
(gender [Male, Female], race [White, Black, Asian, Indian, Others]; the schema checks the lengths, and the dataset's
keep_classes studies a subset); age is in years, so the label `age` must be declared `numeric`.
"""

import re
from pathlib import Path

import pandas as pd

from faceaudit.data.adapters.common import decode_codes, files_under, require_folder
from faceaudit.labels import NUMERIC

NAME_PATTERN = re.compile(r"^(?P<age>\d+)_(?P<gender>\d+)_(?P<race>\d+)_\d+\.jpg(\.chip\.jpg)?$")
FIELDS = ("age", "gender", "race")


def read_source(root: Path, settings: dict, labels: dict) -> pd.DataFrame:
    if labels.get("age", NUMERIC) != NUMERIC:
        raise ValueError("UTKFace gives age in years: declare the label `age: numeric`")
    folder = require_folder(root / settings["images"], "UTKFace image folder")
    table = pd.DataFrame([row_of(path, root) for path in files_under(folder)], columns=["path", *FIELDS, "reason"])
    for field in ("gender", "race"):
        if field in labels:
            table[field] = decode_codes(table[field], labels[field])
    return table


def row_of(path: Path, root: Path) -> dict:
    match = NAME_PATTERN.match(path.name)
    row = {"path": path.relative_to(root).as_posix(), "reason": ""}
    if match:
        return row | match.groupdict()
    return (
        row | dict.fromkeys(FIELDS, "") | {"reason": "file name does not follow age_gender_race_timestamp.jpg.chip.jpg"}
    )
