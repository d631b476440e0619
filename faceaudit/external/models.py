"""Audit a model trained elsewhere (`model: external`): load its file, check it against the experiment's input and
output contract, feed it the preprocessed arrays scaled the way it expects, and write predict_eval_set's table.

The contract is the experiment's config slice: `image: {size, color}` and `external: {file, scaling, outputs,
label_map}`. Outputs are numbered in the model's own order: a Keras model's `output_names`; a SavedModel's serving
signature's outputs by name (Keras' `export` names them output_0, output_1, ...).
"""

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from faceaudit.external.graph_check import check_saved_model_graph
from faceaudit.labels import NUMERIC
from faceaudit.models import class_scores
from faceaudit.models.transfer import BACKBONES

PIXEL_SCALINGS = ("unit", "symmetric", "none")
# scaling name: keras.applications module whose preprocess_input is applied (0..255 RGB in)
BACKBONE_SCALINGS = {
    **{name: module for name, (module, _) in BACKBONES.items()},
    "vgg19": "vgg19",
    "resnet101": "resnet",
    "resnet152": "resnet",
    "resnet50_v2": "resnet_v2",
    "inception_v3": "inception_v3",
    "xception": "xception",
    "densenet121": "densenet",
    "mobilenet": "mobilenet",
    "mobilenet_v2": "mobilenet_v2",
}
SCALINGS = (*PIXEL_SCALINGS, *sorted(BACKBONE_SCALINGS))
KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


@dataclass
class ExternalModel:
    """A loaded model reduced to what an audit needs: its input shape, its outputs, and a batch -> outputs call."""

    path: str
    input_shape: tuple  # (None, height, width, channels); None where any size goes
    output_names: list[str]
    output_widths: list[int | None]
    predict_batch: Callable[[np.ndarray], list[np.ndarray]]
    source: object = None  # what was loaded: the Keras model, or the SavedModel object (for run.json's description)

    def __call__(self, batch: np.ndarray) -> list[np.ndarray]:
        return self.predict_batch(batch)


