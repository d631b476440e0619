"""Train one classifier run: its strategy's steps in order, each compiled with its own learning rate and
checkpointed every epoch (a killed job resumes); writes the model, its history and run.json."""

import json
import shutil
import time
from pathlib import Path

import numpy as np

from faceaudit.catalog import LOSSES, output_kind
from faceaudit.labels import NUMERIC
from faceaudit.models import build_model
from faceaudit.training import loss_weights
from faceaudit.training.callbacks import early_stopping_callbacks, restored_step_epoch
from faceaudit.training.checkpoints import (
    FINISHED_WEIGHTS,
    RESTORED_EPOCH,
    combined_history,
    fit_with_checkpoints,
    prepare_checkpoint,
    read_epoch_log,
    save_weights_atomically,
)
from faceaudit.training.inputs import encode_labels, make_dataset
from faceaudit.training.progress import RunProgress
from faceaudit.training.provenance import run_info
from faceaudit.training.resume import EPOCH_LOG
from faceaudit.training.runtime import (
    configure_tensorflow,
    distribution_strategy,
    global_precision,
    gpu_names,
    make_optimizer,
    precision_policy,
    stop_on_nondeterministic_op,
)
from faceaudit.training.strategies import apply_step


def model_targets(spec: dict) -> dict[str, int | None]:
    """{target: number of classes}, None for a numeric target."""
    return {target: None if classes == NUMERIC else len(classes) for target, classes in spec["targets"].items()}


def build_run_model(spec: dict, input_shape: tuple, pixel_range: tuple[float, float]):
    settings = spec["training"]
    transfer_settings = {key: settings[key] for key in ("head", "weights") if key in settings}
    return build_model(
        spec["model"],
        input_shape,
        model_targets(spec),
        pixel_range,
        dropout_rate=settings["dropout_rate"],
        augmentation=settings["augmentation"],
        seed=spec["seed"],
        **transfer_settings,
    )


def compile_for_step(model, spec: dict, learning_rate: float) -> None:
    """Compile with the step's learning rate: cross-entropy for class targets (binary for a sigmoid output), the
    configured regression loss for numeric ones; accuracy or MAE as metric."""
    head = spec["training"].get("head", "classifier")
    losses, metrics = {}, {}
    for target, num_classes in model_targets(spec).items():
        if num_classes is None:
            losses[target], metrics[target] = spec["training"]["regression_loss"], ["mae"]
        else:
            losses[target], metrics[target] = LOSSES[output_kind(spec["model"], head)], ["accuracy"]
    optimizer = make_optimizer(spec["hyperparameters"]["optimizer"], learning_rate)
    # Explicit: Keras' "auto" would switch XLA on by itself wherever a GPU is visible.
    jit_compile = spec["training"].get("jit_compile", False)
    model.compile(optimizer=optimizer, loss=losses, metrics=metrics, jit_compile=jit_compile)


def train_run(
    spec: dict,
    train: tuple,
    val: tuple,
    model_path: Path,
    history_path: Path,
    run_info_path: Path,
    checkpoint_dir: Path,
    threads: int = 2,
    strategy=None,
    policy: str | None = None,
) -> dict:
    """Fit the run's model on (images, rows) train/val splits, step by step; write model, history and run.json.

    Every epoch is checkpointed in checkpoint_dir/step_<i> with the step's epoch log, and each finished step leaves
    its weights there, so a job killed half-way (preempted, cancelled, out of time) continues from its last finished
    epoch when it runs again; the folder is removed at the end. `policy` overrides the precision policy (tests).
    """
    # Specs written before these keys existed (tests, older run.json) get the schema's defaults.
    configure_tensorflow(spec["seed"], threads, spec["training"].get("deterministic", True))
    checkpoint_dir = prepare_checkpoint(Path(checkpoint_dir), spec)
    strategy = strategy or distribution_strategy()
    policy = policy or precision_policy(spec["training"]["mixed_precision"], gpu_names())
    (train_images, train_rows), (val_images, val_rows) = train, val
    pixel_range = (float(np.min(train_images)), float(np.max(train_images)))
    weighting = spec["training"]["loss_weighting"]
    weights = loss_weights.sample_weights(train_rows, weighting, spec["targets"])
    batch_size = spec["hyperparameters"]["batch_size"]
    train_data = make_dataset(
        train_images,
        encode_labels(train_rows, spec["targets"]),
        batch_size,
        shuffle=True,
        seed=spec["seed"],
        weights=weights,
    )
    val_data = make_dataset(val_images, encode_labels(val_rows, spec["targets"]), batch_size, shuffle=False)
    with (
        stop_on_nondeterministic_op(spec["run"], spec["experiment"]),
        global_precision(policy),
        strategy.scope(),
    ):
        model = build_run_model(spec, train_images.shape[1:], pixel_range)
        started = time.perf_counter()
        progress = run_progress(spec, len(train_images))
        resumed_from_epoch = train_steps(model, spec, train_data, val_data, checkpoint_dir, progress)
        training_seconds = time.perf_counter() - started
    history = combined_history(checkpoint_dir, len(spec["training"]["steps"]))
    history.to_csv(history_path, index=False)
    model.save(model_path)
    info = run_info(spec, threads, model, pixel_range, len(history), training_seconds, progress.images_per_second)
    info.update(
        resumed_from_epoch=resumed_from_epoch,
        restored_epochs=restored_epochs(checkpoint_dir, history),
        replicas=strategy.num_replicas_in_sync,
        precision_policy=policy,
        step_epochs=[int((history["step"] == index).sum()) for index in range(len(spec["training"]["steps"]))],
        loss_weights=None
        if weights is None
        else loss_weights.describe_weights(train_rows, weights, weighting_columns(weighting)),
    )
    Path(run_info_path).write_text(json.dumps(info, indent=2))
    shutil.rmtree(checkpoint_dir)
    return info


