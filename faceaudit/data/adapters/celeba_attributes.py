"""Adapter for CelebA: list_attr_celeba.txt (40 attributes, +1/-1), an optional list_eval_partition.txt (0/1/2).

Any of the 40 attributes can be a label; it lists two classes, the one for -1 first (e.g. `Male: [Female, Male]`).
"""

from pathlib import Path, PurePosixPath

import pandas as pd

from faceaudit.data.adapters.common import require_file
from faceaudit.labels import NUMERIC

PARTITIONS = {"0": "train", "1": "val", "2": "test"}


def read_source(root: Path, settings: dict, labels: dict) -> pd.DataFrame:
    attributes_path = require_file(root / settings["attributes_file"], "CelebA attribute file")
    names, rows = read_attribute_file(attributes_path)
    check_labels(labels, names, attributes_path)
    table = pd.DataFrame(rows, columns=["image", "reason", *names]).fillna("")
    for label, classes in labels.items():
        table[label] = table[label].map({"-1": classes[0], "1": classes[1]}).fillna(table[label])
    if settings.get("partition_file"):
        add_partition(table, require_file(root / settings["partition_file"], "CelebA partition file"))
    table["path"] = [str(PurePosixPath(settings["images"]) / name) for name in table.pop("image")]
    return table[["path", *(["split"] if "split" in table else []), *labels, "reason"]]


def read_attribute_file(path: Path) -> tuple[list[str], list[dict]]:
    """Line 1: image count; line 2: attribute names; then `image v1 ... v40`. A row with the wrong field count gets a
    reason instead of being dropped."""
    lines = path.read_text().splitlines()
    if len(lines) < 2:
        raise ValueError(f"{path}: expected a count line and a line of attribute names")
    names = lines[1].split()
    rows = []
    for number, line in enumerate(lines[2:], start=3):
        fields = line.split()
        if not fields:
            continue
        row = {"image": fields[0], "reason": ""}
        if len(fields) == len(names) + 1:
            row.update(zip(names, fields[1:]))
        else:
            row["reason"] = f"{path.name} line {number}: {len(fields) - 1} values for {len(names)} attributes"
        rows.append(row)
    if lines[0].strip().isdigit() and int(lines[0]) != len(rows):
        print(f"warning: {path} announces {lines[0].strip()} images but lists {len(rows)}")
    return names, rows


def check_labels(labels: dict, names: list[str], path: Path) -> None:
    for label, classes in labels.items():
        if label not in names:
            raise ValueError(f"label '{label}' is not an attribute of {path}; its attributes are {names}")
        if classes == NUMERIC or len(classes) != 2:
            raise ValueError(f"CelebA attribute '{label}' is +1/-1: list two classes, the one for -1 first")


def add_partition(table: pd.DataFrame, path: Path) -> None:
    partition = pd.read_csv(path, sep=r"\s+", header=None, names=["image", "code"], dtype=str)
    codes = table["image"].map(dict(zip(partition["image"], partition["code"])))
    table["split"] = codes.map(PARTITIONS).fillna("")
    no_split = (table["split"] == "") & (table["reason"] == "")
    table.loc[no_split, "reason"] = [
        f"not in {path.name}" if pd.isna(code) else f"unknown partition '{code}' in {path.name}"
        for code in codes[no_split]
    ]
