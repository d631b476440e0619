"""The faces behind the numbers: per target, sensitive attribute and group, the most confident errors (small
thumbnails from the preprocessed arrays) and, for convolutional models, Grad-CAM heatmaps averaged over the group
with the errors' own heatmaps laid over them.

Confidence is the score of the predicted class: an error made at 0.99 comes before one made at 0.51. Numeric
(regression) targets have no confident errors and are left out. With `show_faces` off (a dataset whose licence
forbids showing its faces) no face reaches the file: the errors are listed by row and path only, and the averaged
heatmaps are drawn on their own. Images are embedded as PNG data URIs, at most `thumbnail_px` pixels a side, so the
report stays small and self-contained.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from faceaudit.data.arrays import read_split
from faceaudit.evaluation.metrics import label_indices, require_columns
from faceaudit.labels import is_numeric
from faceaudit.study.result_types import Gallery


@dataclass(frozen=True)
class GallerySettings:
    show_faces: bool = True
    examples: int = 6
    thumbnail_px: int = 48
    heatmap_images: int = 64
    seed: int = 0


def confidences(predictions: pd.DataFrame, target: str, classes: list[str]) -> np.ndarray:
    """The score of the predicted class of every row."""
    _, predicted = label_indices(predictions, target, classes)
    columns = [f"{target}_score_{index}" for index in range(len(classes))]
    require_columns(predictions, columns)
    scores = predictions[columns].to_numpy(dtype=float)
    return scores[np.arange(len(predictions)), predicted]


def confident_errors(predictions: pd.DataFrame, target: str, classes: list[str], rows: np.ndarray, count: int):
    """Positions (of `rows`, a boolean mask) of at most `count` wrong predictions, most confident first; ties keep
    the table's order."""
    true, predicted = label_indices(predictions, target, classes)
    wrong = np.flatnonzero(rows & (true != predicted))
    confidence = confidences(predictions, target, classes)[wrong]
    return wrong[np.argsort(-confidence, kind="stable")][:count]


def check_aligned(predictions: pd.DataFrame, rows: pd.DataFrame, rows_name: str = "rows CSV") -> None:
    """The predictions must follow the arrays row by row (predict writes them so); name the first row that does not."""
    if len(predictions) != len(rows):
        raise ValueError(
            f"predictions have {len(predictions)} rows, the {rows_name} {len(rows)}: not the same eval set"
        )
    different = predictions["path"].astype(str).to_numpy() != rows["path"].astype(str).to_numpy()
    if different.any():
        row = int(np.argmax(different))
        raise ValueError(
            f"row {row}: the predictions name {predictions['path'].iloc[row]!r}, the {rows_name} "
            f"{rows['path'].iloc[row]!r}; the gallery needs predictions in the order of the preprocessed arrays"
        )


def png_uri(pixels: np.ndarray, size: int) -> str:
    """An image (H x W x 1 or 3, uint8) scaled down to fit `size` pixels a side, as a PNG data URI."""
    from PIL import Image

    array = np.asarray(pixels, dtype=np.uint8)
    image = Image.fromarray(array[..., 0] if array.ndim == 3 and array.shape[-1] == 1 else array)
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def heatmap_pixels(heatmap: np.ndarray, face: np.ndarray | None = None) -> np.ndarray:
    """A heatmap (0..1) in the inferno colours, half over the face where one is given."""
    from matplotlib import colormaps

    colours = colormaps["inferno"](np.clip(heatmap, 0, 1))[..., :3] * 255
    if face is not None:
        face = np.asarray(face, dtype=float)
        face = np.repeat(face, 3, axis=-1) if face.shape[-1] == 1 else face
        colours = 0.5 * colours + 0.5 * face
    return colours.astype(np.uint8)


def rows_predicted(images: np.ndarray, rows: pd.DataFrame, predictions: pd.DataFrame) -> tuple:
    """The eval set's images and rows that have a prediction: a label map may leave rows out (they are in the run's
    rejects file), and predict keeps the others in their order."""
    kept = rows["path"].astype(str).isin(set(predictions["path"].astype(str))).to_numpy()
    if kept.all():
        return images, rows
    return images[kept], rows[kept].reset_index(drop=True)


