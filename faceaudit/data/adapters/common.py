"""Small helpers shared by the dataset adapters."""

from pathlib import Path

import pandas as pd

from faceaudit.labels import NUMERIC


def require_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {what} is missing")
    return path


def require_folder(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: {what} is missing")
    return path


def single_class_label(labels: dict, layout: str) -> tuple[str, list[str]]:
    """The one label with class names that layouts reading a single label (folder name, list entry) fill in."""
    if len(labels) != 1 or labels[next(iter(labels))] == NUMERIC:
        raise ValueError(f"layout '{layout}' reads one label with class names; the dataset declares {labels}")
    return next(iter(labels.items()))


def decode_codes(codes: pd.Series, classes: list[str]) -> pd.Series:
    """Class names for 0-based integer codes (position in the declared class list); other values are kept as they are,
    so that the manifest rejects them as unknown values."""
    names = {str(position): name for position, name in enumerate(classes)}
    return codes.map(lambda code: names.get(code, code))


def files_under(folder: Path) -> list[Path]:
    """Every file below `folder` in a stable order, hidden files (.DS_Store, ...) left out. Symlinks are listed too,
    dangling ones included, so that the manifest refuses them with a reason rather than losing them."""
    return sorted(
        path
        for path in folder.rglob("*")
        if (path.is_file() or path.is_symlink())
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )
