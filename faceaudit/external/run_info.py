"""What an audited run records about itself (its run.json): the spec, which files made elsewhere it audits (with their
sha256, so the report says exactly what was audited), and for a model file its size and architecture."""

import hashlib
import socket
from pathlib import Path

ORIGINS = {"external": "external_model", "imported": "prediction_files"}


def audited_run_info(spec: dict, files: list[Path]) -> dict:
    info = {
        **spec,
        "origin": ORIGINS[spec["model"]],
        "files": [file_record(Path(file)) for file in files],
        "host": socket.gethostname(),
        "training_seconds": None,
        "parameters": None,
        "architecture": "",
    }
    if spec["model"] == "external":
        info |= model_description(Path(files[0]))
    return info


def file_record(path: Path) -> dict:
    """A file's path, size and sha256; a SavedModel folder's sha256 covers every file in it, in path order."""
    parts = sorted(part for part in path.rglob("*") if part.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for part in parts:
        if path.is_dir():
            digest.update(str(part.relative_to(path)).encode())
        with open(part, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return {"path": str(path), "bytes": sum(part.stat().st_size for part in parts), "sha256": digest.hexdigest()}


def model_description(path: Path) -> dict:
    """The model's parameter count and Keras summary; a SavedModel folder has no summary: the sizes of the variables
    its serving signature uses (a Keras export and a plain TensorFlow module alike: only the former has
    `.variables`)."""
    from faceaudit.external.models import load_external_model

    model = load_external_model(path).source  # refuses, naming the file, what cannot be audited
    if hasattr(model, "count_params"):
        lines = []
        model.summary(print_fn=lambda line, **kwargs: lines.append(line))
        return {"parameters": int(model.count_params()), "architecture": "\n".join(lines)}
    variables = {id(variable): variable for variable in model.signatures["serving_default"].variables}
    parameters = sum(variable.shape.num_elements() or 0 for variable in variables.values())
    return {"parameters": int(parameters), "architecture": ""}
