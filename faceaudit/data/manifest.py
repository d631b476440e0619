"""Build a dataset's manifest (usable rows with their split) and its rejects (refused rows with the reason)."""

import functools
import math
import multiprocessing
import os
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
import pandas as pd
from PIL import Image

from faceaudit.labels import NUMERIC, SPLITS


class TooManyRejectsError(ValueError):
    pass


def build_manifest(
    source: pd.DataFrame,
    root: Path,
    labels: dict,
    split_fractions: dict,
    max_reject_fraction: float,
    sample_fraction: float = 1.0,
    sample_size: int | None = None,
    workers: int = 1,
    keep_classes: dict | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check every row (adapter's verdict, path, labels known, file present, image decodes); return (manifest, rejects).

    `labels` maps each label column to its ordered class names, or to "numeric" for a number (e.g. age in years).
    A file listed more than once is kept once if its rows agree, refused otherwise. Rows of classes left out of
    `keep_classes` are refused as not kept (they do not count towards `max_reject_fraction`). Rows are then sampled
    (seeded, stratified) when `sample_fraction` < 1 or `sample_size` is set. `manifest.attrs["repairs"]` has the
    adapter's repairs and the duplicate rows removed, with counts.
    """
    missing = [column for column in ("path", *labels) if column not in source.columns]
    if missing:
        raise ValueError(f"the dataset source has no column {missing} (columns: {list(source.columns)})")
    repairs = list(source.attrs.get("repairs", []))
    source, conflicting, duplicate_repairs = resolve_duplicate_paths(source, labels)
    source, not_kept = drop_classes_not_kept(source, labels, keep_classes or {})
    strata = class_columns(labels) + (["split"] if "split" in source.columns else [])
    source = sample_rows(source, strata, sample_fraction, sample_size, split_fractions["seed"])
    reasons = reject_reasons(source, Path(root), labels, workers)
    refused = pd.Series([reason is not None for reason in reasons], index=source.index, dtype=bool)
    checked = source[refused].drop(columns="reason", errors="ignore")
    checked = checked.assign(reason=[reason for reason in reasons if reason is not None])
    rejects = printable(pd.concat([conflicting, checked, not_kept], ignore_index=True))
    check_reject_fraction(len(conflicting) + len(checked), len(conflicting) + len(source), max_reject_fraction, rejects)
    accepted = source[~refused].reset_index(drop=True)
    manifest = accepted[["path", *labels]].copy()
    manifest["split"] = split_column(accepted, class_columns(labels), split_fractions)
    manifest = manifest[["path", "split", *labels]]
    manifest.attrs["repairs"] = repairs + duplicate_repairs
    return manifest, rejects


def resolve_duplicate_paths(source: pd.DataFrame, labels: dict) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    """A file listed more than once would land in several splits: rows that agree on its labels and split are kept
    once (the copies counted as a repair); rows that disagree are all refused, naming the values they disagree on.
    Returns (source without duplicates, refused rows with their reason, repairs)."""
    compared = [column for column in (*labels, "split") if column in source.columns]
    usable = adapter_reasons(source) == ""  # rows the adapter refused are rejected with their own reason
    repeated = usable & source["path"].duplicated(keep=False)
    extra_copies, conflicting, reasons = [], [], []
    for _, rows in source[repeated].groupby("path", sort=False):
        values = rows[compared].astype(str)
        if len(values.drop_duplicates()) == 1:
            extra_copies.extend(rows.index[1:])
        else:
            conflicting.extend(rows.index)
            reasons.extend([conflict_reason(values)] * len(rows))
    refused = source.loc[conflicting].drop(columns="reason", errors="ignore").assign(reason=reasons)
    repairs = []
    if extra_copies:
        repairs.append(
            {
                "column": "path",
                "written": "listed again, same values",
                "read_as": "kept once",
                "count": len(extra_copies),
            }
        )
    return source.drop(index=[*extra_copies, *conflicting]), refused, repairs


def conflict_reason(values: pd.DataFrame) -> str:
    disagreements = [
        f"{column} " + " vs ".join(f"'{value}'" for value in values[column].unique())
        for column in values.columns
        if values[column].nunique() > 1
    ]
    return f"listed {len(values)} times with different values: {'; '.join(disagreements)}"


def drop_classes_not_kept(source: pd.DataFrame, labels: dict, keep_classes: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows of a known class that `keep_classes` leaves out, refused with that reason; unknown values stay, so that
    they are rejected as unknown."""
    dropped = pd.Series("", index=source.index)
    usable = adapter_reasons(source) == ""
    for label, kept in keep_classes.items():
        left_out = usable & (dropped == "") & source[label].isin(set(labels[label]) - set(kept))
        dropped[left_out] = [f"{label} '{value}' is not kept (keep_classes)" for value in source.loc[left_out, label]]
    not_kept = source[dropped != ""].drop(columns="reason", errors="ignore").assign(reason=dropped[dropped != ""])
    return source[dropped == ""], not_kept


def adapter_reasons(source: pd.DataFrame) -> pd.Series:
    if "reason" not in source.columns:
        return pd.Series("", index=source.index)
    return source["reason"].fillna("").astype(str)


def printable(table: pd.DataFrame) -> pd.DataFrame:
    """A file name that is not valid UTF-8 reaches Python as text with stand-in characters that no CSV can hold;
    write its bytes as \\x.. escapes instead."""
    return table.map(escape_undecodable)


def escape_undecodable(value):
    if not isinstance(value, str):
        return value
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def class_columns(labels: dict) -> list[str]:
    return [label for label, classes in labels.items() if classes != NUMERIC]


def reject_reasons(source: pd.DataFrame, root: Path, labels: dict, workers: int) -> list[str | None]:
    """The first problem of each row, or None; files are checked (in parallel) only for rows whose labels are fine."""
    reasons = [path_problem(row["path"]) or label_problem(row, labels) for row in source.to_dict("records")]
    to_check = [index for index, reason in enumerate(reasons) if reason is None]
    paths = [root / source["path"].iat[index] for index in to_check]
    check_file = functools.partial(file_problem, dataset_folder=root.resolve())
    for index, reason in zip(to_check, map_in_parallel(check_file, paths, workers)):
        reasons[index] = reason
    return reasons


def path_problem(path: str) -> str | None:
    """What is wrong with a path as written, before looking at the disk."""
    if not isinstance(path, str) or not path:
        return "no file path"
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return "file name is not valid UTF-8: rename the file (or folder) to UTF-8"
    if PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute():
        return "absolute path: paths must be relative to the dataset folder"
    if ".." in PurePosixPath(path).parts:
        return "path leads out of the dataset folder ('..')"
    return None


def label_problem(row: dict, labels: dict) -> str | None:
    if isinstance(row.get("reason"), str) and row["reason"]:
        return row["reason"]
    for label, classes in labels.items():
        value = row.get(label)
        if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
            return f"missing value for label '{label}'"
        if classes == NUMERIC:
            if not is_number(value):
                return f"{label} value '{value}' is not a number"
        elif value not in classes:
            return f"unknown {label} value '{value}' (known: {', '.join(classes)})"
    return None


def is_number(value) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def file_problem(image_path: Path, dataset_folder: Path) -> str | None:
    """`dataset_folder` is resolved: the folder itself may be a symlink, but nothing inside it may lead out of it."""
    if image_path.is_symlink() and not image_path.exists():
        return f"dangling symlink (points to {os.readlink(image_path)}, which does not exist)"
    resolved = image_path.resolve()
    if not resolved.is_relative_to(dataset_folder):
        return f"symlink leading out of the dataset folder (to {resolved})"
    if resolved.is_dir():
        return "a folder, not an image file"
    if not resolved.is_file():
        return "file not found"
    return decode_problem(image_path)


def decode_problem(image_path: Path) -> str | None:
    """Fully decode the image at 1/8 scale (cheap for JPEG) so that truncated files are caught too."""
    try:
        with Image.open(image_path) as image:
            image.draft("RGB", (image.width // 8 or 1, image.height // 8 or 1))
            image.load()
    except Exception as error:  # Pillow raises several unrelated types for bad files
        return f"undecodable image: {error}"
    return None


def map_in_parallel(function, items: list, workers: int) -> list:
    if workers <= 1 or len(items) < 1000:
        return [function(item) for item in items]
    with multiprocessing.Pool(workers) as pool:
        return pool.map(function, items, chunksize=256)


def check_reject_fraction(n_rejected: int, n_total: int, max_fraction: float, rejects: pd.DataFrame) -> None:
    if n_total == 0:
        raise TooManyRejectsError("the dataset source lists no rows")
    fraction = n_rejected / n_total
    if fraction > max_fraction:
        summary = rejects["reason"].value_counts().head(5).to_dict()
        raise TooManyRejectsError(
            f"{n_rejected} of {n_total} rows rejected ({fraction:.1%}), above max_reject_fraction "
            f"{max_fraction:.1%}; most common reasons: {summary}"
        )


def split_column(rows: pd.DataFrame, strata_columns: list[str], fractions: dict) -> np.ndarray:
    """The dataset's own split where it has one; a split it lacks (val, or val and test) is carved out of train rows,
    seeded and stratified. Without any split of its own, every row counts as train."""
    splits = (
        rows["split"].to_numpy(dtype=object).copy()
        if "split" in rows.columns
        else np.full(len(rows), "train", dtype=object)
    )
    unknown = sorted(set(splits) - set(SPLITS))
    if unknown:
        raise ValueError(f"the dataset source has split values {unknown}; expected {list(SPLITS)}")
    present = set(splits)
    carve = {split: (0.0 if split in present else fractions[split]) for split in ("val", "test")}
    train = splits == "train"
    if train.any() and (carve["val"] or carve["test"]):
        splits[train] = assign_splits(rows[train], strata_columns, carve | {"seed": fractions["seed"]})
    return splits


def assign_splits(manifest: pd.DataFrame, strata_columns: list[str], fractions: dict) -> np.ndarray:
    """Seeded split, stratified over the combination of the given label columns."""
    positions = stratum_positions(manifest, strata_columns, fractions["seed"])
    return np.where(
        positions < fractions["test"],
        "test",
        np.where(positions < fractions["test"] + fractions["val"], "val", "train"),
    ).astype(object)


def sample_rows(
    table: pd.DataFrame, strata_columns: list[str], fraction: float, size: int | None, seed: int
) -> pd.DataFrame:
    """A seeded, stratified subset of round(fraction * rows) rows (at most `size`), in the table's order."""
    count = round(fraction * len(table))
    if size is not None:
        count = min(count, size)
    if count >= len(table):
        return table
    positions = stratum_positions(table, strata_columns, (seed, 1))
    keep = np.sort(np.argsort(positions, kind="stable")[:count])
    print(f"sampled {count} of {len(table)} rows (sample_fraction {fraction}, sample_size {size})")
    return table.iloc[keep]


def stratum_positions(table: pd.DataFrame, strata_columns: list[str], seed) -> np.ndarray:
    """Each row's position in [0, 1) within its stratum (rows sharing the values of `strata_columns`).

    Within a stratum, members get evenly spaced positions starting at a random offset, in random order; so taking the
    rows below a threshold takes that share of every stratum, and small strata are not all sent the same way.
    """
    rng = np.random.default_rng(seed)
    positions = np.empty(len(table))
    strata = pd.Series("", index=table.index)
    if strata_columns:
        strata = table[strata_columns].astype(str).fillna("").agg("|".join, axis=1)
    for members in strata.groupby(strata).indices.values():
        shuffled = rng.permutation(members)
        positions[shuffled] = (np.arange(len(shuffled)) + rng.random()) / len(shuffled)
    return positions
