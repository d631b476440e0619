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
    labels: dict,
    output_path: Path,
    n_images: int = 16,
    seed: int = 0,
    size: int = 96,
) -> Path:
    """A PNG of `n_images` images (seeded pick, balanced over the classes of every categorical label), each titled
    with its labels (numbers rounded)."""
    from faceaudit.figures import save  # matplotlib loads only when a grid is drawn

    save(sample_grid_figure(manifest, root, labels, n_images, seed, size), output_path)
    return Path(output_path)


def sample_grid_figure(manifest: pd.DataFrame, root: Path, labels: dict, n_images: int, seed: int, size: int):
    from faceaudit.figures import plt

    categorical = [label for label, classes in labels.items() if classes != NUMERIC]
    rows = pick_samples(manifest, categorical, n_images, seed)
    n_columns = min(4, len(rows)) or 1
    n_rows = -(-len(rows) // n_columns) or 1
    figure, axes = plt.subplots(n_rows, n_columns, figsize=(2.2 * n_columns, 2.5 * n_rows), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    for axis, row in zip(axes.flat, rows.to_dict("records")):
        axis.imshow(load_image(Path(root) / row["path"], size, "rgb"))
        axis.set_title(sample_title(row, labels), fontsize=7)
    return figure


def sample_title(row: dict, labels: dict) -> str:
    """One line per label; a numeric value (age in years) with one decimal at most."""
    return "\n".join(
        f"{label}: {f'{float(row[label]):.1f}'.removesuffix('.0') if classes == NUMERIC else row[label]}"
        for label, classes in labels.items()
    )


def pick_samples(manifest: pd.DataFrame, columns: list[str], n_images: int, seed: int) -> pd.DataFrame:
    """`n_images` rows, each chosen so that the classes of every column in `columns` are shown as evenly as
    possible: the next row is one whose classes have been shown least so far (summed over the columns); among those,
    one whose classes are rarest in the data (they are the hardest to show later), then a seeded random order.
    Without columns, a seeded random pick."""
    shuffled = manifest.iloc[np.random.default_rng(seed).permutation(len(manifest))]
    if not columns or shuffled.empty:
        return shuffled.iloc[:n_images]
    codes = np.column_stack([pd.factorize(shuffled[column])[0] for column in columns])
    in_data = [np.bincount(codes[:, index]) for index in range(len(columns))]
    rarity = sum(counts[codes[:, index]] for index, counts in enumerate(in_data))
    shown = [np.zeros_like(counts) for counts in in_data]
    available = np.ones(len(shuffled), dtype=bool)
    picked = []
    for _ in range(min(n_images, len(shuffled))):
        times_shown = sum(counts[codes[:, index]] for index, counts in enumerate(shown))
        score = np.where(available, times_shown * (rarity.max() + 1) + rarity, np.inf)
        choice = int(np.argmin(score))  # the first of equal scores: the seeded order
        picked.append(choice)
        available[choice] = False
        for index, counts in enumerate(shown):
            counts[codes[choice, index]] += 1
    return shuffled.iloc[picked]
