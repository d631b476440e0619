"""Report speed at cluster scale: `python -m faceaudit.bench.report --runs 500 [--profile]`.

Writes the result files of a study of that many runs into a temporary folder, as the workflow writes them: per run
its run.json (with compute accounting), training-curves PNG, and per eval set metrics, fairness, calibration (with
thresholds) and worst-subgroups JSON and their figures; one dataset's manifest and rejects. The JSON comes from the
real evaluation functions on a few drawn prediction tables (a run takes one of them: drawing and auditing 500 tables
would time the audit, not the report), the figures from the real plotting functions once, copied per run. Then
times write_report (index + one page per run) and prints the figure with the machine's load; --profile also prints
where the time went (in one process: the run pages are then not spread over worker processes).
"""

import argparse
import cProfile
import json
import os
import pstats
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from faceaudit.evaluation.calibration import audit_calibration
from faceaudit.evaluation.calibration_plots import plot_calibration
from faceaudit.evaluation.fairness import audit_fairness
from faceaudit.evaluation.metrics import compute_metrics
from faceaudit.evaluation.plots import plot_group_accuracy, plot_metrics, plot_training_curves
from faceaudit.evaluation.settings import AuditSettings
from faceaudit.evaluation.subgroups import SearchSettings, find_subgroups
from faceaudit.evaluation.thresholds import audit_thresholds
from faceaudit.report import report_files, write_report

