"""The data audit, before any training: on a dataset's preprocessed splits, group x label counts and base rates per
split, exact and near-duplicate images within and across splits (train/test leakage), and brightness, contrast and
sharpness per group. Exact copies across splits are leakage; near copies are flagged as possible leakage only where
more held-out images have one than the dataset's own similarity predicts (faceaudit.data.leakage)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from faceaudit.data.arrays import read_split
from faceaudit.data.duplicates import find_duplicates
from faceaudit.data.hashing import HASH_BITS, content_digests, gray, perceptual_hashes
from faceaudit.data.leakage import judge_leakage
from faceaudit.labels import NUMERIC, SPLITS
from faceaudit.study.result_types import DataAudit

CHUNK_IMAGES = 4096  # images read from the memory map at a time: a few MB at 32 px, bounded at any size
IMAGE_STATISTICS = {
    "brightness": "mean luminance (0-255)",
    "contrast": "standard deviation of luminance",
    "sharpness": "variance of the 4-neighbour Laplacian of luminance",
}


def image_features(images: np.ndarray) -> dict[str, np.ndarray]:
    """Per image: perceptual hash, content digest, brightness, contrast and sharpness; read in chunks so that a
    memory-mapped split is never loaded whole."""
    parts = [
        chunk_features(np.asarray(images[start : start + CHUNK_IMAGES]))
        for start in range(0, len(images), CHUNK_IMAGES)
    ]
    if not parts:
        return {"hash": np.zeros(0, np.uint64), "digest": np.zeros(0, np.uint64)} | {
            name: np.zeros(0) for name in IMAGE_STATISTICS
        }
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def chunk_features(images: np.ndarray) -> dict[str, np.ndarray]:
    luminance = gray(images)
    flat = luminance.reshape(len(luminance), -1)
    laplacian = luminance[:, :-2, 1:-1] + luminance[:, 2:, 1:-1]
    laplacian += luminance[:, 1:-1, :-2]
    laplacian += luminance[:, 1:-1, 2:]
    laplacian -= 4 * luminance[:, 1:-1, 1:-1]
    return {
        "hash": perceptual_hashes(luminance),
        "digest": content_digests(images),
        "brightness": flat.mean(axis=1).astype(np.float64),
        "contrast": np.sqrt(variances(flat)),
        "sharpness": variances(laplacian.reshape(len(laplacian), -1)),
    }


def variances(rows: np.ndarray) -> np.ndarray:
    """Each row's population variance (float32 arithmetic is exact enough for 8-bit pixels, and twice as fast)."""
    centred = rows - rows.mean(axis=1, keepdims=True)
    return (np.einsum("ij,ij->i", centred, centred) / rows.shape[1]).astype(np.float64)


def audit_splits(
    splits: dict[str, tuple[np.ndarray, pd.DataFrame]],
    labels: dict,
    sensitive_attributes: list[str],
    near_duplicate_distance: int,
    examples: int,
    leakage_alpha: float = 0.01,
) -> DataAudit:
    """The audit of one dataset from its splits {split: (images, rows)}; rows hold `path` and the label columns;
    leakage_alpha is the family-wise level at which near copies across splits count as possible leakage."""
    features = [image_features(images) for images, _ in (splits[split] for split in SPLITS)]
    rows = pd.concat([splits[split][1].assign(split=split) for split in SPLITS], ignore_index=True)
    merged = {key: np.concatenate([part[key] for part in features]) for key in features[0]}
    split_of_image = np.repeat(np.arange(len(SPLITS)), [len(splits[split][1]) for split in SPLITS])
    duplicates = find_duplicates(merged["hash"], merged["digest"], split_of_image, near_duplicate_distance, examples)
    duplicates = judge_leakage(duplicates, leakage_alpha)
    return {
        "images": {split: len(splits[split][1]) for split in SPLITS},
        "image_size": image_shape(splits),
        "settings": {
            "near_duplicate_distance": near_duplicate_distance,
            "hash_bits": HASH_BITS,
            "examples": examples,
            "leakage_alpha": leakage_alpha,
        },
        "group_labels": group_label_tables(rows, labels, sensitive_attributes),
        "duplicates": [with_example_paths(summary, splits) for summary in duplicates],
        "image_statistics": image_statistics(rows, merged, labels, sensitive_attributes),
        "statistic_descriptions": IMAGE_STATISTICS,
    }


def image_shape(splits: dict) -> list[int]:
    return next((list(images.shape[1:]) for images, _ in splits.values() if len(images)), [])


def with_example_paths(summary: dict, splits: dict) -> dict:
    """Example pairs with each image's split, row number in its split's files and manifest path."""
    first, second = summary["splits"]

    def image(split: str, row: int) -> dict:
        return {"split": split, "row": row, "path": str(splits[split][1]["path"].iloc[row])}

    summary["examples"] = {
        kind: [
            {
                "first": image(first, pair["first_row"]),
                "second": image(second, pair["second_row"]),
                "distance": pair["distance"],
            }
            for pair in pairs
        ]
        for kind, pairs in summary["examples"].items()
    }
    return summary


def groups_of(rows: pd.DataFrame, attribute: str, labels: dict) -> list[str]:
    """The attribute's groups in their declared order (present or not), then any other value found."""
    declared = [] if labels.get(attribute) == NUMERIC else list(labels.get(attribute, []))
    return declared + sorted(set(rows[attribute]) - set(declared))


