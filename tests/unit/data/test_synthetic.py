"""Tests for the synthetic face generator: real files on disk, reproducibility, label semantics, learnable signal."""

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SCHEMA
from PIL import Image
from sklearn.linear_model import LogisticRegression

from faceaudit.data.synthetic import generate_synthetic_dataset
from faceaudit.study.validation import ConfigError, validate_config

GENDERS = ["Female", "Male"]
AGES = ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70"]
TWO_GROUPS = [{"name": "A", "share": 0.5, "label_noise": 0.0}, {"name": "B", "share": 0.5, "label_noise": 0.0}]
# The default study's groups (config/config.yaml).
STUDY_GROUPS = [
    {"name": "A", "share": 0.5, "label_noise": 0.0},
    {"name": "B", "share": 0.3, "label_noise": 0.0},
    {"name": "C", "share": 0.2, "label_noise": 0.1},
]


def generate(out_dir: Path, **overrides) -> pd.DataFrame:
    arguments = dict(
        n_images=20,
        image_size=32,
        seed=7,
        signal=0.9,
        groups=TWO_GROUPS,
        gender_classes=GENDERS,
        age_classes=AGES,
    )
    arguments.update(overrides)
    return generate_synthetic_dataset(out_dir, **arguments)


def gray_pixels(out_dir: Path, labels: pd.DataFrame, size: int = 16) -> np.ndarray:
    return np.stack(
        [
            np.asarray(Image.open(out_dir / file).convert("L").resize((size, size), Image.LANCZOS), dtype=float).ravel()
            / 255
            for file in labels["file"]
        ]
    )


def held_out_accuracy(features: np.ndarray, target: np.ndarray, n_train: int) -> float:
    model = LogisticRegression(max_iter=2000).fit(features[:n_train], target[:n_train])
    return model.score(features[n_train:], target[n_train:])


def test_writes_real_jpegs_and_labels_csv(tmp_path):
    labels = generate(tmp_path, n_images=12, image_size=48)

    assert list(labels.columns) == ["file", "gender", "age", "age_years", "group", "drawn_gender", "drawn_age"]
    # Whole years inside the recorded bin: bin i of n covers [80 i / n, 80 (i + 1) / n).
    bins = labels["age"].map({age: index for index, age in enumerate(AGES)})
    years = labels["age_years"].astype(int)
    assert ((years >= bins * 80 / len(AGES) - 1) & (years < (bins + 1) * 80 / len(AGES))).all()
    on_disk = pd.read_csv(tmp_path / "labels.csv", keep_default_na=False, dtype=str)
    assert list(on_disk.columns) == list(labels.columns)
    pd.testing.assert_frame_equal(on_disk, labels.astype(str))
    assert labels["file"].tolist() == [f"images/{number:05d}.jpg" for number in range(12)]
    for file in labels["file"]:
        with Image.open(tmp_path / file) as image:
            assert image.format == "JPEG"
            assert image.size == (48, 48)
            assert image.mode == "RGB"
    assert set(labels["gender"]) | set(labels["drawn_gender"]) <= set(GENDERS)
    assert set(labels["age"]) | set(labels["drawn_age"]) <= set(AGES)
    assert set(labels["group"]) <= {"A", "B"}


def test_same_seed_gives_identical_files_and_other_seed_differs(tmp_path):
    first, second, other = tmp_path / "first", tmp_path / "second", tmp_path / "other"
    labels = generate(first, seed=3)
    generate(second, seed=3)
    generate(other, seed=4)

    assert (first / "labels.csv").read_bytes() == (second / "labels.csv").read_bytes()
    for file in labels["file"]:
        assert (first / file).read_bytes() == (second / file).read_bytes()
    assert (first / "labels.csv").read_bytes() != (other / "labels.csv").read_bytes()
    assert all((first / file).read_bytes() != (other / file).read_bytes() for file in labels["file"])


def test_group_shares_are_honoured(tmp_path):
    groups = [
        {"name": "A", "share": 6, "label_noise": 0.0},
        {"name": "B", "share": 3, "label_noise": 0.0},
        {"name": "C", "share": 1, "label_noise": 0.0},
    ]
    labels = generate(tmp_path, n_images=2000, image_size=16, groups=groups)

    observed = labels["group"].value_counts(normalize=True)
    assert observed["A"] == pytest.approx(0.6, abs=0.035)
    assert observed["B"] == pytest.approx(0.3, abs=0.035)
    assert observed["C"] == pytest.approx(0.1, abs=0.025)


def test_zero_share_group_never_appears(tmp_path):
    groups = [{"name": "A", "share": 1.0, "label_noise": 0.0}, {"name": "Empty", "share": 0.0, "label_noise": 0.0}]
    labels = generate(tmp_path, n_images=200, image_size=16, groups=groups)

    assert set(labels["group"]) == {"A"}


