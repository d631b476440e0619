"""The face VAE as a study run and the sine-wave comparison: files written, model reloadable, both in the report."""

import base64
import json
import re
import shutil
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import run_snakemake, write_config
from face_images import draw_faces, load_faces
from PIL import Image

from faceaudit.report import report_files, write_report
from faceaudit.training.sine import compare_sine_models
from faceaudit.training.vae_run import train_vae_run

VAE_SPEC = {
    "run": "faces_vae",
    "experiment": "faces_vae",
    "dataset": "faces",
    "model": "vae",
    "targets": {},
    "image_size": 32,
    "color": "gray",
    "grid_point": {},
    "seed": 7,
    "hyperparameters": {"learning_rate": 0.001, "batch_size": 4, "epochs": 1, "optimizer": "adam"},
    "vae": {"latent_size": 10, "reconstruction_loss": "bce"},
}
SECTIONS = ("Generative model (VAE)", "Sequence models: sine wave")


@pytest.fixture(scope="module")
def vae_dir(tmp_path_factory):
    """results/vae/faces_vae of one epoch on 12 JPEG faces (8 to train, 4 to validate)."""
    root = tmp_path_factory.mktemp("vae")
    faces = load_faces(draw_faces(root / "faces", count=12), 32, "gray")
    run_dir = root / "faces_vae"
    run_dir.mkdir()
    out = {
        key: run_dir / file
        for key, file in {
            "model": "model.keras",
            "history": "history.csv",
            "run_info": "run.json",
            "samples": "samples.png",
            "reconstructions": "reconstructions.png",
        }.items()
    }
    train_vae_run(VAE_SPEC, faces[:8], faces[8:], out, threads=1)
    return root


@pytest.fixture(scope="module")
def sequence_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sequence")
    test_mse = compare_sine_models(folder / "sine_comparison.png", epochs=1, window_length=10, seed=0)
    (folder / "sine_comparison.json").write_text(json.dumps(test_mse))
    return folder


def test_a_vae_run_writes_its_model_history_grids_and_run_info(vae_dir):
    run_dir = vae_dir / "faces_vae"
    info = json.loads((run_dir / "run.json").read_text())
    history = pd.read_csv(run_dir / "history.csv")
    reloaded = keras.models.load_model(run_dir / "model.keras")

    assert info["encoder_parameters"] == 58_772 and info["decoder_parameters"] == 45_569
    assert info["parameters"] == 58_772 + 45_569
    assert (
        info["vae"] == VAE_SPEC["vae"]
        and info["epochs_completed"] == 1
        and info["pixel_range"][1] > info["pixel_range"][0]
    )
    assert len(info["images_per_second"]) == 1 and info["training_seconds"] > 0 and info["host"]
    assert list(history["epoch"]) == [0]
    assert {"loss", "reconstruction_loss", "kl_loss", "val_loss"} <= set(history.columns)
    assert info["final_losses"]["val_loss"] == pytest.approx(history["val_loss"].iloc[-1])
    assert reloaded.encoder.count_params() == 58_772 and reloaded.decoder.count_params() == 45_569
    for grid in ("samples.png", "reconstructions.png"):
        with Image.open(run_dir / grid) as png:
            assert png.format == "PNG" and png.width >= 400  # 5 sampled or 8 reconstructed faces a row


def write_data_dir(data_dir):
    faces = data_dir / "faces"
    faces.mkdir(parents=True)
    pd.DataFrame({"path": ["a.jpg", "b.jpg"], "split": ["train", "val"], "gender": ["Female", "Male"]}).to_csv(
        faces / "manifest.csv", index=False
    )
    pd.DataFrame(columns=["path", "reason"]).to_csv(faces / "rejects.csv", index=False)


def test_report_shows_the_vae_and_the_sine_comparison(vae_dir, sequence_dir, tmp_path):
    results = tmp_path / "results"
    write_data_dir(results / "data")
    shutil.copytree(vae_dir / "faces_vae", results / "vae/faces_vae")
    shutil.copytree(sequence_dir, results / "sequence")
    config = {
        "datasets": {"faces": {"layout": "synthetic", "labels": {"gender": ["Female", "Male"]}}},
        "sequence_comparison": {"enabled": True, "epochs": 1, "window_length": 10, "seed": 0},
    }
    vae_runs = {"faces_vae": VAE_SPEC}
    write_report(
        {},
        config,
        {},
        report_files({}, vae_runs, ["faces"], sequence=True, root=results),
        tmp_path / "report",
        vae_runs=vae_runs,
    )
    index = (tmp_path / "report/index.html").read_text()

    vae_part = index[index.index(SECTIONS[0]) : index.index(SECTIONS[1])]
    assert "faces_vae" in vae_part and "58,772" in vae_part and "45,569" in vae_part and "bce" in vae_part
    assert "faces sampled by faces_vae" in vae_part and "faces reconstructed by faces_vae" in vae_part
    sequence_part = index[index.index(SECTIONS[1]) : index.index("<h2>Data</h2>")]
    test_mse = json.loads((sequence_dir / "sine_comparison.json").read_text())
    shown = dict(re.findall(r'data-model="(\w+)" data-value="([^"]+)"', sequence_part))
    assert {model: float(value) for model, value in shown.items()} == test_mse
    sources = re.findall(r'<img alt="[^"]*" src="([^"]+)"', vae_part + sequence_part)
    assert len(sources) == 3  # sampled faces, reconstructions, sine plot
    assert all(base64.b64decode(source.removeprefix("data:image/png;base64,"))[:4] == b"\x89PNG" for source in sources)
    assert "This study trains no classifier" in index


