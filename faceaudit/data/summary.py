"""What a dataset holds: class counts per split for every label, and a grid of sample images with their labels."""

from pathlib import Path

import numpy as np
import pandas as pd

from faceaudit.data.images import load_image
from faceaudit.labels import NUMERIC, SPLITS


def class_distributions(manifest: pd.DataFrame, labels: dict) -> dict[str, pd.DataFrame]:
    """Per label: a table with one row per class (declared order, zeros kept) and columns train, val, test, all.

    A numeric label (e.g. age in years) gets rows count, mean, std, min, max instead.
    """
    return {
        label: numeric_summary(manifest, label) if classes == NUMERIC else class_counts(manifest, label, classes)
        for label, classes in labels.items()
    }


def class_counts(manifest: pd.DataFrame, label: str, classes: list[str]) -> pd.DataFrame:
    counts = pd.crosstab(manifest[label], manifest["split"]).reindex(index=classes, columns=list(SPLITS), fill_value=0)
    counts["all"] = counts.sum(axis=1)
    counts.index.name, counts.columns.name = label, None
    return counts.astype(int)


def numeric_summary(manifest: pd.DataFrame, label: str) -> pd.DataFrame:
    values = pd.to_numeric(manifest[label])
    by_split = {split: values[manifest["split"] == split] for split in SPLITS} | {"all": values}
    summary = pd.DataFrame(
        {split: series.agg(["count", "mean", "std", "min", "max"]) for split, series in by_split.items()}
    )
    summary.index.name = label
    return summary


def write_sample_grid(
    manifest: pd.DataFrame,
    root: Path,
    columns: list[str],
    output_path: Path,
    n_images: int = 16,
    seed: int = 0,
    size: int = 96,
) -> Path:
    """A PNG of `n_images` images (seeded pick, spread over the classes of the first column), each titled with the
    values of `columns`."""
    from faceaudit.figures import plt, save  # matplotlib loads only when a grid is drawn

    rows = pick_samples(manifest, columns[0] if columns else None, n_images, seed)
    n_columns = min(4, len(rows)) or 1
    n_rows = -(-len(rows) // n_columns) or 1
    figure, axes = plt.subplots(n_rows, n_columns, figsize=(2.2 * n_columns, 2.5 * n_rows), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for axis, row in zip(axes.flat, rows.to_dict("records")):
        axis.imshow(load_image(Path(root) / row["path"], size, "rgb"))
        axis.set_title("\n".join(f"{column}: {row[column]}" for column in columns), fontsize=7)
    save(figure, output_path)
    return Path(output_path)


def pick_samples(manifest: pd.DataFrame, column: str | None, n_images: int, seed: int) -> pd.DataFrame:
    """Round-robin over the classes of `column` (each shuffled, seeded) so that small classes are shown too."""
    rng = np.random.default_rng(seed)
    if column is None:
        return manifest.iloc[rng.permutation(len(manifest))[:n_images]]
    groups = [members.iloc[rng.permutation(len(members))] for _, members in manifest.groupby(column, sort=True)]
    longest = max(map(len, groups), default=0)
    picked = [group.iloc[[position]] for position in range(longest) for group in groups if position < len(group)]
    return pd.concat(picked[:n_images]) if picked else manifest.iloc[:0]
