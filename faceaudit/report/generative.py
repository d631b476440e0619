"""The report's sections for models that are not face classifiers: the face VAE and the sine-wave comparison."""

import json
from pathlib import Path

from faceaudit.report.html import embed_png, escape, key_value_table, name_cell, number, table

LOSS_NAMES = {"loss": "total loss", "reconstruction_loss": "reconstruction loss", "kl_loss": "KL divergence"}
SEQUENCE_MODEL_NAMES = {"sequence_mlp": "MLP (dense 16, 32)", "lstm": "LSTM (16, 32 units)", "gru": "GRU (16, 32 units)"}


def vae_section(vae_runs: dict, vae_dir: Path) -> str:
    """Per VAE run: its settings and size, its last epoch's losses, faces sampled from the latent space, and
    validation faces next to their reconstructions. Empty when the study has no VAE run."""
    if not vae_runs:
        return ""
    parts = [
        "<h2>Generative model (VAE)</h2>",
        "<p>A variational autoencoder learns to encode each face as a Gaussian in a small latent space and to decode "
        "it again; its loss is the reconstruction error plus the KL divergence of the latent Gaussian from N(0, I). "
        "The sampled faces are decoded from random latent vectors z ~ N(0, I); the reconstructions show held-out "
        "faces above what the VAE makes of them.</p>",
    ]
    for name in vae_runs:
        run_dir = Path(vae_dir) / name
        info = json.loads((run_dir / "run.json").read_text())
        parts += [
            f"<h3>{escape(name)}</h3>",
            key_value_table(vae_details(info)),
            losses_table(info["final_losses"]),
            embed_png(run_dir / "samples.png", f"faces sampled by {name}"),
            embed_png(run_dir / "reconstructions.png", f"faces reconstructed by {name}"),
        ]
    return "\n".join(parts)


def vae_details(info: dict) -> dict:
    hyperparameters = info["hyperparameters"]
    return {
        "dataset": info["dataset"], "input": f"{info['image_size']}x{info['image_size']} {info['color']}",
        "latent size": info["vae"]["latent_size"], "reconstruction loss": info["vae"]["reconstruction_loss"],
        "optimizer": f"{hyperparameters['optimizer']}, learning rate {hyperparameters['learning_rate']}, batch size {hyperparameters['batch_size']}",
        "epochs completed": info["epochs_completed"],
        "parameters": f"{info['parameters']:,} (encoder {info['encoder_parameters']:,}, decoder {info['decoder_parameters']:,})",
        "training time (s)": info["training_seconds"], "seed": info["seed"],
        "host": info["host"], "SLURM job": info["slurm_job_id"] or "none (local run)",
    }


def losses_table(final_losses: dict) -> str:
    """The last epoch's losses on the training and (when there is one) the validation split."""
    rows = [name_cell(label) + "".join(f"<td>{number(final_losses.get(prefix + key))}</td>" for prefix in ("", "val_"))
            for key, label in LOSS_NAMES.items()]
    return table(["last epoch", "train", "validation"], rows)


def sequence_section(settings: dict, sequence_dir: Path) -> str:
    """The sine-wave comparison: the plot and each model's test MSE. Empty unless the comparison is enabled."""
    if not settings.get("enabled"):
        return ""
    test_mse = json.loads((Path(sequence_dir) / "sine_comparison.json").read_text())
    rows = [name_cell(SEQUENCE_MODEL_NAMES.get(model, model)) + f'<td data-model="{escape(model)}" data-value="{value!r}">{number(value, 5)}</td>'
            for model, value in test_mse.items()]
    return "\n".join([
        "<h2>Sequence models: sine wave</h2>",
        f"<p>Three small models learn to predict the next value of a noisy sine wave from the previous "
        f"{settings['window_length']} values ({settings['epochs']} epochs each, trained on the first 80% of the wave). "
        "The plot shows their predictions on the held-out last 20% against the noise-free sin(x); the table gives "
        "each model's mean squared error there (lower is better). It is a check of the sequence models, separate "
        "from the face study.</p>",
        embed_png(Path(sequence_dir) / "sine_comparison.png", "next-value predictions of the sequence models against sin(x)"),
        table(["model", "test MSE against sin(x)"], rows),
    ])
