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
from faceaudit.training.callbacks import ModelSelection, early_stopping_callbacks, restored_step_epoch
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
from faceaudit.training.mitigation import (
    GROUP_KEY,
    describe_mitigation,
    group_names,
    mitigated_model,
    plain_classifier,
    training_groups,
)
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
    head = spec["training"].get("head", "classifier")  # transfer models only
    losses, metrics = {}, {}
    for target, num_classes in model_targets(spec).items():
        if num_classes is None:
            losses[target], metrics[target] = spec["training"]["regression_loss"], ["mae"]
        else:
            losses[target], metrics[target] = LOSSES[output_kind(spec["model"], head)], ["accuracy"]
    optimizer = make_optimizer(spec["hyperparameters"]["optimizer"], learning_rate)
    # Explicit: Keras' "auto" would switch XLA on by itself wherever a GPU is visible.
    jit_compile = spec["training"]["jit_compile"]
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
    configure_tensorflow(spec["seed"], threads, spec["training"]["deterministic"])
    checkpoint_dir = prepare_checkpoint(Path(checkpoint_dir), spec)
    strategy = strategy or distribution_strategy()
    policy = policy or precision_policy(spec["training"]["mixed_precision"], gpu_names())
    (train_images, train_rows), (val_images, val_rows) = train, val
    pixel_range = (float(np.min(train_images)), float(np.max(train_images)))
    weighting = spec["training"]["loss_weighting"]
    weights = loss_weights.sample_weights(train_rows, weighting, spec["targets"])
    batch_size = spec["hyperparameters"]["batch_size"]
    mitigation = spec["training"]["mitigation"]
    train_labels = encode_labels(train_rows, spec["targets"])
    vocabulary, group_sizes = None, None
    if mitigation["method"] != "none":
        vocabulary, train_labels[GROUP_KEY], group_sizes = training_groups(train_rows, mitigation)
    train_data = make_dataset(train_images, train_labels, batch_size, shuffle=True, seed=spec["seed"], weights=weights)
    val_data = make_dataset(val_images, encode_labels(val_rows, spec["targets"]), batch_size, shuffle=False)
    selection_data = model_selection_data(spec, val_images, val_rows)
    with (
        stop_on_nondeterministic_op(spec["run"], spec["experiment"]),
        global_precision(policy),
        strategy.scope(),
    ):
        classifier = build_run_model(spec, train_images.shape[1:], pixel_range)
        model = mitigated_model(classifier, mitigation, spec["targets"], vocabulary, group_sizes, spec["seed"])
        started = time.perf_counter()
        progress = run_progress(spec, len(train_images))
        resumed_from_epoch = train_steps(model, spec, train_data, val_data, checkpoint_dir, progress, selection_data)
        training_seconds = time.perf_counter() - started
    history = combined_history(checkpoint_dir, len(spec["training"]["steps"]))
    history.to_csv(history_path, index=False)
    trained = plain_classifier(model)
    trained.save(model_path)
    info = run_info(spec, threads, trained, pixel_range, len(history), training_seconds, progress.images_per_second)
    info.update(
        resumed_from_epoch=resumed_from_epoch,
        restored_epochs=restored_epochs(checkpoint_dir, history),
        replicas=strategy.num_replicas_in_sync,
        precision_policy=policy,
        step_epochs=[int((history["step"] == index).sum()) for index in range(len(spec["training"]["steps"]))],
        loss_weights=None
        if weights is None
        else loss_weights.describe_weights(train_rows, weights, weighting_columns(weighting)),
        mitigation=describe_mitigation(model, mitigation, vocabulary, group_sizes),
    )
    Path(run_info_path).write_text(json.dumps(info, indent=2))
    shutil.rmtree(checkpoint_dir)
    return info


def model_selection_data(spec: dict, val_images, val_rows) -> tuple | None:
    """What model selection by group needs: the val images (without labels), the target's true class indices and
    each row's group; None when the run selects no epoch by group."""
    selection = spec["training"]["model_selection"]
    if selection["monitor"] == "none":
        return None
    if len(val_rows) == 0:
        raise ValueError(f"{spec['run']}: model_selection needs validation rows, and the val split is empty")
    truth = encode_labels(val_rows, {selection["target"]: spec["targets"][selection["target"]]})[selection["target"]]
    images = make_dataset(val_images, None, spec["hyperparameters"]["batch_size"], shuffle=False)
    return images, truth, group_names(val_rows, selection["attributes"]).to_numpy()


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


