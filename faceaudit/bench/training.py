"""Training speed: `python -m faceaudit.bench.training` (or `make bench-training`).

Writes face JPEGs, then trains the same freshly built model (same seed, same optimizer, same epochs, taken in turn)
twice in one process: on the project's pipeline (JPEGs decoded once by write_split into a uint8 .npy memory map,
batches gathered by make_dataset) and on the notebooks' pipeline (ImageDataGenerator(rescale=1/255)
.flow_from_dataframe, which decodes every JPEG again in every epoch). Reports images/s of each and the ratio.
"""

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from faceaudit.bench.preprocess import write_face_jpegs
from faceaudit.catalog import BACKBONES, CLASSIFIERS, LOSSES, output_kind
from faceaudit.data.arrays import read_split, write_split
from faceaudit.models import build_model
from faceaudit.training.inputs import encode_labels, make_dataset

TARGET = "gender"
CLASSES = ["Female", "Male"]
COLOR = "rgb"
SEED = 0
LEARNING_RATE = 1e-3
CLASS_MODES = {"softmax": "sparse", "sigmoid": "binary"}


def run_benchmark(
    n_images: int, size: int, model_name: str, batch_size: int, epochs: int, jpeg_side: int, folder: Path
) -> dict:
    """Write `n_images` JPEGs of `jpeg_side` pixels into `folder`, train `model_name` at `size` px on both pipelines
    and return their figures; images/s is the median over the epochs after the first (which traces the graph)."""
    validate_arguments(n_images, size, model_name, batch_size, epochs, jpeg_side)
    folder = Path(folder)
    write_face_jpegs(folder, n_images, jpeg_side)
    labels = pd.read_csv(folder / "labels.csv", dtype=str, keep_default_na=False)

    started = time.perf_counter()
    manifest = pd.DataFrame({"path": labels["file"], "split": "train", TARGET: labels[TARGET]})
    write_split(
        manifest, folder, "train", size, COLOR, folder / "train.npy", folder / "train.csv", workers=os.cpu_count() or 1
    )
    preprocess_seconds = time.perf_counter() - started
    images, rows = read_split(folder / "train.npy", folder / "train.csv")
    ours_data = make_dataset(images, encode_labels(rows, {TARGET: CLASSES}), batch_size, shuffle=True, seed=SEED)
    # Transfer backbones take 0..255 pixels and scale them their own way; the notebooks rescaled for their own CNNs.
    rescale = None if model_name in BACKBONES else 1.0 / 255
    baseline_data = notebook_batches(labels, folder, size, batch_size, output_kind(model_name), rescale)
    baseline_range = (0.0, 255.0) if rescale is None else (0.0, 1.0)
    ours, baseline = train_and_time(
        [(ours_data, len(images), (0.0, 255.0)), (baseline_data, baseline_data.batches.n, baseline_range)],
        model_name,
        size,
        epochs,
    )

    return {
        **environment(),
        "n_images": n_images,
        "size": size,
        "model": model_name,
        "batch_size": batch_size,
        "epochs": epochs,
        "jpeg_side": jpeg_side,
        "preprocess_seconds": preprocess_seconds,
        "ours": ours,
        "baseline": baseline,
        "ratio": ours["images_per_second"] / baseline["images_per_second"],
    }