def run_progress(spec: dict, n_train_images: int) -> RunProgress:
    steps = spec["training"]["steps"]
    return RunProgress(
        spec["run"], [step["epochs"] for step in steps], [step["learning_rate"] for step in steps], n_train_images
    )


def weighting_columns(weighting: dict) -> list[str]:
    """The label columns whose groups a weighting method distinguishes (for describing the weights)."""
    if weighting["method"] == "class":
        return [weighting["target"]]
    if weighting["method"] == "reweighing":
        return [*weighting["attributes"], weighting["target"]]
    return list(weighting["attributes"])


def train_steps(model, spec: dict, train_data, val_data, checkpoint_dir: Path, progress: RunProgress) -> int | None:
    """Run the strategy's steps in order, skipping those a previous attempt finished, and leave the last step's
    weights in the model; return the global epoch this attempt started at (None when it started from scratch)."""
    started_at, epochs_before, trained_now = None, 0, False
    for index in range(len(spec["training"]["steps"])):
        step_dir = checkpoint_dir / f"step_{index}"
        finished = step_dir / FINISHED_WEIGHTS
        if not finished.exists():
            if index > 0 and not trained_now:
                model.load_weights(checkpoint_dir / f"step_{index - 1}" / FINISHED_WEIGHTS)
            first_epoch = train_step(model, spec, index, step_dir, train_data, val_data, progress, epochs_before)
            started_at = epochs_before + first_epoch if started_at is None else started_at
            save_weights_atomically(model, finished)
            trained_now = True
        epochs_before += len(read_epoch_log(step_dir / EPOCH_LOG))
    if not trained_now:  # every step finished in an attempt that stopped before writing the model
        model.load_weights(checkpoint_dir / f"step_{len(spec['training']['steps']) - 1}" / FINISHED_WEIGHTS)
    return started_at or None


def train_step(
    model, spec: dict, index: int, step_dir: Path, train_data, val_data, progress: RunProgress, epochs_before: int
) -> int:
    """Fit one step (resuming from its checkpoint if there is one); return the step's epoch it started at. When early
    stopping put back an earlier epoch's weights, that epoch is written to step_dir/restored_epoch.json."""
    step = spec["training"]["steps"][index]
    apply_step(model, step["trainable"], spec["training"].get("unfreeze_last", 0))
    compile_for_step(model, spec, step["learning_rate"])
    early_stopping = early_stopping_callbacks(step["early_stopping"])
    first_epoch = fit_with_checkpoints(
        model, train_data, val_data, step_dir, progress, index, epochs_before, early_stopping
    )
    restored = restored_step_epoch(early_stopping)
    (step_dir / RESTORED_EPOCH).unlink(missing_ok=True)
    if restored is not None:
        (step_dir / RESTORED_EPOCH).write_text(json.dumps({"step_epoch": restored}))
        where = progress.where(index, restored, epochs_before)
        progress.note(f"early stopping kept the weights of its best {step['early_stopping']['monitor']}: {where}")
    return first_epoch


def restored_epochs(checkpoint_dir: Path, history) -> list[dict]:
    """For every step whose early stopping put back an earlier epoch's weights: the step, that epoch as counted in
    history.csv's `epoch` column, and as counted within the step."""
    restored = []
    for index in sorted(set(history["step"])):
        path = checkpoint_dir / f"step_{index}" / RESTORED_EPOCH
        if path.exists():
            step_epoch = json.loads(path.read_text())["step_epoch"]
            row = history[(history["step"] == index) & (history["step_epoch"] == step_epoch)]
            restored.append({"step": int(index), "epoch": int(row["epoch"].iloc[0]), "step_epoch": step_epoch})
    return restored
