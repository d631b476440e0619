"""The report's sections for models that are not face classifiers: the face VAE and the sine-wave comparison."""

from faceaudit.report.render import number
from faceaudit.report.results import figure, read_json

LOSS_NAMES = {"loss": "total loss", "reconstruction_loss": "reconstruction loss", "kl_loss": "KL divergence"}
SEQUENCE_MODEL_NAMES = {
    "sequence_mlp": "MLP (dense 16, 32)",
    "lstm": "LSTM (16, 32 units)",
    "gru": "GRU (16, 32 units)",
}


def vae_sections(vae_files: dict) -> list[dict]:
    """Per VAE run: its settings and size, its last epoch's losses, faces sampled from the latent space, and
    validation faces next to their reconstructions. Empty when the study has no VAE run."""
    sections = []
    for name, files in vae_files.items():
        info = read_json(files["run_info"])
        sections.append(
            {
                "name": name,
                "details": vae_details(info),
                "losses": losses(info["final_losses"]),
                "samples": figure(files["samples"], f"faces sampled by {name}"),
                "reconstructions": figure(files["reconstructions"], f"faces reconstructed by {name}"),
            }
        )
    return sections


def vae_details(info: dict) -> dict:
    hyperparameters = info["hyperparameters"]
    return {
        "dataset": info["dataset"],
        "input": f"{info['image_size']}x{info['image_size']} {info['color']}",
        "latent size": info["vae"]["latent_size"],
        "reconstruction loss": info["vae"]["reconstruction_loss"],
        "optimizer": f"{hyperparameters['optimizer']}, learning rate {hyperparameters['learning_rate']}, "
        f"batch size {hyperparameters['batch_size']}",
        "epochs completed": info["epochs_completed"],
        "parameters": f"{info['parameters']:,} (encoder {info['encoder_parameters']:,}, "
        f"decoder {info['decoder_parameters']:,})",
        "training time (s)": number(info["training_seconds"], 1),
        "seed": info["seed"],
        "host": info["host"],
        "SLURM job": info["slurm_job_id"] or "none (local run)",
    }


def losses(final_losses: dict) -> list[dict]:
    """The last epoch's losses on the training and (when there is one) the validation split."""
    return [
        {"label": label, "train": final_losses.get(key), "validation": final_losses.get(f"val_{key}")}
        for key, label in LOSS_NAMES.items()
    ]


def sequence_section(settings: dict, files: dict | None) -> dict | None:
    """The sine-wave comparison: the plot and each model's test MSE. None unless the comparison is enabled."""
    if not settings.get("enabled"):
        return None
    if files is None:
        raise ValueError("the sine-wave comparison is enabled but its files are not among the report's inputs")
    test_mse = read_json(files["scores"])
    return {
        "window_length": settings["window_length"],
        "epochs": settings["epochs"],
        "plot": figure(files["plot"], "next-value predictions of the sequence models against sin(x)"),
        "models": [
            {"model": model, "label": SEQUENCE_MODEL_NAMES.get(model, model), "test_mse": value}
            for model, value in test_mse.items()
        ],
    }
