"""Input pipeline speed, no model: `python -m faceaudit.bench.input_pipeline` (or `make bench-input`).

Writes face JPEGs, preprocesses them once (write_split: a uint8 .npy memory map), then pulls every batch of an epoch
from the project's tf.data pipeline (make_dataset) and from the notebooks' ImageDataGenerator.flow_from_dataframe
(decoding and resizing every JPEG of every batch), at 100 px and 224 px. Images/s of each and their ratio: the
ceiling that a GPU's training speed will meet, whatever the model.
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from faceaudit.bench.preprocess import write_face_jpegs
from faceaudit.bench.training import CLASSES, COLOR, SEED, TARGET, environment, notebook_batches
from faceaudit.data.arrays import read_split, write_split
from faceaudit.training.inputs import encode_labels, make_dataset

SIZES = (100, 224)


def run_benchmark(n_images: int, sizes: tuple[int, ...], batch_size: int, epochs: int, jpeg_side: int, folder: Path):
    """Figures per input size: images/s of each pipeline (median of epochs 2..epochs; the first builds the
    pipeline) and ours over the notebooks'."""
    if epochs < 2:
        raise ValueError(f"epochs must be at least 2 (the first one is not counted), got {epochs}")
    folder = Path(folder)
    write_face_jpegs(folder, n_images, jpeg_side)
    labels = pd.read_csv(folder / "labels.csv", dtype=str, keep_default_na=False)
    manifest = pd.DataFrame({"path": labels["file"], "split": "train", TARGET: labels[TARGET]})
    results = []
    for size in sizes:
        images_path, rows_path = folder / f"train_{size}.npy", folder / f"train_{size}.csv"
        write_split(manifest, folder, "train", size, COLOR, images_path, rows_path, workers=os.cpu_count() or 1)
        images, rows = read_split(images_path, rows_path)
        ours = make_dataset(images, encode_labels(rows, {TARGET: CLASSES}), batch_size, shuffle=True, seed=SEED)
        baseline = notebook_batches(labels, folder, size, batch_size, "softmax")
        ours_rate = epochs_rate(iter, ours, n_images, epochs)
        baseline_rate = epochs_rate(notebook_epoch, baseline, n_images, epochs)
        results.append({"size": size, "ours": ours_rate, "baseline": baseline_rate, "ratio": ours_rate / baseline_rate})
    return {**environment(), "n_images": n_images, "batch_size": batch_size, "epochs": epochs, "sizes": results}


def notebook_epoch(batches):
    for index in range(len(batches)):
        yield batches[index]
    batches.on_epoch_end()


def epochs_rate(one_epoch, pipeline, n_images: int, epochs: int) -> float:
    """Images/s of one epoch (`one_epoch(pipeline)`, drawn batch by batch), the median over epochs 2..epochs."""
    seconds = []
    for _ in range(epochs):
        started = time.perf_counter()
        for _ in one_epoch(pipeline):
            pass
        seconds.append(time.perf_counter() - started)
    return n_images / statistics.median(seconds[1:])


def print_figures(figures: dict) -> None:
    print(
        f"device {figures['device']}; TensorFlow {figures['tensorflow_version']}; {figures['cpu_cores']} CPU cores; "
        f"{figures['n_images']} JPEGs, batch {figures['batch_size']}, median of epochs 2..{figures['epochs']}; "
        "no model: batches are only drawn"
    )
    print(f"{'input':<8} {'ours: .npy + tf.data':>22} {'ImageDataGenerator':>20} {'ratio':>8}")
    for result in figures["sizes"]:
        print(
            f"{result['size']:>3} px   {result['ours']:>15.0f} img/s {result['baseline']:>14.0f} img/s "
            f"{result['ratio']:>7.1f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000, help="number of face JPEGs (images per epoch)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="input sides in pixels")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per pipeline; the first is not counted")
    parser.add_argument("--jpeg-side", type=int, default=448, help="side of the written JPEGs")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        figures = run_benchmark(
            arguments.images,
            tuple(arguments.sizes),
            arguments.batch_size,
            arguments.epochs,
            arguments.jpeg_side,
            Path(temporary),
        )
    print_figures(figures)


if __name__ == "__main__":
    main()