TARGETS = {"gender": ["Female", "Male"]}
POSITIVE = {"gender": "Male"}
GROUPS = {"group": ["A", "B", "C", "D"], "age_group": ["young", "middle", "old"]}
EVAL_SETS = ["val", "test"]
LEARNING_RATES = [0.1, 0.03, 0.01, 0.003, 0.001, 0.0003, 0.0001, 3e-05, 1e-05, 3e-06]
BATCH_SIZES = [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
MODELS = ["small_cnn", "cnn_bn", "baseline_cnn", "deep_cnn", "mlp"]
MANIFEST_ROWS = 20_000
DATASET = "faces"


def drawn_predictions(seed: int, rows: int = 2000) -> pd.DataFrame:
    """A binary classifier's predictions with scores, right more often in some groups than in others."""
    rng = np.random.default_rng(seed)
    group = rng.choice(GROUPS["group"], rows, p=[0.4, 0.3, 0.2, 0.1])
    age = rng.choice(GROUPS["age_group"], rows)
    truth = rng.random(rows) < 0.5
    skill = 1.0 + 0.4 * rng.random() - 0.5 * (group == "D")
    score = 1 / (1 + np.exp(-(np.where(truth, 1, -1) * skill + rng.normal(0, 1, rows))))
    return pd.DataFrame(
        {
            "path": [f"images/{index}.jpg" for index in range(rows)],
            "gender_true": np.where(truth, "Male", "Female"),
            "gender_pred": np.where(score >= 0.5, "Male", "Female"),
            "gender_score_0": 1 - score,
            "gender_score_1": score,
            "group": group,
            "age_group": age,
        }
    )


def evaluation_files(predictions: pd.DataFrame) -> dict:
    """What the audit job writes for one eval set (metrics, fairness, calibration, subgroups), as JSON text."""
    groups = {"targets": TARGETS, "sensitive_attributes": list(GROUPS), "positive_classes": POSITIVE}
    calibration = audit_calibration(predictions, **groups, settings=AuditSettings(calibration_bins=10, resamples=100))
    settings = SearchSettings(depth=2, reported=3, restarts=2)
    return {
        "metrics.json": json.dumps(compute_metrics(predictions, TARGETS, POSITIVE)),
        "fairness.json": json.dumps(
            audit_fairness(
                predictions,
                **groups,
                intersections=[["group", "age_group"]],
                privileged_groups={"group": "A"},
                settings=AuditSettings(resamples=100),
            )
        ),
        "calibration.json": json.dumps(
            {"calibration": calibration, "thresholds": audit_thresholds(predictions, **groups)}
        ),
        "subgroups.json": json.dumps(find_subgroups(predictions.astype(str), TARGETS, GROUPS, settings)),
    }


def write_figures(evaluation: dict, out: Path) -> None:
    """The eval set's figures, drawn once: confusion matrix and ROC, accuracy per group, calibration figures."""
    calibration = json.loads(evaluation["calibration.json"])
    plot_metrics(json.loads(evaluation["metrics.json"]), out / "figures")
    plot_group_accuracy(json.loads(evaluation["fairness.json"]), out / "group_accuracy.png")
    plot_calibration(calibration["calibration"], calibration["thresholds"], out / "calibration_figures")


def write_curves(out: Path) -> Path:
    history = pd.DataFrame(
        {"epoch": range(20), "accuracy": np.linspace(0.6, 0.9, 20), "loss": np.linspace(0.7, 0.3, 20)}
        | {"val_accuracy": np.linspace(0.55, 0.85, 20), "val_loss": np.linspace(0.72, 0.4, 20)}
    )
    history.to_csv(out / "history.csv", index=False)
    plot_training_curves(out / "history.csv", out / "training_curves.png")
    return out / "training_curves.png"


def run_spec(index: int) -> dict:
    """Run `index` of the study: 5 experiments (one model each) over a 10 x 10 learning-rate x batch-size grid."""
    experiment = f"gender_{MODELS[index // 100 % len(MODELS)]}"
    learning_rate, batch_size = LEARNING_RATES[index % 10], BATCH_SIZES[index // 10 % 10]
    repeat = index // 500
    name = f"{experiment}__bs{batch_size}_lr{learning_rate:g}" + (f"__r{repeat}" if repeat else "")
    stopping = {"patience": 3, "monitor": "val_loss", "restore_best_weights": True}
    return {
        "run": name,
        "experiment": experiment,
        "dataset": DATASET,
        "model": MODELS[index // 100 % len(MODELS)],
        "targets": TARGETS,
        "image_size": 64,
        "color": "rgb",
        "grid_point": {"learning_rate": learning_rate, "batch_size": batch_size},
        "seed": 1,
        "eval_sets": EVAL_SETS,
        "hyperparameters": {
            "learning_rate": learning_rate,
            "batch_size": batch_size,
            "epochs": 20,
            "optimizer": "adam",
        },
        "training": {
            "steps": [{"trainable": "all", "epochs": 20, "learning_rate": learning_rate, "early_stopping": stopping}],
            "loss_weighting": {"method": "none"},
            "augmentation": {},
        },
    }


def run_info(spec: dict, rng: np.random.Generator) -> dict:
    """run.json as training writes it, with a Keras-sized architecture summary and compute accounting."""
    seconds = float(rng.uniform(60, 3600))
    rates = [round(float(rate), 1) for rate in rng.uniform(800, 1200, 20)]
    return {
        **spec,
        "threads": 8,
        "parameters": 1_234_567,
        "architecture": "\n".join(f"conv2d_{layer} (Conv2D)   (None, 62, 62, 32)   896" for layer in range(40)),
        "pixel_range": [0.0, 255.0],
        "epochs_completed": 20,
        "training_seconds": round(seconds, 2),
        "images_per_second": rates,
        "host": "gpu07",
        "slurm_job_id": str(100_000 + int(rng.integers(0, 99_999))),
        "gpus": ["/physical_device:GPU:0"],
        "tensorflow_version": "2.21.0",
        "keras_version": "3.x",
        "restored_epochs": [{"step": 0, "epoch": 17, "step_epoch": 17}],
        "compute": {
            "wall_seconds": round(seconds, 2),
            "gpu_count": 1,
            "gpu_hours": seconds / 3600,
            "cpu_count": 8,
            "cpu_hours": 8 * seconds / 3600,
            "images_per_second": float(np.median(rates)),
            "peak_host_memory_mb": round(float(rng.uniform(2000, 9000)), 1),
            "slurm_job_id": None,
            "slurm_node": "gpu07",
            "queue_wait_seconds": round(float(rng.exponential(120)), 1),
            "queue_wait_note": None,
        },
    }


def write_dataset(root: Path) -> None:
    rng = np.random.default_rng(0)
    data = root / "data" / DATASET
    data.mkdir(parents=True)
    manifest = pd.DataFrame(
        {
            "path": [f"images/{index}.jpg" for index in range(MANIFEST_ROWS)],
            "split": rng.choice(["train", "val", "test"], MANIFEST_ROWS, p=[0.7, 0.15, 0.15]),
            "gender": rng.choice(TARGETS["gender"], MANIFEST_ROWS),
            **{attribute: rng.choice(groups, MANIFEST_ROWS) for attribute, groups in GROUPS.items()},
        }
    )
    manifest.to_csv(data / "manifest.csv", index=False)
    pd.DataFrame({"path": ["x.jpg"], "reason": ["undecodable image: cannot identify image file"]}).to_csv(
        data / "rejects.csv", index=False
    )


def write_study(root: Path, runs: int, distinct: int) -> dict:
    """The runs' specs of a study of `runs` runs whose result files are written under root (a `results` folder)."""
    templates = []
    for seed in range(distinct):
        evaluation = evaluation_files(drawn_predictions(seed))
        out = root / "drawn" / str(seed)
        write_figures(evaluation, out)
        templates.append((evaluation, out))
    curves = write_curves(root / "drawn")
    rng = np.random.default_rng(1)
    specs = {}
    for index in range(runs):
        spec = run_spec(index)
        run_dir = root / "runs" / spec["run"]
        (run_dir / "figures").mkdir(parents=True)
        (run_dir / "run.json").write_text(json.dumps(run_info(spec, rng), indent=2))
        shutil.copyfile(curves, run_dir / "figures/training_curves.png")
        for position, eval_set in enumerate(EVAL_SETS):
            evaluation, figures = templates[(index + position) % distinct]
            write_evaluation(run_dir, eval_set, evaluation, figures)
        specs[spec["run"]] = spec
    write_dataset(root)
    return specs


def write_evaluation(run_dir: Path, eval_set: str, evaluation: dict, figures: Path) -> None:
    for kind in ("metrics", "fairness", "calibration", "subgroups"):
        (run_dir / kind).mkdir(exist_ok=True)
        (run_dir / kind / f"{eval_set}.json").write_text(evaluation[f"{kind}.json"])
    shutil.copytree(figures / "figures", run_dir / "figures" / eval_set)
    shutil.copytree(figures / "calibration_figures", run_dir / "figures" / f"calibration_{eval_set}")
    shutil.copyfile(figures / "group_accuracy.png", run_dir / "figures" / f"group_accuracy_{eval_set}.png")


def study_config() -> dict:
    return {
        "datasets": {
            DATASET: {
                "layout": "synthetic",
                "labels": {**TARGETS, **GROUPS},
                "sensitive_attributes": list(GROUPS),
                "privileged_groups": {"group": "A"},
            }
        },
        "experiments": {f"gender_{model}": {"model": model, "targets": ["gender"]} for model in MODELS},
    }


def time_report(runs: int, distinct: int, profile: bool, workers: int = 1) -> None:
    with tempfile.TemporaryDirectory(prefix="faceaudit-bench-report-") as folder:
        root = Path(folder)
        started = time.perf_counter()
        specs = write_study(root, runs, distinct)
        files = report_files(specs, {}, [DATASET], root=root)
        size = sum(path.stat().st_size for path in (root / "runs").rglob("*") if path.is_file())
        print(
            f"result files of {runs} runs ({len(EVAL_SETS)} eval sets each): {size / 1e6:.0f} MB, "
            f"written in {time.perf_counter() - started:.1f} s"
        )
        arguments = (specs, study_config(), {"python": "3.11"}, files, root / "report")
        options = {"workers": 1 if profile else workers}
        profiler = cProfile.Profile() if profile else None
        load = os.getloadavg()[0]
        cpu_started = cpu_seconds()
        started = time.perf_counter()
        if profiler:
            profiler.runcall(write_report, *arguments, **options)
        else:
            write_report(*arguments, **options)
        seconds = time.perf_counter() - started
        cpu = cpu_seconds() - cpu_started
        index = (root / "report/index.html").stat().st_size
        pages = len(list((root / "report/runs").glob("*.html")))
        print(
            f"write_report: {seconds:.1f} s for {runs} runs (index.html {index / 1e6:.1f} MB, {pages} run pages; "
            f"goal: at most 30 s); {cpu:.1f} CPU seconds, {options['workers']} page-writing process(es) on "
            f"{len(os.sched_getaffinity(0))} usable cores, load average {load:.1f} at the start"
        )
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats("faceaudit/report", 20)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished worker processes, user and system."""
    own, workers = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--distinct", type=int, default=6, help="drawn prediction tables the runs' results come from")
    parser.add_argument("--profile", action="store_true", help="also print where write_report spends its time")
    parser.add_argument("--workers", type=int, default=1, help="processes that write the run pages")
    arguments = parser.parse_args()
    time_report(arguments.runs, arguments.distinct, arguments.profile, arguments.workers)


if __name__ == "__main__":
    main()
