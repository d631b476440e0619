"""Build a dataset's manifest (usable rows with their split) and its rejects (refused rows with the reason)."""

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

SPLITS = ("train", "val", "test")


class TooManyRejectsError(ValueError):
    pass


def build_manifest(
    source: pd.DataFrame,
    root: Path,
    labels: dict[str, list[str]],
    split_fractions: dict,
    max_reject_fraction: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check every row (file present, image decodes, labels known); return (manifest, rejects)."""
    missing = [column for column in ("path", *labels) if column not in source.columns]
    if missing:
        raise ValueError(f"the dataset source has no column {missing} (columns: {list(source.columns)})")
    reasons = [reject_reason(row, Path(root), labels) for row in source.to_dict("records")]
    refused = pd.Series([reason is not None for reason in reasons], index=source.index)
    rejects = source[refused].assign(reason=[reason for reason in reasons if reason is not None])
    manifest = source.loc[~refused, ["path", *labels]].reset_index(drop=True)
    check_reject_fraction(len(rejects), len(source), max_reject_fraction, rejects)
    if "split" in source.columns:
        manifest["split"] = source.loc[~refused, "split"].to_numpy()
    else:
        manifest["split"] = assign_splits(manifest, list(labels), split_fractions)
    return manifest[["path", "split", *labels]], rejects.reset_index(drop=True)


def reject_reason(row: dict, root: Path, labels: dict[str, list[str]]) -> str | None:
    for label, classes in labels.items():
        value = row.get(label)
        if value is None or value == "":
            return f"missing value for label '{label}'"
        if value not in classes:
            return f"unknown {label} value '{value}' (known: {', '.join(classes)})"
    image_path = root / row["path"]
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


def assign_splits(manifest: pd.DataFrame, strata_columns: list[str], fractions: dict) -> np.ndarray:
    """Seeded split, stratified over the combination of all label columns.

    Within each stratum, members get evenly spaced positions in [0, 1) starting at a random offset,
    so every stratum is split in the configured proportions and small strata are not all sent to train.
    """
    rng = np.random.default_rng(fractions["seed"])
    splits = np.empty(len(manifest), dtype=object)
    strata = manifest[strata_columns].astype(str).agg("|".join, axis=1)
    for members in strata.groupby(strata).indices.values():
        shuffled = rng.permutation(members)
        positions = (np.arange(len(shuffled)) + rng.random()) / len(shuffled)
        splits[shuffled] = np.where(
            positions < fractions["test"],
            "test",
            np.where(positions < fractions["test"] + fractions["val"], "val", "train"),
        )
    return splits
