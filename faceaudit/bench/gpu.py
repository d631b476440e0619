"""Training speed on a GPU node: `python -m faceaudit.bench.gpu` (or `make bench-gpu`).

The training benchmark (faceaudit.bench.training: the project's pipeline against the notebooks' ImageDataGenerator)
for a CNN at 100 px and a transfer model at 224 px, with the GPUs' utilisation sampled from nvidia-smi in a
background thread while each pipeline trains. Writes a small table (markdown and CSV, benchmarks/ by default).
Without nvidia-smi it says "no GPU" and still runs on the CPU; options make it small enough for a smoke test.
"""

import argparse
import csv
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from faceaudit.bench.training import run_benchmark

NO_GPU = "no GPU"
PIPELINES = {"ours": "ours: .npy memory map + tf.data", "baseline": "baseline: ImageDataGenerator, JPEGs"}
COLUMNS = ["case", "model", "size", "pipeline", "images_per_second", "gpu_utilisation_percent", "ratio", "device"]


class GpuUtilisation:
    """Mean utilisation of the visible GPUs, sampled from nvidia-smi every `interval` seconds while in a `with`."""

    def __init__(self, interval: float = 0.5, command: str = "nvidia-smi"):
        self.interval, self.command = interval, shutil.which(command)
        self.samples: list[tuple[float, float]] = []  # (time.perf_counter(), mean percent over the GPUs)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.sample_until_stopped, daemon=True)

    @property
    def available(self) -> bool:
        return self.command is not None

    def __enter__(self):
        if self.available:
            self.thread.start()
        return self

    def __exit__(self, *exception):
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join()

    def sample_until_stopped(self) -> None:
        while not self.stopped.is_set():
            self.sample()
            self.stopped.wait(self.interval)

    def sample(self) -> None:
        query = [self.command, "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"]
        result = subprocess.run(query, capture_output=True, text=True, timeout=30)
        percents = [float(line) for line in result.stdout.split() if line.strip()]
        if result.returncode == 0 and percents:
            self.samples.append((time.perf_counter(), statistics.mean(percents)))

    def mean_within(self, windows: list[tuple[float, float]]) -> float | str:
        """Mean of the samples taken inside the given (start, end) windows; "no GPU" without nvidia-smi."""
        if not self.available:
            return NO_GPU
        inside = [percent for moment, percent in self.samples if any(start <= moment <= end for start, end in windows)]
        return round(statistics.mean(inside), 1) if inside else "no sample"


def run_cases(cases: list[dict], n_images: int, batch_size: int, epochs: int, jpeg_side: int, interval: float):
    """One row per case and pipeline: images/s (median of epochs 2..epochs), mean GPU utilisation over those same
    epochs, and ours over the baseline."""
    rows = []
    for case in cases:
        with tempfile.TemporaryDirectory() as temporary, GpuUtilisation(interval) as utilisation:
            figures = run_benchmark(
                n_images, case["size"], case["model"], batch_size, epochs, jpeg_side, Path(temporary)
            )
        for key, name in PIPELINES.items():
            result = figures[key]
            rows.append(
                {
                    "case": case["case"],
                    "model": case["model"],
                    "size": case["size"],
                    "pipeline": name,
                    "images_per_second": round(result["images_per_second"], 1),
                    "gpu_utilisation_percent": utilisation.mean_within(result["epoch_windows"][1:]),
                    "ratio": round(figures["ratio"], 2) if key == "ours" else "",
                    "device": figures["device"],
                }
            )
    return rows


def markdown_table(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(str(row[column]) for column in COLUMNS) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_tables(rows: list[dict], output_dir: Path) -> tuple[Path, Path]:
    output_dir.mkdir(parents=True, exist_ok=True)
    csv_path, markdown_path = output_dir / "gpu_training.csv", output_dir / "gpu_training.md"
    with open(csv_path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    markdown_path.write_text(markdown_table(rows))
    return csv_path, markdown_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000, help="number of face JPEGs (training images per epoch)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per pipeline; the first is not counted")
    parser.add_argument("--jpeg-side", type=int, default=448, help="side of the written JPEGs")
    parser.add_argument("--cnn-model", default="deep_cnn")
    parser.add_argument("--cnn-size", type=int, default=100)
    parser.add_argument("--transfer-model", default="efficientnet_b0")
    parser.add_argument("--transfer-size", type=int, default=224)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between nvidia-smi samples")
    parser.add_argument("--output-dir", type=Path, default=Path("benchmarks"), help="where the tables go")
    arguments = parser.parse_args()
    cases = [
        {"case": "CNN", "model": arguments.cnn_model, "size": arguments.cnn_size},
        {"case": "transfer", "model": arguments.transfer_model, "size": arguments.transfer_size},
    ]
    if shutil.which("nvidia-smi") is None:
        print(f"{NO_GPU}: nvidia-smi is not on PATH; training on the CPU, without utilisation figures")
    rows = run_cases(
        cases, arguments.images, arguments.batch_size, arguments.epochs, arguments.jpeg_side, arguments.interval
    )
    paths = write_tables(rows, arguments.output_dir)
    print(markdown_table(rows), end="")
    print("written: " + ", ".join(str(path) for path in paths))


if __name__ == "__main__":
    main()
