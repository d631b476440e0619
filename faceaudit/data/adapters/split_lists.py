"""Adapter for IP102-style split lists: `train.txt`, `val.txt`, `test.txt`, one `path label` line per image."""

from pathlib import Path, PurePosixPath

import pandas as pd

from faceaudit.data.adapters.common import decode_codes, require_file, single_class_label


def read_source(root: Path, settings: dict, labels: dict) -> pd.DataFrame:
    label, classes = single_class_label(labels, "split_lists")
    tables = [read_list(root / name, split, label, settings["images"]) for split, name in settings["lists"].items()]
    table = pd.concat(tables, ignore_index=True)
    if settings["label_format"] == "index":
        check_codes_have_classes(table, label, classes, settings["lists"])
        table[label] = decode_codes(table[label], classes)
    return table


def check_codes_have_classes(table: pd.DataFrame, label: str, classes: list[str], lists: dict) -> None:
    """Codes name classes by position, so a class list shorter than the codes (a subset, a class left out) would
    shift every later class name silently; refuse it."""
    is_code = table[label].str.fullmatch(r"\d+") & (table["reason"] == "")
    codes = table.loc[is_code, label].astype(int)
    beyond = codes[codes >= len(classes)]
    if beyond.empty:
        return
    files = sorted({lists[split] for split in table.loc[beyond.index, "split"]})
    raise ValueError(
        f"{', '.join(files)}: {len(beyond)} line(s) give {label} a code of {len(classes)} or more (up to "
        f"{beyond.max()}), but labels.{label} lists {len(classes)} classes (codes 0 to {len(classes) - 1}). Codes "
        "name classes by position: list every class in code order, and keep a subset with the dataset's keep_classes"
    )


def read_list(path: Path, split: str, label: str, images: str) -> pd.DataFrame:
    """Rows of one list; a line that is not `path label` keeps its text as path and gets a reason."""
    rows = []
    for number, line in enumerate(require_file(path, f"list of split '{split}'").read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.strip().rsplit(None, 1)
        if len(fields) == 2:
            rows.append({"path": str(PurePosixPath(images) / fields[0]), label: fields[1], "reason": ""})
        else:
            rows.append(
                {"path": line.strip(), label: "", "reason": f"{path.name} line {number}: expected 'path label'"}
            )
    return pd.DataFrame(rows, columns=["path", label, "reason"]).assign(split=split)