def load_external_model(path, key: str = "external.file") -> ExternalModel:
    """A .keras or .h5 file (loaded without compiling), or a SavedModel folder (its serving signature)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{key}: the model file {path} does not exist")
    if path.is_dir():
        return load_saved_model(path, key)
    if path.suffix.lower() not in KERAS_SUFFIXES:
        raise ValueError(f"{key}: {path} is neither a .keras or .h5 file nor a SavedModel folder")
    return load_keras_file(path, key)


def load_keras_file(path: Path, key: str) -> ExternalModel:
    import keras

    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as error:
        raise ValueError(unreadable_model_message(path, key, error)) from error
    if len(model.inputs) != 1:
        raise ValueError(f"{key}: {path} takes {len(model.inputs)} inputs; an audited model takes one image batch")
    names = list(model.output_names)

    def predict_batch(batch):
        outputs = model.predict_on_batch(batch)
        if isinstance(outputs, dict):
            return [np.asarray(outputs[name]) for name in names]
        return [np.asarray(output) for output in (outputs if isinstance(outputs, list | tuple) else [outputs])]

    widths = [output.shape[-1] for output in model.outputs]
    return ExternalModel(str(path), tuple(model.input_shape), names, widths, predict_batch, model)


def unreadable_model_message(path: Path, key: str, error: Exception) -> str:
    missing = re.search(r"Could not locate (?:class|function) '([^']+)'", str(error))
    if missing:
        return (
            f"{key}: {path} uses '{missing.group(1)}', a custom class that Keras cannot find here. Save the model "
            "with built-in layers only, or export it as a SavedModel folder (model.export(folder)), which needs no "
            "Python code"
        )
    return f"{key}: Keras cannot read {path}: {type(error).__name__}: {str(error)[:500]}"


def load_saved_model(path: Path, key: str) -> ExternalModel:
    import tensorflow as tf

    if not (path / "saved_model.pb").is_file():
        raise ValueError(f"{key}: {path} is a folder without saved_model.pb, so not a SavedModel")
    check_saved_model_graph(path, key)  # before anything of it runs
    try:
        loaded = tf.saved_model.load(str(path))
    except Exception as error:
        raise ValueError(f"{key}: TensorFlow cannot read the SavedModel {path}: {error}") from error
    if "serving_default" not in loaded.signatures:
        raise ValueError(f"{key}: {path} has no serving_default signature (it has {sorted(loaded.signatures)})")
    signature = loaded.signatures["serving_default"]
    inputs = signature.structured_input_signature[1]
    if len(inputs) != 1:
        raise ValueError(f"{key}: {path} takes inputs {sorted(inputs)}; an audited model takes one image batch")
    ((input_name, input_spec),) = inputs.items()
    input_dtype = input_spec.dtype.as_numpy_dtype  # e.g. a model that takes uint8 pixels with scaling: none
    names = sorted(signature.structured_outputs, key=output_sort_key)

    def predict_batch(batch):
        # `loaded` must stay referenced: the signature's variables live in it.
        outputs = loaded.signatures["serving_default"](**{input_name: tf.constant(batch.astype(input_dtype))})
        return [outputs[name].numpy() for name in names]

    widths = [signature.structured_outputs[name].shape[-1] for name in names]
    return ExternalModel(str(path), tuple(input_spec.shape), names, widths, predict_batch, loaded)


def output_sort_key(name: str) -> tuple:
    """output_2 before output_10; other names alphabetically."""
    number = re.fullmatch(r"output_(\d+)", name)
    return (0, int(number.group(1)), "") if number else (1, 0, name)


def check_contract(model: ExternalModel, contract: dict, key: str, targets: dict | None = None) -> None:
    """Raise ValueError naming the model file and the config key where the model and the contract disagree.
    With `targets` ({target: dataset classes}) also check that every target has an output and every model class a
    dataset class."""
    check_input(model, contract["image"], key)
    for target, output in contract["external"]["outputs"].items():
        check_output(model, output, f"{key}.external.outputs.{target}")
    for target, classes in (targets or {}).items():
        check_target_classes(contract["external"], target, classes, key)


def check_target_classes(external: dict, target: str, classes, key: str) -> None:
    outputs = external["outputs"]
    if target not in outputs:
        raise ValueError(f"{key}.external.outputs has no entry for the target '{target}' (it has {sorted(outputs)})")
    if classes == NUMERIC:
        return
    if not outputs[target].get("classes"):
        raise ValueError(f"{key}.external.outputs.{target} lists no classes; the dataset's classes are {list(classes)}")
    dataset_class_matrix(outputs[target]["classes"], classes, label_map_of(external, target), key, target)


def label_map_of(external: dict, target: str) -> dict | None:
    return (external.get("label_map") or {}).get(target)


def check_input(model: ExternalModel, image: dict, key: str) -> None:
    size, color = image["size"], image["color"]
    expected = (size, size, 3 if color == "rgb" else 1)
    actual = tuple(model.input_shape[1:])
    fits = len(actual) == 3 and all(have is None or have == want for have, want in zip(actual, expected))
    if not fits:
        raise ValueError(
            f"{model.path} takes input {model.input_shape} but {key}.image gives {size}x{size} {color} {expected}"
        )


def check_output(model: ExternalModel, output: dict, key: str) -> None:
    """The output exists, and its width fits the listed classes (1 unit: a sigmoid for 2 classes, or a number)."""
    index = output_index(model, output["output"], key)
    width = model.output_widths[index]
    classes = output.get("classes")
    if classes is None:
        fits, listed = width in (None, 1), "no classes (a numeric target: one unit)"
    else:
        fits, listed = width in (None, len(classes)) or (width == 1 and len(classes) == 2), f"{len(classes)} classes"
    if not fits:
        raise ValueError(f"output {output['output']!r} of {model.path} has {width} units but {key} lists {listed}")


def output_index(model: ExternalModel, reference, key: str) -> int:
    """An output named by its position or its name."""
    known = f"{model.path} has {len(model.output_names)} outputs: {model.output_names}"
    if isinstance(reference, bool) or not isinstance(reference, int | str):
        raise ValueError(f"{key}.output must be an output's index or name, not {reference!r}; {known}")
    if isinstance(reference, str):
        if reference not in model.output_names:
            raise ValueError(f"{key}.output is '{reference}', but {known}")
        return model.output_names.index(reference)
    if not 0 <= reference < len(model.output_names):
        raise ValueError(f"{key}.output is {reference}, but {known}")
    return reference


def dataset_class_matrix(model_classes: list, dataset_classes: list, label_map: dict | None, key: str, target: str):
    """(model classes x dataset classes) 0/1 matrix: model scores @ matrix = scores in the dataset's class order,
    summed where the label map sends several model classes to one dataset class."""
    label_map = {str(source): str(destination) for source, destination in (label_map or {}).items()}
    unused = sorted(set(label_map) - set(map(str, model_classes)))
    if unused:
        raise ValueError(
            f"{key}.external.label_map.{target} maps {unused}, which are not among the model's classes "
            f"{list(model_classes)} ({key}.external.outputs.{target}.classes)"
        )
    matrix = np.zeros((len(model_classes), len(dataset_classes)), dtype="float32")
    for row, model_class in enumerate(map(str, model_classes)):
        dataset_class = label_map.get(model_class, model_class)
        if dataset_class not in dataset_classes:
            raise ValueError(
                f"{key}.external.outputs.{target}: the model's class '{model_class}'"
                + (f" (mapped to '{dataset_class}')" if dataset_class != model_class else "")
                + f" is not among the dataset's classes {list(dataset_classes)}; map it in {key}.external.label_map"
            )
        matrix[row, list(dataset_classes).index(dataset_class)] = 1.0
    return matrix


def scale_pixels(images: np.ndarray, scaling: str) -> np.ndarray:
    """uint8 0..255 pixels as the model expects them, float32: unit [0, 1], symmetric [-1, 1], none (0..255), or a
    keras.applications backbone's preprocess_input (RGB only)."""
    pixels = np.array(images, dtype="float32")
    if scaling == "unit":
        return pixels / 255.0
    if scaling == "symmetric":
        return pixels / 127.5 - 1.0
    if scaling == "none":
        return pixels
    if scaling not in BACKBONE_SCALINGS:
        raise ValueError(f"unknown scaling '{scaling}'; known scalings: {list(SCALINGS)}")
    if pixels.shape[-1] != 3:
        raise ValueError(
            f"scaling '{scaling}' is a backbone's preprocessing for RGB images, not {pixels.shape[-1]} channel(s)"
        )
    module = importlib.import_module(f"keras.applications.{BACKBONE_SCALINGS[scaling]}")
    return np.asarray(module.preprocess_input(pixels), dtype="float32")