def train_steps(
    model, spec: dict, train_data, val_data, checkpoint_dir: Path, progress: RunProgress, selection_data=None
) -> int | None:
    """Run the strategy's steps in order, skipping those a previous attempt finished, and leave the last step's
    weights in the model; return the global epoch this attempt started at (None when it started from scratch)."""
    started_at, epochs_before, trained_now = None, 0, False
    for index in range(len(spec["training"]["steps"])):
        step_dir = checkpoint_dir / f"step_{index}"
        finished = step_dir / FINISHED_WEIGHTS
        if not finished.exists():
            if index > 0 and not trained_now:
                model.load_weights(checkpoint_dir / f"step_{index - 1}" / FINISHED_WEIGHTS)
            first_epoch = train_step(
                model, spec, index, step_dir, (train_data, val_data, selection_data), progress, epochs_before
            )
            started_at = epochs_before + first_epoch if started_at is None else started_at
            save_weights_atomically(model, finished)
            trained_now = True
        epochs_before += len(read_epoch_log(step_dir / EPOCH_LOG))
    if not trained_now:  # every step finished in an attempt that stopped before writing the model
        model.load_weights(checkpoint_dir / f"step_{len(spec['training']['steps']) - 1}" / FINISHED_WEIGHTS)
    return started_at or None


def train_step(
    model, spec: dict, index: int, step_dir: Path, data: tuple, progress: RunProgress, epochs_before: int
) -> int:
    """Fit one step (resuming from its checkpoint if there is one); return the step's epoch it started at. `data` is
    (train, val, model selection data or None). When early stopping or model selection put back an earlier epoch's
    weights, that epoch and why are written to step_dir/restored_epoch.json."""
    train_data, val_data, selection_data = data
    step = spec["training"]["steps"][index]
    apply_step(model, step["trainable"], spec["training"].get("unfreeze_last", 0))  # transfer models only
    compile_for_step(model, spec, step["learning_rate"])
    early_stopping = early_stopping_callbacks(step["early_stopping"])
    selection = None
    if selection_data is not None:
        selection = ModelSelection(spec["training"]["model_selection"], *selection_data, step_dir)
    first_epoch = fit_with_checkpoints(
        model, train_data, val_data, step_dir, progress, index, epochs_before, early_stopping, selection
    )
    restored = kept_epoch(step, early_stopping, selection, spec["training"]["model_selection"]["monitor"])
    (step_dir / RESTORED_EPOCH).unlink(missing_ok=True)
    if restored is not None:
        (step_dir / RESTORED_EPOCH).write_text(json.dumps(restored))
        where = progress.where(index, restored["step_epoch"], epochs_before)
        progress.note(f"{restored['reason']}: {where}")
    return first_epoch


def kept_epoch(step: dict, early_stopping: list, selection, selection_monitor: str) -> dict | None:
    """The step epoch whose weights the step ends with, if not its last one's, with the reason: model selection's
    best epoch (its weights loaded here) over early stopping's."""
    if selection is not None:
        best = selection.restore_best()
        if best is not None:
            monitor = f"val_{selection_monitor}"
            return {
                "step_epoch": best["step_epoch"],
                "monitor": monitor,
                "value": round(best["value"], 6),
                "reason": f"model selection kept the epoch with the best {monitor} ({best['value']:.4f})",
            }
    restored = restored_step_epoch(early_stopping)
    if restored is None:
        return None
    monitor = step["early_stopping"]["monitor"]
    return {
        "step_epoch": restored,
        "monitor": monitor,
        "reason": f"early stopping kept the weights of its best {monitor}",
    }


def restored_epochs(checkpoint_dir: Path, history) -> list[dict]:
    """For every step whose early stopping put back an earlier epoch's weights: the step, that epoch as counted in
    history.csv's `epoch` column, and as counted within the step."""
    restored = []
    for index in sorted(set(history["step"])):
        path = checkpoint_dir / f"step_{index}" / RESTORED_EPOCH
        if path.exists():
            step_epoch = json.loads(path.read_text())["step_epoch"]
            row = history[(history["step"] == index) & (history["step_epoch"] == step_epoch)]
            kept = json.loads(path.read_text())
            restored.append(
                {"step": int(index), "epoch": int(row["epoch"].iloc[0])}
                | {key: kept[key] for key in ("step_epoch", "monitor", "value", "reason") if key in kept}
            )
    return restored
