"""Offline, seeded dataset of procedurally drawn face-like JPEGs labelled with gender, age and group.
Drawn features follow the true labels with a tunable signal strength; recorded labels may carry noise."""

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

__all__ = ["generate_synthetic_dataset", "LABEL_COLUMNS"]

LABEL_COLUMNS = ["file", "gender", "age", "age_years", "group", "drawn_gender", "drawn_age"]
# The recorded age bin spread uniformly over this many years, for age regression (`age_years: numeric`).
YEARS_SPANNED = 80

LIGHTEST_SKIN = np.array([240, 208, 182])
DARKEST_SKIN = np.array([92, 58, 40])
GRAY_HAIR = np.array([185, 185, 190])
SUPERSAMPLING = 2


@dataclass(frozen=True)
class FaceParameters:
    """Everything needed to draw one face; coordinates are fractions of the image side."""

    gender_feature: float  # 1 = long hair, narrow jaw; 0 = short hair, wide jaw
    age_feature: float  # 0 = infant proportions, 1 = gray hair and wrinkles
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    background: tuple[int, int, int]
    clothing: tuple[int, int, int]
    center_x: float
    center_y: float
    scale: float
    brightness: float


def generate_synthetic_dataset(
    out_dir: Path,
    *,
    n_images: int,
    image_size: int,
    seed: int,
    signal: float,
    groups: list[dict],
    gender_classes: list[str],
    age_classes: list[str],
    jpeg_quality: int = 90,
) -> pd.DataFrame:
    """Draw `n_images` faces into `out_dir/images/` and write `out_dir/labels.csv`; return the labels table."""
    validate_arguments(n_images, image_size, signal, groups, gender_classes, age_classes, jpeg_quality)
    rng = np.random.default_rng(seed)
    group_index, gender_index, age_index = choose_labels(rng, n_images, groups, len(age_classes))
    label_noise = label_noise_per_image(groups, group_index, gender_index, gender_classes)
    recorded_gender, recorded_age = apply_label_noise(rng, gender_index, age_index, label_noise, len(age_classes))
    signal_per_group = np.array([float(group.get("signal", signal)) for group in groups])
    tone_per_group = group_skin_tones(groups)
    faces = sample_face_parameters(
        rng, group_index, gender_index, age_index, signal_per_group, tone_per_group, len(age_classes)
    )
    images = (
        finish_image(rng, draw_face(face, image_size * SUPERSAMPLING), image_size, face.brightness) for face in faces
    )
    labels = pd.DataFrame(
        {
            "file": [f"images/{number:05d}.jpg" for number in range(n_images)],
            "gender": np.asarray(gender_classes, dtype=object)[recorded_gender],
            "age": np.asarray(age_classes, dtype=object)[recorded_age],
            "age_years": age_in_years(seed, recorded_age, len(age_classes)),
            "group": np.asarray([group["name"] for group in groups], dtype=object)[group_index],
            "drawn_gender": np.asarray(gender_classes, dtype=object)[gender_index],
            "drawn_age": np.asarray(age_classes, dtype=object)[age_index],
        },
        columns=LABEL_COLUMNS,
    )
    write_files(Path(out_dir), images, labels, jpeg_quality)
    return labels


def age_in_years(seed: int, age_index: np.ndarray, n_age: int) -> np.ndarray:
    """A whole number of years inside the recorded age bin; a generator of its own, so the images stay the same."""
    position = np.random.default_rng([seed, 1]).random(len(age_index))
    return ((age_index + position) / n_age * YEARS_SPANNED).astype(int).astype(str)


