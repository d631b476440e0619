"""Shared fixtures: the tiny study that the end-to-end, browser and cluster tests run through the real workflow."""

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from faceaudit.bench.without_slurm import environment_without_slurm

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"

# Loaded from the YAML file so that a user can run the same study: snakemake --configfile tests/tiny_study.yaml
TINY_STUDY = yaml.safe_load((REPO / "tests" / "tiny_study.yaml").read_text())


def run_snakemake(workdir: Path, *arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir), "-c2", *arguments]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, env=environment_without_slurm())
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result


def validated_study(study: dict | str) -> dict:
    """A study config (a dict, or YAML text) as the workflow sees it: checked against the schema with its defaults
    filled in, then checked across keys (study.check_study). The caller's dict is not changed."""
    from faceaudit.study import check_study
    from faceaudit.study.validation import validate_config

    config = yaml.safe_load(study) if isinstance(study, str) else copy.deepcopy(study)
    validate_config(config, SCHEMA)
    check_study(config)
    return config


def write_config(workdir: Path, study: dict) -> None:
    (workdir / "config").mkdir(exist_ok=True)
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(study))


@pytest.fixture(scope="session")
def study_dir(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("study")
    write_config(workdir, TINY_STUDY)
    run_snakemake(workdir)
    return workdir