def write_gallery(
    predictions_path: Path,
    split: tuple[Path, Path],
    evaluation: dict,
    out_path: Path,
    model=None,
) -> None:
    """The gallery of one eval set's predictions file, from its split's arrays and rows (`split`: images, rows);
    `evaluation` holds the run's targets, sensitive attributes and `gallery` settings."""
    images, rows = read_split(*split)
    predictions = pd.read_csv(predictions_path, dtype={"path": str})
    images, rows = rows_predicted(images, rows, predictions)
    gallery = build_gallery(
        predictions,
        images,
        rows,
        evaluation["targets"],
        evaluation["sensitive_attributes"],
        GallerySettings(**evaluation["gallery"]),
        model,
    )
    Path(out_path).write_text(json.dumps(gallery))


def build_gallery(
    predictions: pd.DataFrame,
    images: np.ndarray,
    rows: pd.DataFrame,
    targets: dict,
    sensitive_attributes: list[str],
    settings: GallerySettings,
    model=None,
) -> Gallery:
    """The gallery of one eval set (see the module's docstring); `model` (a Keras model, or None for a run without
    one) adds the Grad-CAM heatmaps where it has a convolutional layer."""
    check_aligned(predictions, rows)
    layer = None
    if model is not None:
        from faceaudit.evaluation.gradcam import last_convolutional_layer

        layer = last_convolutional_layer(model)
    gallery = {
        "show_faces": settings.show_faces,
        "thumbnail_px": settings.thumbnail_px,
        "gradcam_layer": None if layer is None else layer.name,
        "gradcam_note": gradcam_note(model, layer),
        "targets": {},
    }
    for target, classes in targets.items():
        if is_numeric(classes):
            continue
        gallery["targets"][target] = {
            attribute: {
                str(group): group_gallery(
                    predictions,
                    images,
                    target,
                    classes,
                    predictions[attribute].astype(str).to_numpy() == group,
                    settings,
                    model if layer is not None else None,
                )
                for group in sorted(predictions[attribute].astype(str).unique())
            }
            for attribute in sensitive_attributes
            if attribute != target
        }
    return gallery


def gradcam_note(model, layer) -> str:
    if model is None:
        return "no model file for this run: errors only, no Grad-CAM"
    if layer is None:
        return "the model has no convolutional layer: no Grad-CAM"
    return f"Grad-CAM on layer {layer.name!r}, for the predicted class"


def group_gallery(predictions, images, target, classes, in_group, settings: GallerySettings, model) -> dict:
    """One group's most confident errors, with thumbnails and Grad-CAM overlays where allowed and possible, and its
    averaged heatmap over at most `heatmap_images` of its rows (seeded)."""
    true, predicted = label_indices(predictions, target, classes)
    confidence = confidences(predictions, target, classes)
    errors = confident_errors(predictions, target, classes, in_group, settings.examples)
    sampled = np.flatnonzero(in_group)
    if len(sampled) > settings.heatmap_images:
        rng = np.random.default_rng(settings.seed)
        sampled = np.sort(rng.choice(sampled, settings.heatmap_images, replace=False))
    heatmaps = {}
    if model is not None and len(sampled):
        from faceaudit.evaluation.gradcam import gradcam_heatmaps

        wanted = np.union1d(sampled, errors)
        maps = gradcam_heatmaps(model, np.asarray(images[wanted]), target, predicted[wanted])
        heatmaps = dict(zip(wanted.tolist(), maps, strict=True))
    examples = [
        {
            "row": int(row),
            "path": str(predictions["path"].iloc[row]),
            "true": classes[true[row]],
            "predicted": classes[predicted[row]],
            "confidence": float(confidence[row]),
            "thumbnail": png_uri(images[row], settings.thumbnail_px) if settings.show_faces else None,
            "heatmap": png_uri(heatmap_pixels(heatmaps[row], images[row]), settings.thumbnail_px)
            if settings.show_faces and row in heatmaps
            else None,
        }
        for row in errors
    ]
    mean = np.mean([heatmaps[row] for row in sampled], axis=0) if heatmaps else None
    mean_uri = None if mean is None else png_uri(heatmap_pixels(mean / max(mean.max(), 1e-12)), settings.thumbnail_px)
    return {
        "n": int(in_group.sum()),
        "errors": int(np.sum(in_group & (true != predicted))),
        "examples": examples,
        "mean_heatmap": mean_uri,
        "heatmap_images": len(sampled) if heatmaps else 0,
    }