def validate_arguments(n_images, image_size, signal, groups, gender_classes, age_classes, jpeg_quality) -> None:
    if n_images < 1:
        raise ValueError(f"n_images must be at least 1, got {n_images}")
    if image_size < 8:
        raise ValueError(f"image_size must be at least 8 pixels, got {image_size}")
    if not 1 <= jpeg_quality <= 100:
        raise ValueError(f"jpeg_quality must be in [1, 100], got {jpeg_quality}")
    if len(gender_classes) != 2:
        raise ValueError(f"gender_classes must name exactly 2 classes, got {list(gender_classes)}")
    if len(age_classes) < 2:
        raise ValueError(f"age_classes must name at least 2 bins, got {list(age_classes)}")
    check_unit_interval("signal", signal)
    if not groups:
        raise ValueError("groups must contain at least one group")
    names = [group["name"] for group in groups]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"group names must be unique, repeated: {repeated}")
    for group in groups:
        if group["share"] < 0:
            raise ValueError(f"group {group['name']!r} has a negative share: {group['share']}")
        check_unit_interval(f"label_noise of group {group['name']!r}", group.get("label_noise", 0.0))
        check_unit_interval(f"signal of group {group['name']!r}", group.get("signal", signal))
        check_unit_interval(f"skin_tone of group {group['name']!r}", group.get("skin_tone", 0.0))
        check_label_noise_by_gender(group, gender_classes)
    if sum(group["share"] for group in groups) <= 0:
        raise ValueError(f"group shares are all zero: {names}")


def check_label_noise_by_gender(group: dict, gender_classes: list[str]) -> None:
    for gender, rate in group.get("label_noise_by_gender", {}).items():
        if gender not in gender_classes:
            raise ValueError(
                f"label_noise_by_gender of group {group['name']!r} names {gender!r}, which is not a gender class; "
                f"the classes are {list(gender_classes)}"
            )
        check_unit_interval(f"label_noise_by_gender[{gender!r}] of group {group['name']!r}", rate)


