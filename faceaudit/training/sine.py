"""The sine-wave comparison: an MLP, an LSTM and a GRU (faceaudit.models.sequence) predict the next value of a
noisy sine wave from a window of previous values (MSE); one plot shows the three learned mappings against sin(x).
Standalone: not part of the face workflow."""

import json
from pathlib import Path

import keras
import numpy as np

from faceaudit.catalog import SEQUENCE_MODELS
from faceaudit.figures import plt, save
from faceaudit.models.sequence import build_sequence_model


def make_sine_data(
    n_windows: int = 1000, window_length: int = 10, step: float = 0.1, noise: float = 0.05, seed: int = 0
):
    """Windows of a noisy sin(x) sampled every `step`, the value that follows each, and that value's x."""
    rng = np.random.default_rng(seed)
    x = np.arange(n_windows + window_length) * step
    values = (np.sin(x) + noise * rng.standard_normal(x.shape)).astype("float32")
    positions = np.arange(n_windows)[:, None] + np.arange(window_length)
    windows = values[positions][..., None]
    return windows, values[window_length:], x[window_length:]


def compare_sine_models(
    plot_path: Path, epochs: int = 5, window_length: int = 10, seed: int = 0, test_share: float = 0.2
) -> dict:
    """Train the three models on the first part of the wave; plot their predictions on the rest (the test part)
    against sin(x); return each model's test MSE against the noise-free sin(x)."""
    keras.utils.set_random_seed(seed)
    windows, next_values, x = make_sine_data(window_length=window_length, seed=seed)
    n_train = int(len(windows) * (1 - test_share))
    test_x = x[n_train:]
    figure, axis = plt.subplots(figsize=(9, 4))
    axis.plot(test_x, np.sin(test_x), color="black", linewidth=3, alpha=0.4, label="sin(x)")
    test_mse = {}
    for name in SEQUENCE_MODELS:
        model = build_sequence_model(name, window_length)
        model.fit(windows[:n_train], next_values[:n_train], epochs=epochs, batch_size=32, shuffle=True, verbose=0)
        predicted = model.predict(windows[n_train:], verbose=0)[:, 0]
        test_mse[name] = float(np.mean((predicted - np.sin(test_x)) ** 2))
        axis.plot(test_x, predicted, linewidth=1, label=f"{name} (test MSE {test_mse[name]:.4f})")
    axis.set(
        xlabel="x",
        ylabel="next value",
        title=f"Next value predicted from the previous {window_length} (held-out part, {epochs} epochs of training)",
    )
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    save(figure, plot_path)
    return test_mse


def write_sine_comparison(
    plot_path: Path, scores_path: Path, epochs: int = 5, window_length: int = 10, seed: int = 0
) -> dict:
    """compare_sine_models, with each model's test MSE written as JSON to scores_path."""
    test_mse = compare_sine_models(plot_path, epochs=epochs, window_length=window_length, seed=seed)
    Path(scores_path).write_text(json.dumps(test_mse, indent=2))
    return test_mse