def test_true_labels_are_uniform_and_independent_of_group(tmp_path):
    labels = generate(tmp_path, n_images=2000, image_size=16)

    for _, members in labels.groupby("group"):
        assert (members["drawn_gender"] == "Female").mean() == pytest.approx(0.5, abs=0.05)
        assert members["drawn_age"].value_counts(normalize=True).reindex(AGES).to_numpy() == pytest.approx(
            np.full(len(AGES), 1 / len(AGES)), abs=0.04
        )


def test_label_noise_is_applied_per_group(tmp_path):
    groups = [{"name": "Noisy", "share": 0.5, "label_noise": 0.3}, {"name": "Clean", "share": 0.5, "label_noise": 0.0}]
    labels = generate(tmp_path, n_images=2000, image_size=16, groups=groups)

    noisy = labels[labels["group"] == "Noisy"]
    clean = labels[labels["group"] == "Clean"]
    assert (noisy["gender"] != noisy["drawn_gender"]).mean() == pytest.approx(0.3, abs=0.05)
    assert (noisy["age"] != noisy["drawn_age"]).mean() == pytest.approx(0.3, abs=0.05)
    assert (clean["gender"] == clean["drawn_gender"]).all()
    assert (clean["age"] == clean["drawn_age"]).all()
    # Wrong age labels are spread over the other bins rather than piled onto one neighbour.
    moved = noisy[noisy["age"] != noisy["drawn_age"]]
    assert moved["age"].nunique() == len(AGES)


def test_missing_label_noise_means_clean_labels(tmp_path):
    labels = generate(tmp_path, n_images=200, image_size=16, groups=[{"name": "A", "share": 1.0}])

    assert (labels["gender"] == labels["drawn_gender"]).all()
    assert (labels["age"] == labels["drawn_age"]).all()


def test_full_signal_makes_gender_and_age_learnable_from_pixels(tmp_path):
    labels = generate(tmp_path, n_images=600, signal=1.0)
    pixels = gray_pixels(tmp_path, labels)

    assert held_out_accuracy(pixels, labels["gender"].to_numpy(), n_train=400) > 0.85
    # Nine age bins: chance is about 0.11.
    assert held_out_accuracy(pixels, labels["age"].to_numpy(), n_train=400) > 0.3


def test_zero_signal_leaves_labels_unpredictable(tmp_path):
    labels = generate(tmp_path, n_images=600, signal=0.0)
    pixels = gray_pixels(tmp_path, labels)

    assert held_out_accuracy(pixels, labels["gender"].to_numpy(), n_train=400) < 0.65
    assert held_out_accuracy(pixels, labels["age"].to_numpy(), n_train=400) < 0.25


def test_long_hair_darkens_the_sides_of_the_first_gender_class(tmp_path):
    labels = generate(tmp_path, n_images=300, signal=1.0)
    pixels = gray_pixels(tmp_path, labels, size=32).reshape(-1, 32, 32)
    # Beside the lower face: hair for long hair, background otherwise (backgrounds are lighter than young hair).
    young = labels["drawn_age"].isin(AGES[:5]).to_numpy()
    side_brightness = pixels[:, 14:22, [7, 8, 23, 24]].mean(axis=(1, 2))
    female = (labels["drawn_gender"] == "Female").to_numpy()

    assert side_brightness[female & young].mean() < side_brightness[~female & young].mean() - 0.15


def test_group_signal_overrides_dataset_signal(tmp_path):
    groups = [
        {"name": "Strong", "share": 0.5, "label_noise": 0.0, "signal": 1.0},
        {"name": "Weak", "share": 0.5, "label_noise": 0.0, "signal": 0.0},
    ]
    labels = generate(tmp_path, n_images=900, signal=0.5, groups=groups)
    pixels = gray_pixels(tmp_path, labels)

    for name, check in [("Strong", lambda accuracy: accuracy > 0.85), ("Weak", lambda accuracy: accuracy < 0.65)]:
        members = (labels["group"] == name).to_numpy()
        accuracy = held_out_accuracy(pixels[members], labels["gender"].to_numpy()[members], n_train=300)
        assert check(accuracy), (name, accuracy)


def test_skin_tone_follows_group_index(tmp_path):
    groups = [{"name": "Light", "share": 0.5, "label_noise": 0.0}, {"name": "Dark", "share": 0.5, "label_noise": 0.0}]
    labels = generate(tmp_path, n_images=200, groups=groups)
    pixels = gray_pixels(tmp_path, labels, size=32).reshape(-1, 32, 32)
    cheeks = pixels[:, 16:19, [10, 11, 20, 21]].mean(axis=(1, 2))
    light = (labels["group"] == "Light").to_numpy()

    assert cheeks[light].mean() > cheeks[~light].mean() + 0.2


