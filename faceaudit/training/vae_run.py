"""Train one VAE run: seeded, on the images of its dataset, writing the model, its history, sampled and
reconstructed faces, and run.json (what ran, where, how fast)."""

import json
import shutil
import time
from pathlib import Path

import numpy as np

from faceaudit.training.checkpoints import fit_with_checkpoints, prepare_checkpoint, read_epoch_log
from faceaudit.training.inputs import make_dataset
from faceaudit.training.progress import RunProgress
from faceaudit.training.provenance import run_info
from faceaudit.training.resume import EPOCH_LOG
from faceaudit.training.runtime import configure_tensorflow, make_optimizer

RECONSTRUCTED_IMAGES = 8
SAMPLED_FACES = 10


def train_vae_run(
    spec: dict,
    train_images: np.ndarray,
    val_images: np.ndarray,
    out: dict,
    threads: int = 2,
    checkpoint_dir: Path | None = None,
) -> dict:
    """Fit the run's VAE on uint8 train images (validated on val images); write out["model"], out["history"],
    out["samples"], out["reconstructions"] and out["run_info"]; return the run info.

    Every epoch is checkpointed in checkpoint_dir (default: beside the model), so a killed job continues from its last
    finished epoch; the folder is removed at the end. The reconstructions are of the first validation images (of the
    training images when there are none).
    """
    from faceaudit.models.vae import build_vae
    from faceaudit.training.vae_figures import write_reconstruction_grid, write_sample_grid

    configure_tensorflow(spec["seed"], threads)
    checkpoint_dir = prepare_checkpoint(Path(checkpoint_dir or Path(out["model"]).parent / "checkpoint"), spec)
    pixel_range = (float(np.min(train_images)), float(np.max(train_images)))
    settings, hyperparameters = spec["vae"], spec["hyperparameters"]
    model = build_vae(
        train_images.shape[1:], settings["latent_size"], settings["reconstruction_loss"], pixel_range, seed=spec["seed"]
    )
    model.compile(optimizer=make_optimizer(hyperparameters["optimizer"], hyperparameters["learning_rate"]))
    batch_size = hyperparameters["batch_size"]
    train_data = make_dataset(train_images, None, batch_size, shuffle=True, seed=spec["seed"])
    val_data = make_dataset(val_images, None, batch_size, shuffle=False) if len(val_images) else None
    progress = RunProgress(
        spec["run"], [hyperparameters["epochs"]], [hyperparameters["learning_rate"]], len(train_images)
    )
    started = time.perf_counter()
    first_epoch = fit_with_checkpoints(model, train_data, val_data, checkpoint_dir, progress, step=0, epochs_before=0)
    training_seconds = time.perf_counter() - started

    history = read_epoch_log(checkpoint_dir / EPOCH_LOG)
    history.to_csv(out["history"], index=False)
    model.save(out["model"])
    write_sample_grid(model, Path(out["samples"]), count=SAMPLED_FACES, seed=spec["seed"])
    shown = val_images if len(val_images) else train_images
    write_reconstruction_grid(model, np.asarray(shown[:RECONSTRUCTED_IMAGES]), Path(out["reconstructions"]))

    info = run_info(spec, threads, model, pixel_range, len(history), training_seconds, progress.images_per_second)
    info.update(
        encoder_parameters=int(model.encoder.count_params()),
        decoder_parameters=int(model.decoder.count_params()),
        architecture="\n\n".join(summary(part) for part in (model.encoder, model.decoder)),
        final_losses={column: float(history[column].iloc[-1]) for column in history.columns if column != "epoch"},
        resumed_from_epoch=first_epoch or None,
        restored_epochs=[],  # no early stopping in a VAE run
    )
    Path(out["run_info"]).write_text(json.dumps(info, indent=2))
    shutil.rmtree(checkpoint_dir)
    return info


def summary(model) -> str:
    lines = []
    model.summary(print_fn=lambda line, **kwargs: lines.append(line))
    return "\n".join(lines)


def train_vae(
    vae,
    images: np.ndarray,
    epochs: int,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    validation_images: np.ndarray | None = None,
):
    """Compile a faceaudit.models.vae.VAE with Adam and fit it on images (pixels in its pixel_range) without
    checkpoints; returns the Keras History."""
    vae.compile(optimizer=make_optimizer("adam", learning_rate))
    return vae.fit(images, epochs=epochs, batch_size=batch_size, validation_data=validation_images, verbose=2)
