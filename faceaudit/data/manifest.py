"""Build a dataset's manifest (usable rows with their split) and its rejects (refused rows with the reason)."""

import math
import multiprocessing
from pathlib import Path

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
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check every row (adapter's verdict, labels known, file present, image decodes); return (manifest, rejects).

    `labels` maps each label column to its ordered class names, or to "numeric" for a number (e.g. age in years).
    Rows are first sampled (seeded, stratified) when `sample_fraction` < 1 or `sample_size` is set.
    """
    missing = [column for column in ("path", *labels) if column not in source.columns]
    if missing:
        raise ValueError(f"the dataset source has no column {missing} (columns: {list(source.columns)})")
    strata = class_columns(labels) + (["split"] if "split" in source.columns else [])
    source = sample_rows(source, strata, sample_fraction, sample_size, split_fractions["seed"])
    reasons = reject_reasons(source, Path(root), labels, workers)
    refused = pd.Series([reason is not None for reason in reasons], index=source.index)
    rejects = source[refused].drop(columns="reason", errors="ignore")
    rejects = rejects.assign(reason=[reason for reason in reasons if reason is not None])
    check_reject_fraction(len(rejects), len(source), max_reject_fraction, rejects)
    accepted = source[~refused].reset_index(drop=True)
    manifest = accepted[["path", *labels]].copy()
    manifest["split"] = split_column(accepted, class_columns(labels), split_fractions)
    return manifest[["path", "split", *labels]], rejects.reset_index(drop=True)


def class_columns(labels: dict) -> list[str]:
    return [label for label, classes in labels.items() if classes != NUMERIC]


def reject_reasons(source: pd.DataFrame, root: Path, labels: dict, workers: int) -> list[str | None]:
    """The first problem of each row, or None; files are checked (in parallel) only for rows whose labels are fine."""
    reasons = [label_problem(row, labels) for row in source.to_dict("records")]
    to_check = [index for index, reason in enumerate(reasons) if reason is None]
    paths = [root / source["path"].iat[index] for index in to_check]
    for index, reason in zip(to_check, map_in_parallel(file_problem, paths, workers)):
        reasons[index] = reason
    return reasons


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


def file_problem(image_path: Path) -> str | None:
    if not image_path.is_file():
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