def test_settings_without_intersection_noise_draw_the_same_bytes_as_before_it_existed(tmp_path):
    # sha256 of what the generator wrote before `label_noise_by_gender` was added (computed then, with this Pillow).
    labels = generate(tmp_path, n_images=40, image_size=32, seed=7, groups=STUDY_GROUPS)

    assert sha256(tmp_path / "labels.csv") == "e55692fdce31effff3b775b2d8defd0f9b41d9cc57421c8ad3895a52373ffb47"
    assert sha256(tmp_path / "images/00000.jpg") == "f02adbca7f8cdbd2b9b1a26eb1fa0efc941909b06055a56aae62d7286bc896e6"
    assert sha256(tmp_path / "images/00039.jpg") == "e3324a6075b43f46fea3349ea93743e6382cbfbd53e64edcb12f412b375de82b"
    every_image = hashlib.sha256(b"".join((tmp_path / file).read_bytes() for file in labels["file"])).hexdigest()
    assert every_image == "30a650f600211c1126e5e052f0598163f9cf356c1bf75e6dd4145d5e30643ca8"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_label_noise_by_gender_makes_one_intersection_noisy_alone(tmp_path):
    groups = [
        {"name": "A", "share": 1, "label_noise": 0.0},
        {"name": "C", "share": 1, "label_noise": 0.05, "label_noise_by_gender": {"Female": 0.4}},
    ]
    labels = generate(tmp_path, n_images=3000, image_size=8, groups=groups)

    wrong = (labels["gender"] != labels["drawn_gender"]) | (labels["age"] != labels["drawn_age"])
    rate = wrong.groupby([labels["group"], labels["drawn_gender"]]).mean()
    # Either label wrong: 1 - (1 - noise)^2.
    assert rate["C", "Female"] == pytest.approx(1 - 0.6**2, abs=0.05)
    assert rate["C", "Male"] == pytest.approx(1 - 0.95**2, abs=0.03)
    assert rate["A", "Female"] == 0
    assert rate["A", "Male"] == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"groups": [{"name": "A", "share": 1.0}, {"name": "Minus", "share": -0.5}]}, "'Minus'"),
        ({"groups": [{"name": "A", "share": 0.0}, {"name": "B", "share": 0.0}]}, "all zero"),
        ({"groups": [{"name": "A", "share": 1.0}, {"name": "A", "share": 1.0}]}, "repeated: ['A']"),
        ({"groups": [{"name": "Loud", "share": 1.0, "label_noise": 1.5}]}, "label_noise of group 'Loud'"),
        ({"groups": [{"name": "Odd", "share": 1.0, "signal": -0.1}]}, "signal of group 'Odd'"),
        ({"signal": 1.2}, "signal must be in [0, 1], got 1.2"),
        ({"gender_classes": ["F", "M", "X"]}, "['F', 'M', 'X']"),
        ({"age_classes": ["adult"]}, "['adult']"),
        (
            {"groups": [{"name": "C", "share": 1.0, "label_noise_by_gender": {"female": 0.3}}]},
            "group 'C' names 'female', which is not a gender class; the classes are ['Female', 'Male']",
        ),
        (
            {"groups": [{"name": "C", "share": 1.0, "label_noise_by_gender": {"Male": 1.3}}]},
            "label_noise_by_gender['Male'] of group 'C' must be in [0, 1], got 1.3",
        ),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_value(tmp_path, overrides, message):
    with pytest.raises(ValueError) as raised:
        generate(tmp_path, **overrides)

    assert message in str(raised.value)
    assert not (tmp_path / "labels.csv").exists()


def test_configured_skin_tone_overrides_the_spacing(tmp_path):
    groups = [{"name": "A", "share": 1, "skin_tone": 1.0}, {"name": "B", "share": 1, "skin_tone": 1.0}]
    labels = generate_synthetic_dataset(
        tmp_path,
        n_images=40,
        image_size=32,
        seed=2,
        signal=0.9,
        groups=groups,
        gender_classes=["Female", "Male"],
        age_classes=["young", "old"],
    )
    assert set(labels["group"]) == {"A", "B"}
    with pytest.raises(ValueError, match="skin_tone of group 'A'"):
        generate_synthetic_dataset(
            tmp_path,
            n_images=4,
            image_size=32,
            seed=2,
            signal=0.9,
            groups=[{"name": "A", "share": 1, "skin_tone": 2}],
            gender_classes=["Female", "Male"],
            age_classes=["young", "old"],
        )


def test_the_study_config_takes_label_noise_by_gender_on_a_group():
    schema = SCHEMA
    groups = [{"name": "A", "share": 1}, {"name": "C", "share": 1, "label_noise_by_gender": {"Female": 0.3}}]
    config = {
        "datasets": {"faces": {"layout": "synthetic", "synthetic": {"groups": groups}, "labels": {"gender": GENDERS}}},
        "experiments": {"gender_mlp": {"dataset": "faces", "targets": ["gender"], "model": "mlp"}},
    }
    validate_config(config, schema)
    assert config["datasets"]["faces"]["synthetic"]["groups"][1]["label_noise_by_gender"] == {"Female": 0.3}

    groups[1]["label_noise_by_gender"] = {"Female": 1.5}
    with pytest.raises(ConfigError, match="label_noise_by_gender"):
        validate_config(config, schema)