def predict_outputs(model: ExternalModel, images: np.ndarray, scaling: str, batch_size: int) -> list[np.ndarray]:
    """Every output over all images, read from the memory map one batch at a time."""
    if len(images) == 0:
        raise ValueError(f"no images to predict with {model.path}")
    batches = [
        model(scale_pixels(images[start : start + batch_size], scaling)) for start in range(0, len(images), batch_size)
    ]
    return [np.concatenate([batch[index] for batch in batches]) for index in range(len(model.output_names))]


def predict_external(
    model_path,
    images: np.ndarray,
    rows: pd.DataFrame,
    contract: dict,
    targets: dict[str, list[str] | str],
    carried_labels: list[str],
    batch_size: int = 256,
    key: str = "experiment",
) -> pd.DataFrame:
    """predict_eval_set's table for an external model: scores in the dataset's class order (via the label map).
    `key` is the experiment's config key (experiments.<name>), for the messages."""
    external = contract["external"]
    model = load_external_model(model_path, f"{key}.external.file")
    check_contract(model, contract, key, targets)
    outputs = predict_outputs(model, images, external["scaling"], batch_size)
    table = pd.DataFrame({"path": rows["path"]})
    for target, classes in targets.items():
        output = external["outputs"][target]
        raw = outputs[output_index(model, output["output"], key)]
        table[f"{target}_true"] = rows[target].to_numpy()
        if classes == NUMERIC:
            table[f"{target}_pred"] = np.asarray(raw, dtype="float64").reshape(-1)
            continue
        matrix = dataset_class_matrix(output["classes"], classes, label_map_of(external, target), key, target)
        add_class_columns(table, target, classes, class_scores(raw, len(output["classes"])) @ matrix)
    for label in carried_labels:
        table[label] = rows[label].to_numpy()
    return table


def add_class_columns(table: pd.DataFrame, target: str, classes: list[str], scores: np.ndarray) -> None:
    table[f"{target}_pred"] = np.asarray(classes, dtype=object)[scores.argmax(axis=1)]
    for class_index in range(len(classes)):
        table[f"{target}_score_{class_index}"] = scores[:, class_index]
