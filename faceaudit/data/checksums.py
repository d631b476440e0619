"""The checksum lock file: the sha256 of each downloaded file that has no published checksum, recorded at first use."""

import fcntl
from pathlib import Path

import yaml

HEADER = (
    "# sha256 of dataset files without a published checksum, recorded by the first download "
    "(faceaudit.data.download).\n"
    "# Commit this file: every later download or pre-staged copy is checked against it.\n"
)


def recorded(lock_path: Path, dataset: str, name: str) -> str | None:
    return read_lock(lock_path).get(dataset, {}).get(name)


def read_lock(lock_path: Path) -> dict:
    lock_path = Path(lock_path)
    if not lock_path.is_file():
        return {}
    content = yaml.safe_load(lock_path.read_text()) or {}
    if not isinstance(content, dict):
        raise ValueError(f"{lock_path}: expected a mapping dataset -> file name -> sha256")
    return content


def record(lock_path: Path, dataset: str, name: str, sha256: str) -> None:
    """Add one entry, holding an exclusive lock on the file so that parallel downloads keep each other's entries."""
    lock_path = Path(lock_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        file.seek(0)
        content = yaml.safe_load(file.read()) or {}
        content.setdefault(dataset, {})[name] = sha256
        file.seek(0)
        file.truncate()
        file.write(HEADER + yaml.safe_dump(content, sort_keys=True))
