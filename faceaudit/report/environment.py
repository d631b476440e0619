"""What the study ran with: Python, the key packages' versions, the workflow's git commit."""

import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = [
    "tensorflow",
    "tensorflow-cpu",
    "keras",
    "numpy",
    "pandas",
    "scikit-learn",
    "aif360",
    "snakemake",
    "snakemake-executor-plugin-slurm",
    "pillow",
    "matplotlib",
]


def package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def git_commit(directory: Path) -> str:
    """The checkout's commit, marked '(modified)' when it has uncommitted changes."""

    def git(*arguments):
        return subprocess.run(["git", "-C", str(directory), *arguments], capture_output=True, text=True, timeout=30)

    commit = git("rev-parse", "HEAD")
    if commit.returncode != 0:
        return "not a git checkout"
    modified = git("status", "--porcelain", "--untracked-files=no").stdout.strip()
    return commit.stdout.strip() + (" (modified)" if modified else "")


def describe_environment(workflow_dir: Path) -> dict:
    versions = {name: package_version(name) for name in PACKAGES}
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "workflow commit": git_commit(workflow_dir),
        **{name: version for name, version in versions.items() if version is not None},
    }