def validate_arguments(n_images: int, size: int, model_name: str, batch_size: int, epochs: int, jpeg_side: int) -> None:
    if n_images < 1:
        raise ValueError(f"n_images must be at least 1, got {n_images}")
    if size < 8:
        raise ValueError(f"size must be at least 8 pixels, got {size}")
    if model_name not in CLASSIFIERS:
        raise ValueError(f"unknown model '{model_name}'; the benchmark trains one of {sorted(CLASSIFIERS)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if epochs < 2:
        raise ValueError(f"epochs must be at least 2 (the first one traces the graph and is not counted), got {epochs}")
    if jpeg_side < 8:
        raise ValueError(f"jpeg_side must be at least 8 pixels, got {jpeg_side}")


def notebook_batches(
    labels: pd.DataFrame, folder: Path, size: int, batch_size: int, kind: str, rescale: float | None = 1.0 / 255
):
    """The notebooks' input: the legacy ImageDataGenerator decoding and resizing every JPEG of every batch, with
    the labels put in the {target: labels} shape that the model's outputs have."""
    import keras
    import tensorflow as tf

    generator = tf.keras.preprocessing.image.ImageDataGenerator(rescale=rescale)
    batches = generator.flow_from_dataframe(
        labels,
        directory=str(folder),
        x_col="file",
        y_col=TARGET,
        classes=CLASSES,
        target_size=(size, size),
        color_mode=COLOR,
        batch_size=batch_size,
        class_mode=CLASS_MODES[kind],
        shuffle=True,
        seed=SEED,
    )

    class TargetLabels(keras.utils.PyDataset):
        def __init__(self, batches):
            super().__init__()
            self.batches = batches

        def __len__(self):
            return len(self.batches)

        def __getitem__(self, index):
            images, classes = self.batches[index]
            return images, {TARGET: classes}

        def on_epoch_end(self):
            self.batches.on_epoch_end()

    return TargetLabels(batches)


def train_and_time(pipelines: list[tuple], model_name: str, size: int, epochs: int) -> list[dict]:
    """For each (data, images per epoch, pixel range): the model built from the same seed with a fresh optimizer.
    The models train one epoch in turn, so a change in the machine's load between epochs hits every pipeline alike."""
    import keras

    models, timers = [], []
    for _, _, pixel_range in pipelines:
        keras.utils.set_random_seed(SEED)
        model = build_model(model_name, (size, size, 3), {TARGET: len(CLASSES)}, pixel_range)
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE), loss={TARGET: LOSSES[output_kind(model_name)]}
        )
        models.append(model)
        timers.append(epoch_timer())
    for _ in range(epochs):
        for model, timer, (data, _, _) in zip(models, timers, pipelines):
            # Each pipeline shuffles its own examples every epoch; fit's shuffle would only reorder whole batches.
            model.fit(data, epochs=1, shuffle=False, callbacks=[timer], verbose=0)
    results = []
    for timer, (_, images_per_epoch, _) in zip(timers, pipelines):
        seconds = statistics.median(timer.seconds[1:])
        results.append(
            {
                "images_per_epoch": images_per_epoch,
                "batches_per_epoch": timer.batches[0],
                "epoch_seconds": timer.seconds,
                "seconds_per_epoch": seconds,
                "images_per_second": images_per_epoch / seconds,
                "epoch_windows": timer.windows,
            }
        )
    return results


def epoch_timer():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds, self.batches, self.windows = [], [], []

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()
            self.batches.append(0)

        def on_train_batch_end(self, batch, logs=None):
            self.batches[-1] += 1

        def on_epoch_end(self, epoch, logs=None):
            ended = time.perf_counter()
            self.seconds.append(ended - self.started)
            self.windows.append((self.started, ended))  # perf_counter times, to match samples taken meanwhile

    return EpochTimer()


def environment() -> dict:
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        device = ", ".join(tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name) for gpu in gpus)
    else:
        device = f"CPU: {cpu_name()}"
    return {
        "device": device,
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "cpu_cores": os.cpu_count(),
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
    }


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def print_figures(figures: dict) -> None:
    threads = {key: figures[key] or "default (0)" for key in ("intra_op_threads", "inter_op_threads")}
    print(
        f"device {figures['device']}; TensorFlow {figures['tensorflow_version']}, Keras {figures['keras_version']}; "
        f"{figures['cpu_cores']} CPU cores, TensorFlow threads intra-op {threads['intra_op_threads']}, "
        f"inter-op {threads['inter_op_threads']}"
    )
    print(
        f"{figures['model']} at {figures['size']}x{figures['size']} rgb, {figures['n_images']} JPEGs of "
        f"{figures['jpeg_side']}x{figures['jpeg_side']}, batch {figures['batch_size']}, {figures['epochs']} epochs; "
        f"epochs alternate between the pipelines; figures are the median of epochs 2..{figures['epochs']} "
        "(epoch 1 traces the graph and is left out)"
    )
    print(
        f"one-off preprocessing (write_split, {figures['cpu_cores']} processes): {figures['preprocess_seconds']:.1f} s "
        f"({figures['n_images'] / figures['preprocess_seconds']:.0f} images/s)"
    )
    print(f"{'pipeline':<44} {'images/s':>10} {'s/epoch':>9} {'images/epoch':>13}")
    for key, name in (("ours", "ours: .npy memory map + tf.data"), ("baseline", "baseline: ImageDataGenerator, JPEGs")):
        result = figures[key]
        print(
            f"{name:<44} {result['images_per_second']:>10.1f} {result['seconds_per_epoch']:>9.2f} "
            f"{result['images_per_epoch']:>13}"
        )
    print(f"ratio ours/baseline: {figures['ratio']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000, help="number of face JPEGs (training images per epoch)")
    parser.add_argument("--size", type=int, default=100, help="model input side in pixels")
    parser.add_argument("--model", default="deep_cnn", choices=sorted(CLASSIFIERS), help="model to train")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per pipeline; the first is not counted")
    parser.add_argument(
        "--jpeg-side",
        type=int,
        default=448,
        help="side of the written JPEGs (the real datasets' are larger than the input)",
    )
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        figures = run_benchmark(
            arguments.images,
            arguments.size,
            arguments.model,
            arguments.batch_size,
            arguments.epochs,
            arguments.jpeg_side,
            Path(temporary),
        )
    print_figures(figures)


if __name__ == "__main__":
    main()