def test_report_without_vae_runs_or_sine_comparison_has_neither_section(tmp_path):
    write_data_dir(tmp_path / "results/data")
    config = {
        "datasets": {"faces": {"layout": "synthetic", "labels": {"gender": ["Female", "Male"]}}},
        "sequence_comparison": {"enabled": False, "epochs": 1, "window_length": 10, "seed": 0},
    }
    files = report_files({}, {}, ["faces"], root=tmp_path / "results")
    write_report({}, config, {}, files, tmp_path / "report", vae_runs={})
    index = (tmp_path / "report/index.html").read_text()

    assert not any(section in index for section in SECTIONS)


VAE_STUDY = {
    "seed": 3,
    "datasets": {
        "faces": {
            "layout": "synthetic",
            "synthetic": {
                "n_images": 60,
                "image_size": 32,
                "seed": 5,
                "groups": [{"name": "A", "share": 0.5}, {"name": "B", "share": 0.5}],
            },
            "labels": {"gender": ["Female", "Male"], "age": ["young", "old"], "group": ["A", "B"]},
            "sensitive_attributes": ["group"],
            "split": {"val": 0.2, "test": 0.2},
        },
    },
    "experiments": {
        "faces_vae": {
            "dataset": "faces",
            "model": "vae",
            "image": {"size": 32, "color": "gray"},
            "epochs": 1,
            "batch_size": 16,
            "vae": {"latent_size": 8},
        },
    },
    "sequence_comparison": {"enabled": True, "epochs": 1},
}


def test_workflow_trains_the_vae_runs_the_sine_comparison_and_reports_both(tmp_path):
    write_config(tmp_path, VAE_STUDY)
    run_snakemake(tmp_path)

    run_dir = tmp_path / "results/vae/faces_vae"
    info = json.loads((run_dir / "run.json").read_text())
    assert info["vae"] == {"latent_size": 8, "reconstruction_loss": "bce"} and info["epochs_completed"] == 1
    assert (tmp_path / "benchmarks/train_vae/faces_vae.tsv").exists()
    assert keras.models.load_model(run_dir / "model.keras").decoder.input_shape == (None, 8)
    index = (tmp_path / "results/report/index.html").read_text()
    assert all(section in index for section in SECTIONS)
    test_mse = json.loads((tmp_path / "results/sequence/sine_comparison.json").read_text())
    assert set(test_mse) == {"sequence_mlp", "lstm", "gru"} and all(np.isfinite(list(test_mse.values())))
    for model, value in test_mse.items():
        assert f'data-model="{model}" data-value="{value!r}"' in index


VAE_SCRIPT = """
import json, sys
from pathlib import Path
import numpy as np
from faceaudit.training.vae_run import train_vae_run

spec, folder = json.loads(sys.argv[1]), Path(sys.argv[2])
out = {key: folder / f"{key}.out" for key in ("history", "run_info")} | {
    "model": folder / "model.keras",
    "samples": folder / "samples.png",
    "reconstructions": folder / "reconstructions.png",
}
train_vae_run(spec, np.load(folder / "train.npy"), np.load(folder / "val.npy"), out, threads=1)
"""


def test_a_killed_vae_run_resumes_from_its_last_epoch(tmp_path):
    faces = load_faces(draw_faces(tmp_path / "faces", count=40), 32, "gray")
    np.save(tmp_path / "train.npy", faces[:32])
    np.save(tmp_path / "val.npy", faces[32:])
    spec = VAE_SPEC | {"hyperparameters": {**VAE_SPEC["hyperparameters"], "epochs": 12, "batch_size": 1}}
    process = subprocess.Popen([sys.executable, "-c", VAE_SCRIPT, json.dumps(spec), str(tmp_path)])
    epoch_log = tmp_path / "checkpoint/history.csv"
    try:
        deadline = time.monotonic() + 180
        while process.poll() is None and time.monotonic() < deadline:
            if epoch_log.exists() and len(epoch_log.read_text().splitlines()) > 2:  # header + 2 epochs
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL, "training ended before it could be killed"

    completed = subprocess.run(
        [sys.executable, "-c", VAE_SCRIPT, json.dumps(spec), str(tmp_path)], capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    info = json.loads((tmp_path / "run_info.out").read_text())
    assert 1 <= info["resumed_from_epoch"] < 12 and info["epochs_completed"] == 12
    assert len(info["images_per_second"]) == 12 - info["resumed_from_epoch"], "only the remaining epochs were trained"
    assert list(pd.read_csv(tmp_path / "history.out")["epoch"]) == list(range(12))
    assert not (tmp_path / "checkpoint").exists()
