"""The data stage of the real workflow on a real layout: a UTKFace-style archive served over loopback HTTP is
downloaded (its sha256 recorded in the lock file), parsed (a malformed name rejected), and preprocessed; a
--configfile study replaces the default one instead of being merged into it."""

import functools
import http.server
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from faceaudit.bench.without_slurm import environment_without_slurm

REPO = Path(__file__).resolve().parents[2]
DEFAULT_STUDY = (REPO / "config" / "config.yaml").read_text()


def utkface_archive(folder: Path) -> Path:
    images = folder / "UTKFace"
    images.mkdir(parents=True)
    for number in range(24):
        name = f"{20 + number}_{number % 2}_{number % 5}_2017011617{number:06d}.jpg.chip.jpg"
        Image.fromarray(np.full((60, 60, 3), 8 * number, dtype=np.uint8)).save(images / name, quality=90)
    Image.fromarray(np.zeros((60, 60, 3), dtype=np.uint8)).save(images / "39_1_20170116174525125.jpg.chip.jpg")
    archive = folder / "UTKFace.tar.gz"
    with tarfile.open(archive, "w:gz") as opened:
        opened.add(images, arcname="UTKFace")
    return archive


def study(url: str) -> dict:
    return {
        "datasets": {
            "utk": {
                "layout": "utkface_names",
                "download": [{"url": url}],
                "labels": {
                    "age": "numeric",
                    "gender": ["Male", "Female"],
                    "race": ["White", "Black", "Asian", "Indian", "Others"],
                },
                "sensitive_attributes": ["race"],
                "split": {"val": 0.25, "test": 0.25},
                "max_reject_fraction": 0.1,
            }
        },
        "experiments": {
            "gender": {"dataset": "utk", "targets": ["gender"], "model": "small_cnn", "image": {"size": 16}}
        },
    }


def snakemake(workdir: Path, *arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir), "-c2", *arguments]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=environment_without_slurm())
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result


@pytest.fixture(scope="module")
def served_archive(tmp_path_factory):
    folder = tmp_path_factory.mktemp("server")
    utkface_archive(folder)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *arguments: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/UTKFace.tar.gz"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, served_archive) -> Path:
    workdir = tmp_path_factory.mktemp("study")
    (workdir / "config").mkdir()
    (workdir / "config" / "config.yaml").write_text(DEFAULT_STUDY)
    (workdir / "utk.yaml").write_text(yaml.safe_dump(study(served_archive)))
    return workdir


def test_configfile_replaces_the_default_study(workdir):
    plan = snakemake(workdir, "-n", "--configfile", str(workdir / "utk.yaml")).stdout

    assert "download" in plan and "synthesize" not in plan and "synthetic_faces" not in plan


def test_download_manifest_and_preprocess_of_a_served_archive(workdir):
    snakemake(workdir, "results/data/utk/16-gray/train.npy", "--configfile", str(workdir / "utk.yaml"))

    lock = yaml.safe_load((workdir / "config" / "checksums.lock.yaml").read_text())
    assert list(lock["utk"]) == ["UTKFace.tar.gz"] and len(lock["utk"]["UTKFace.tar.gz"]) == 64
    rejects = pd.read_csv(workdir / "results/data/utk/rejects.csv")
    assert rejects["path"].tolist() == ["UTKFace/39_1_20170116174525125.jpg.chip.jpg"]
    assert rejects["reason"].tolist() == ["file name does not follow age_gender_race_timestamp.jpg.chip.jpg"]
    manifest = pd.read_csv(workdir / "results/data/utk/manifest.csv")
    assert list(manifest.columns) == ["path", "split", "age", "gender", "race"]
    assert len(manifest) == 24 and manifest["age"].between(20, 43).all()
    train = np.load(workdir / "results/data/utk/16-gray/train.npy", mmap_mode="r")
    assert train.shape == ((manifest["split"] == "train").sum(), 16, 16, 1)
    log = (workdir / "logs/preprocess/utk/16-gray.log").read_text()
    assert "images/s" in log and "ETA" in log


@pytest.mark.parametrize("name", ["fairface", "celeba", "utkface", "class_folders", "ip102"])
def test_each_real_dataset_config_plans_without_the_data(tmp_path, name):
    plan = snakemake(tmp_path, "-n", "--configfile", str(REPO / "config" / f"{name}.yaml")).stdout

    assert "download" in plan and "manifest" in plan and "train" in plan
    assert "synthesize" not in plan


def test_data_put_in_place_by_hand_needs_no_download_rule(tmp_path, served_archive):
    """A dataset with an empty `download:` whose files a user extracted into resources/<dataset>/data/ by hand: no
    download job, and no "missing provenance/metadata ... download" message (issue 11, item 16)."""
    archive = utkface_archive(tmp_path / "unpacked")
    with tarfile.open(archive) as opened:
        opened.extractall(tmp_path / "resources" / "utk" / "data", filter="data")
    config = study(served_archive)
    config["datasets"]["utk"]["download"] = []
    (tmp_path / "utk.yaml").write_text(yaml.safe_dump(config))

    target = "results/data/utk/manifest.csv"  # targets go before --configfile, which takes several values
    planned = snakemake(tmp_path, target, "-n", "--configfile", str(tmp_path / "utk.yaml"))
    built = snakemake(tmp_path, target, "--configfile", str(tmp_path / "utk.yaml"))

    for result in (planned, built):
        output = result.stdout + result.stderr
        assert "rule download" not in output and "missing provenance/metadata" not in output
    assert len(pd.read_csv(tmp_path / "results/data/utk/manifest.csv")) == 24
