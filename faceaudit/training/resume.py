"""Where a step resumes after a killed or failed attempt, with damaged checkpoint files set aside, not fatal.

Keras' BackupAndRestore(double_checkpoint=True) keeps two generations in the step's folder: latest.weights.h5 with
training_metadata.json ({"epoch": epochs done, "batch": 0}), and, copied there before each save, the previous ones
as latest.weights.h5.bkp and training_metadata.json.bkp. CSVLogger appends a row per epoch to history.csv before the
checkpoint is saved. A job killed while writing one of them leaves it empty or cut short, and Keras then fails on
every attempt; resume_point picks the newest generation that loads and that the epoch log covers, else the older
one, else the step's start, and reports what it did.
"""

import csv
import json
import os
import shutil
from pathlib import Path

EPOCH_LOG = "history.csv"
GENERATIONS = {
    "newest": ("latest.weights.h5", "training_metadata.json"),
    "older": ("latest.weights.h5.bkp", "training_metadata.json.bkp"),
}


class UnusableCheckpoint(Exception):
    """A checkpoint generation the step cannot resume from; the message says why."""


def resume_point(model, folder: Path, note) -> int:
    """Leave folder as BackupAndRestore and CSVLogger should find it; return the epoch the step resumes at (0: its
    start). note(text) is told of every repair and fallback."""
    log_path = folder / EPOCH_LOG
    header, rows = whole_log_rows(log_path, note)
    logged = consecutive_epochs(rows)
    epoch, problems = 0, {}
    if any((folder / name).exists() for files in GENERATIONS.values() for name in files):
        epoch, problems = load_newest_usable(model, folder, logged)
    described = "; ".join(f"{generation} checkpoint: {problem}" for generation, problem in problems.items())
    if problems and epoch:
        note(f"{folder}: {described}; resuming from the older checkpoint, at epoch {epoch + 1}")
    elif problems:
        note(f"{folder}: {described}; no checkpoint can be used, the step starts again from its first epoch")
    if epoch == 0:
        for name in (name for files in GENERATIONS.values() for name in files):
            (folder / name).unlink(missing_ok=True)
    write_log(log_path, header, {index: rows[index] for index in range(epoch)})
    return epoch


def load_newest_usable(model, folder: Path, logged: int) -> tuple[int, dict[str, str]]:
    """Load the newest usable generation into model (the older one is then copied over the newest, where Keras looks)
    and return its epoch and the problems of those skipped; (0, problems) with model as it was if none is usable."""
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)  # as BackupAndRestore does: the files hold its variables
    before = model_state(model)
    problems = {}
    for generation, (weights, metadata) in GENERATIONS.items():
        if not ((folder / weights).exists() or (folder / metadata).exists()):
            continue
        try:
            epoch = load_generation(model, folder / weights, folder / metadata, logged)
        except UnusableCheckpoint as problem:
            problems[generation] = str(problem)
            continue
        if generation != "newest":
            for newest, older in zip(GENERATIONS["newest"], (weights, metadata)):
                replace_with_copy(folder / older, folder / newest)
        return epoch, problems
    set_model_state(model, before)  # a generation that failed half-way may have loaded some variables
    return 0, problems


def load_generation(model, weights: Path, metadata: Path, logged: int) -> int:
    epoch = checkpoint_epoch(metadata)
    if epoch > logged:
        raise UnusableCheckpoint(f"it holds {epoch} epochs but {EPOCH_LOG} has only {logged} whole rows")
    if not weights.exists():
        raise UnusableCheckpoint(f"{weights.name} is missing")
    # Keras loads only files named *.weights.h5, not the .bkp copy: load a copy under such a name.
    loadable = weights if weights.name.endswith(".weights.h5") else weights.with_name("candidate.weights.h5")
    try:
        if loadable != weights:
            shutil.copyfile(weights, loadable)
        model.load_weights(loadable)
    except Exception as error:  # h5py and Keras raise OSError, KeyError or ValueError: any means unusable
        raise UnusableCheckpoint(f"{weights.name} does not load ({type(error).__name__}: {error})") from error
    finally:
        if loadable != weights:
            loadable.unlink(missing_ok=True)
    return epoch


def checkpoint_epoch(metadata: Path) -> int:
    if not metadata.exists():
        raise UnusableCheckpoint(f"{metadata.name} is missing")
    text = metadata.read_text(errors="replace")
    try:
        epoch = json.loads(text)["epoch"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise UnusableCheckpoint(f'{metadata.name} holds {text[:60]!r}, not Keras\' {{"epoch": ...}}') from error
    if not isinstance(epoch, int) or epoch < 0:
        raise UnusableCheckpoint(f"{metadata.name} gives epoch {epoch!r}, not a count of epochs")
    return epoch


def whole_log_rows(path: Path, note) -> tuple[str | None, dict[int, str]]:
    """The epoch log's header line and its whole rows by epoch (an epoch logged twice keeps its last row); a line
    cut short (no line end, or too few fields) is dropped and reported."""
    if not path.exists():
        return None, {}
    *lines, unfinished = path.read_text(errors="replace").split("\n")
    if unfinished:
        note(f"{path}: dropped the partial last line {unfinished[:60]!r} (the job stopped while writing it)")
    if not lines or next(csv.reader([lines[0]]))[:1] != ["epoch"]:
        if lines:
            note(f"{path}: dropped the log, its first line {lines[0][:60]!r} is not the header")
        return None, {}
    width, rows, broken = len(next(csv.reader([lines[0]]))), {}, 0
    for line in lines[1:]:
        fields = next(csv.reader([line]), [])
        if len(fields) == width and fields[0].isdigit():
            rows[int(fields[0])] = line
        else:
            broken += 1
    if broken:
        note(f"{path}: dropped {broken} rows that are not whole")
    return lines[0], rows


def consecutive_epochs(rows: dict[int, str]) -> int:
    count = 0
    while count in rows:
        count += 1
    return count


def write_log(path: Path, header: str | None, rows: dict[int, str]) -> None:
    """The epoch log with exactly these rows (the epochs the checkpoint holds); none: no log, CSVLogger starts one."""
    if header is None or not rows:
        path.unlink(missing_ok=True)
        return
    text = "".join(f"{line}\n" for line in [header, *rows.values()])
    if not path.exists() or path.read_text(errors="replace") != text:
        partial = path.with_name("partial." + path.name)
        partial.write_text(text)
        os.replace(partial, path)


def replace_with_copy(source: Path, target: Path) -> None:
    partial = target.with_name("partial." + target.name)
    partial.write_bytes(source.read_bytes())
    os.replace(partial, target)


def model_state(model) -> tuple[list, list]:
    optimizer_variables = model.optimizer.variables if model.optimizer is not None else []
    return model.get_weights(), [variable.numpy() for variable in optimizer_variables]


def set_model_state(model, state: tuple[list, list]) -> None:
    weights, optimizer_values = state
    model.set_weights(weights)
    for variable, value in zip(model.optimizer.variables if model.optimizer is not None else [], optimizer_values):
        variable.assign(value)