def group_label_tables(rows: pd.DataFrame, labels: dict, sensitive_attributes: list[str]) -> list[dict]:
    """Per sensitive attribute and other label: per split, each group's size and its count and share (base rate)
    of every class; for a numeric label, its mean and standard deviation instead."""
    tables = []
    for attribute in sensitive_attributes:
        for label, classes in labels.items():
            if label == attribute:
                continue
            numeric = classes == NUMERIC
            tables.append(
                {
                    "attribute": attribute,
                    "label": label,
                    "classes": [] if numeric else list(classes),
                    "numeric": numeric,
                    "splits": {
                        split: group_rows(rows[rows["split"] == split], attribute, label, classes, labels)
                        for split in SPLITS
                    },
                }
            )
    return tables


def group_rows(rows: pd.DataFrame, attribute: str, label: str, classes, labels: dict) -> list[dict]:
    result = []
    for group in groups_of(rows, attribute, labels):
        members = rows[rows[attribute] == group]
        entry = {"group": group, "n": len(members)}
        if classes == NUMERIC:
            values = pd.to_numeric(members[label])
            entry |= {"mean": finite(values.mean()), "sd": finite(values.std())}
        else:
            counts = members[label].value_counts().reindex(classes, fill_value=0)
            entry |= {
                "counts": [int(count) for count in counts],
                "rates": [count / len(members) if len(members) else None for count in counts],
            }
        result.append(entry)
    return result


def finite(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def image_statistics(rows: pd.DataFrame, features: dict, labels: dict, sensitive_attributes: list[str]) -> list[dict]:
    """Per sensitive attribute: per group (all splits together), each statistic's mean with its 95% interval and
    its spread; and per statistic the gap between the groups with the highest and lowest mean, in pooled standard
    deviations (a standardised mean difference)."""
    sections = []
    for attribute in sensitive_attributes:
        groups = []
        for group in groups_of(rows, attribute, labels):
            members = (rows[attribute] == group).to_numpy()
            groups.append(
                {"group": group, "n": int(members.sum())}
                | {name: describe(features[name][members]) for name in IMAGE_STATISTICS}
            )
        sections.append({"attribute": attribute, "groups": groups, "gaps": statistic_gaps(groups)})
    return sections


def describe(values: np.ndarray) -> dict:
    """Mean with a t interval (95%), standard deviation, quartiles; None for what too few values cannot give."""
    n = len(values)
    if n == 0:
        return {key: None for key in ("mean", "low", "high", "sd", "q25", "median", "q75")}
    mean = float(values.mean())
    sd = float(values.std(ddof=1)) if n > 1 else None
    half_width = float(stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n)) if n > 1 else None
    q25, median, q75 = (float(value) for value in np.percentile(values, [25, 50, 75]))
    return {
        "mean": mean,
        "low": None if half_width is None else mean - half_width,
        "high": None if half_width is None else mean + half_width,
        "sd": sd,
        "q25": q25,
        "median": median,
        "q75": q75,
    }


def statistic_gaps(groups: list[dict]) -> dict:
    """Per statistic: the groups with the highest and lowest mean, the difference, and it in pooled standard
    deviations (None with fewer than two groups of two images or more)."""
    gaps = {}
    for name in IMAGE_STATISTICS:
        described = [group for group in groups if group["n"] > 1 and group[name]["sd"] is not None]
        if len(described) < 2:
            gaps[name] = None
            continue
        high = max(described, key=lambda group: group[name]["mean"])
        low = min(described, key=lambda group: group[name]["mean"])
        difference = high[name]["mean"] - low[name]["mean"]
        pooled = np.sqrt(
            ((high["n"] - 1) * high[name]["sd"] ** 2 + (low["n"] - 1) * low[name]["sd"] ** 2)
            / (high["n"] + low["n"] - 2)
        )
        gaps[name] = {
            "highest": high["group"],
            "lowest": low["group"],
            "difference": difference,
            "standardised": float(difference / pooled) if pooled > 0 else None,
        }
    return gaps


def audit_files(
    images_paths: dict[str, Path],
    rows_paths: dict[str, Path],
    labels: dict,
    sensitive_attributes: list[str],
    near_duplicate_distance: int,
    examples: int,
    leakage_alpha: float = 0.01,
) -> dict:
    """The audit of the preprocessed splits on disk (memory-mapped, never loaded whole)."""
    splits = {split: read_split(images_paths[split], rows_paths[split]) for split in SPLITS}
    return audit_splits(splits, labels, sensitive_attributes, near_duplicate_distance, examples, leakage_alpha)


def duplicate_lines(audit: dict) -> list[str]:
    """One line per split pair for a log: images with exact and near copies, and across splits the verdicts."""
    lines = []
    for summary in audit["duplicates"]:
        first, second = summary["splits"]
        line = (
            f"{first}/{second}: {summary['images_with_exact_copy']} of {summary['images']} {second} images with an "
            f"exact copy, {summary['images_with_near_copy']} with a near copy"
        )
        if "near_copies" in summary:
            near = summary["near_copies"]
            p_value = "n/a" if near["p_value"] is None else f"{near['p_value']:.2g}"
            line += f"; exact leakage: {summary['exact_leak']}, near copies: {near['verdict']} (p = {p_value})"
        lines.append(line)
    return lines


def write_audit(audit: dict, output_path: Path) -> Path:
    Path(output_path).parent.mkdir(parents=True, exist_ok=True)
    Path(output_path).write_text(json.dumps(audit, indent=1))
    return Path(output_path)