def check_unit_interval(what: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{what} must be in [0, 1], got {value}")


def choose_labels(rng: np.random.Generator, n_images: int, groups: list[dict], n_age: int):
    """Group by share; true gender and age bin uniform and independent of the group."""
    shares = np.array([float(group["share"]) for group in groups])
    group_index = rng.choice(len(groups), size=n_images, p=shares / shares.sum())
    gender_index = rng.integers(0, 2, size=n_images)
    age_index = rng.integers(0, n_age, size=n_images)
    return group_index, gender_index, age_index


def label_noise_per_image(groups, group_index, gender_index, gender_classes) -> np.ndarray:
    """Each image's probability that its recorded labels are wrong: its group's `label_noise`, or, where the group
    sets `label_noise_by_gender`, the rate given for the image's true (drawn) gender: bias in one intersection."""
    noise = np.array([float(group.get("label_noise", 0.0)) for group in groups])[group_index]
    for position, group in enumerate(groups):
        for gender, rate in group.get("label_noise_by_gender", {}).items():
            noise[(group_index == position) & (gender_index == list(gender_classes).index(gender))] = float(rate)
    return noise


def apply_label_noise(rng, gender_index, age_index, noise, n_age):
    """Flip gender and move age to another uniformly drawn bin, each with the image's noise probability."""
    flip_gender = rng.random(len(gender_index)) < noise
    move_age = rng.random(len(gender_index)) < noise
    # Adding 1..n_age-1 modulo n_age picks each other bin with equal probability.
    other_age = (age_index + rng.integers(1, n_age, size=len(age_index))) % n_age
    recorded_gender = np.where(flip_gender, 1 - gender_index, gender_index)
    recorded_age = np.where(move_age, other_age, age_index)
    return recorded_gender, recorded_age


def sample_face_parameters(rng, group_index, gender_index, age_index, signal_per_group, tone_per_group, n_age):
    """Mix label features with random ones by the group's signal, and draw the nuisance parameters."""
    n_images = len(group_index)
    signal = signal_per_group[group_index]
    gender_label_feature = (gender_index == 0).astype(float)
    age_label_feature = age_index / (n_age - 1)
    gender_feature = signal * gender_label_feature + (1 - signal) * rng.random(n_images)
    age_feature = signal * age_label_feature + (1 - signal) * rng.random(n_images)
    position = tone_per_group[group_index][:, None]
    skin = (LIGHTEST_SKIN + position * (DARKEST_SKIN - LIGHTEST_SKIN)) * rng.uniform(0.93, 1.07, size=(n_images, 1))
    hair = rng.uniform(25, 95, size=(n_images, 1)) * rng.uniform(0.75, 1.0, size=(n_images, 3))
    background = rng.uniform(110, 245, size=(n_images, 3))
    clothing = rng.uniform(30, 230, size=(n_images, 3))
    center = 0.5 + rng.uniform(-0.04, 0.04, size=(n_images, 2))
    scale = rng.uniform(0.93, 1.07, size=n_images)
    brightness = rng.uniform(0.82, 1.15, size=n_images)
    return [
        FaceParameters(
            gender_feature=float(gender_feature[i]),
            age_feature=float(age_feature[i]),
            skin=as_color(skin[i]),
            hair=as_color(gray_hair(hair[i], age_feature[i])),
            background=as_color(background[i]),
            clothing=as_color(clothing[i]),
            center_x=float(center[i, 0]),
            center_y=float(center[i, 1]),
            scale=float(scale[i]),
            brightness=float(brightness[i]),
        )
        for i in range(n_images)
    ]


def group_skin_tones(groups: list[dict]) -> np.ndarray:
    """Each group's base tone from 0 (lightest) to 1 (darkest): its `skin_tone`, else evenly spaced by position."""
    spaced = np.linspace(0.0, 1.0, len(groups)) if len(groups) > 1 else np.zeros(1)
    return np.array([float(group.get("skin_tone", default)) for group, default in zip(groups, spaced)])


def gray_hair(hair: np.ndarray, age_feature: float) -> np.ndarray:
    graying = np.clip((age_feature - 0.3) / 0.6, 0.0, 1.0)
    return hair + graying * (GRAY_HAIR - hair)


def as_color(values: np.ndarray) -> tuple[int, int, int]:
    return tuple(min(255, max(0, round(float(v)))) for v in values)


def draw_face(face: FaceParameters, canvas_size: int) -> Image.Image:
    """Head on shoulders; hair length and jaw follow gender, proportions, graying and wrinkles follow age."""
    image = Image.new("RGB", (canvas_size, canvas_size), face.background)
    draw = ImageDraw.Draw(image)
    s = canvas_size
    youth = float(np.clip(1 - face.age_feature / 0.3, 0.0, 1.0))
    half_width = (0.20 + 0.03 * (1 - youth)) * face.scale * s
    half_height = (0.22 + 0.06 * (1 - youth)) * face.scale * s
    cx, cy = face.center_x * s, face.center_y * s - 0.03 * s
    chin = cy + half_height

    draw.ellipse([cx - 0.36 * s, chin + 0.06 * s, cx + 0.36 * s, chin + 0.5 * s], fill=face.clothing)
    draw.rectangle([cx - 0.3 * half_width, cy, cx + 0.3 * half_width, chin + 0.1 * s], fill=shade(face.skin, 0.85))
    hair_bottom = cy + half_height * (1.6 * face.gender_feature - 0.2)
    hair_half_width = half_width * (1.12 + 0.25 * face.gender_feature)
    draw.rounded_rectangle(
        [cx - hair_half_width, cy - half_height * 1.12, cx + hair_half_width, hair_bottom],
        radius=int(hair_half_width * 0.9),
        fill=face.hair,
    )
    outline = face_outline(cx, cy, half_width, half_height, jaw=0.5 + 0.45 * (1 - face.gender_feature))
    draw.polygon(outline, fill=face.skin)
    draw_stubble(draw, face, outline, cy + 0.38 * half_height, youth)
    # Hair cap over the forehead; thin for infants.
    cap_bottom = cy - half_height * (0.45 + 0.3 * youth)
    draw.chord(
        [cx - half_width * 1.05, cy - half_height * 1.12, cx + half_width * 1.05, cap_bottom + 0.5 * half_height],
        180,
        360,
        fill=face.hair,
    )
    draw_features(draw, face, cx, cy, half_width, half_height, youth)
    return image


def face_outline(cx, cy, half_width, half_height, jaw: float) -> list[tuple[float, float]]:
    """Ellipse whose lower half narrows towards the chin to `jaw` times the full width."""
    angles = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    lower = np.clip(np.sin(angles), 0, 1)
    width = half_width * (1 - (1 - jaw) * lower**2)
    return list(zip(cx + width * np.cos(angles), cy + half_height * np.sin(angles)))


def draw_stubble(draw, face, outline, top: float, youth: float) -> None:
    """Darker lower face for adults with a low gender feature; a hair cue that does not depend on hair colour."""
    adulthood = float(np.clip((face.age_feature - 0.25) / 0.2, 0.0, 1.0)) * (1 - youth)
    darkening = 0.35 * adulthood * (1 - face.gender_feature)
    if darkening > 0.01:
        lower_face = [(x, max(y, top)) for x, y in outline]
        draw.polygon(lower_face, fill=shade(face.skin, 1 - darkening))


def draw_features(draw: ImageDraw.ImageDraw, face, cx, cy, half_width, half_height, youth) -> None:
    line = max(1, round(half_width / 20))
    eye_y = cy + half_height * (0.12 * youth - 0.05)
    eye_radius = half_width * (0.13 + 0.07 * youth)
    dark = shade(face.skin, 0.55)
    for side in (-1, 1):
        ex = cx + side * half_width * 0.42
        draw.ellipse(
            [ex - eye_radius, eye_y - eye_radius * 0.7, ex + eye_radius, eye_y + eye_radius * 0.7], fill=(245, 245, 245)
        )
        pupil = eye_radius * 0.5
        draw.ellipse([ex - pupil, eye_y - pupil, ex + pupil, eye_y + pupil], fill=(35, 25, 20))
        brow_y = eye_y - eye_radius * 1.6
        draw.line([ex - eye_radius, brow_y, ex + eye_radius, brow_y], fill=face.hair, width=2 * line)
    nose_y = cy + half_height * (0.3 + 0.1 * youth)
    draw.line([cx, eye_y + eye_radius, cx - half_width * 0.08, nose_y], fill=dark, width=line)
    mouth_y = cy + half_height * (0.55 + 0.05 * youth)
    mouth_half = half_width * (0.35 - 0.1 * youth)
    draw.arc(
        [cx - mouth_half, mouth_y - 0.15 * half_height, cx + mouth_half, mouth_y + 0.1 * half_height],
        20,
        160,
        fill=(150, 50, 50),
        width=2 * line,
    )
    draw_wrinkles(draw, face, cx, cy, half_width, half_height, line)


def draw_wrinkles(draw, face, cx, cy, half_width, half_height, line) -> None:
    """Forehead lines and cheek folds, more of them with the age feature."""
    n_lines = int(np.clip((face.age_feature - 0.35) / 0.65, 0, 1) * 4 + 0.5)
    wrinkle = shade(face.skin, 0.6)
    for k in range(n_lines):
        y = cy - half_height * (0.28 + 0.1 * k)
        draw.line([cx - half_width * 0.45, y, cx + half_width * 0.45, y], fill=wrinkle, width=line)
    if n_lines >= 2:
        for side in (-1, 1):
            x = cx + side * half_width * 0.42
            draw.line(
                [x, cy + half_height * 0.3, x + side * half_width * 0.1, cy + half_height * 0.65],
                fill=wrinkle,
                width=line,
            )


def shade(color: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(int(channel * factor) for channel in color)


def finish_image(rng: np.random.Generator, canvas: Image.Image, image_size: int, brightness: float) -> Image.Image:
    """Downsample, apply the lighting and add a little pixel noise."""
    small = np.asarray(canvas.resize((image_size, image_size), Image.LANCZOS), dtype=np.float32)
    lit = small * brightness + 4.0 * rng.standard_normal(size=small.shape, dtype=np.float32)
    return Image.fromarray(np.clip(lit, 0, 255).astype(np.uint8))


def write_files(out_dir: Path, images: Iterable[Image.Image], labels: pd.DataFrame, jpeg_quality: int) -> None:
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    for image, file in zip(images, labels["file"]):
        image.save(out_dir / file, format="JPEG", quality=jpeg_quality)
    labels.to_csv(out_dir / "labels.csv", index=False)
