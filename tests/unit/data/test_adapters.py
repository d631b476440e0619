"""Every layout on a small real dataset (real JPEGs), damaged the ways real datasets are: a missing file, a corrupt
image, an unknown label, a mangled age bin, a malformed name, a row listed twice, a file name that is not UTF-8, a
symlink dangling or leading out. Each damaged row reaches rejects with its reason."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import SCHEMA
from PIL import Image
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from faceaudit.data.adapters import read_source
from faceaudit.data.manifest import build_manifest
from faceaudit.study import check_study

REPOSITORY = Path(__file__).resolve().parents[3]

SPLIT = {"val": 0.25, "test": 0.25, "seed": 0}
FAIRFACE_AGES = ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70"]


def write_jpeg(path: Path, value: int = 120, size: int = 40) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.full((size, size, 3), value, dtype=np.uint8)
    pixels[: size // 2, :, 0] = 255 - value
    Image.fromarray(pixels).save(path, format="JPEG", quality=90)
    return path.name


def corrupt(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:200])


def manifest_of(layout: str, root: Path, settings: dict, labels: dict, split: dict = SPLIT, **options):
    source = read_source(layout, root, settings, labels)
    manifest, rejects = build_manifest(source, root, labels, split, options.pop("max_reject_fraction", 0.5), **options)
    return source, manifest, rejects


def reasons_by_path(rejects: pd.DataFrame) -> dict:
    return dict(zip(rejects["path"], rejects["reason"]))


# fairface_csv ---------------------------------------------------------------------------------------------------

FAIRFACE_LABELS = {"age": FAIRFACE_AGES, "gender": ["Female", "Male"], "race": ["White", "Black", "Indian"]}
FAIRFACE_SETTINGS = {
    "label_files": {"train": "fairface_label_train.csv", "test": "fairface_label_val.csv"},
    "images": "",
}


@pytest.fixture
def fairface(tmp_path) -> Path:
    ages = ["20-29", "30-39", "9-Mar", "19-Oct", "3-9", "40-49", "19-Oct", "20-29", "50-59", "20-29", "30-39", "30-39"]
    rows = [
        {
            "file": f"train/{number}.jpg",
            "age": age,
            "gender": ["Female", "Male"][number % 2],
            "race": ["White", "Black", "Indian"][number % 3],
            "service_test": "True",
        }
        for number, age in enumerate(ages, start=1)
    ]
    for row in rows:
        write_jpeg(tmp_path / row["file"], value=10 * len(row["file"]))
    rows[4]["gender"] = "Unknown"
    (tmp_path / "train/6.jpg").unlink()
    corrupt(tmp_path / "train/8.jpg")
    pd.DataFrame(rows).to_csv(tmp_path / "fairface_label_train.csv", index=False)
    test_rows = [
        {
            "file": f"val/{n}.jpg",
            "age": "20-29",
            "gender": ["Female", "Male"][n % 2],
            "race": "White",
            "service_test": "False",
        }
        for n in range(1, 5)
    ]
    for row in test_rows:
        write_jpeg(tmp_path / row["file"])
    pd.DataFrame(test_rows).to_csv(tmp_path / "fairface_label_val.csv", index=False)
    return tmp_path


def test_fairface_maps_spreadsheet_dates_back_and_counts_them(fairface):
    source, manifest, _ = manifest_of("fairface_csv", fairface, FAIRFACE_SETTINGS, FAIRFACE_LABELS)

    assert source.attrs["repairs"] == [
        {"column": "age", "written": "9-Mar", "read_as": "3-9", "count": 1},
        {"column": "age", "written": "19-Oct", "read_as": "10-19", "count": 2},
    ]
    ages = dict(zip(manifest["path"], manifest["age"]))
    assert ages["train/3.jpg"] == "3-9"
    assert ages["train/4.jpg"] == "10-19" and ages["train/7.jpg"] == "10-19"


def test_fairface_rejects_unknown_label_missing_and_corrupt_images(fairface):
    _, manifest, rejects = manifest_of("fairface_csv", fairface, FAIRFACE_SETTINGS, FAIRFACE_LABELS)

    reasons = reasons_by_path(rejects)
    assert reasons["train/5.jpg"] == "unknown gender value 'Unknown' (known: Female, Male)"
    assert reasons["train/6.jpg"] == "file not found"
    assert reasons["train/8.jpg"].startswith("undecodable image:")
    assert len(manifest) + len(rejects) == 16
    assert list(manifest.columns) == ["path", "split", "age", "gender", "race"]


def test_fairface_val_file_is_the_test_split_and_val_is_carved_out_of_train(fairface):
    _, manifest, _ = manifest_of("fairface_csv", fairface, FAIRFACE_SETTINGS, FAIRFACE_LABELS)

    splits = manifest.groupby("split")["path"].apply(list)
    assert sorted(splits["test"]) == [f"val/{n}.jpg" for n in range(1, 5)]
    assert all(path.startswith("train/") for path in splits["train"] + splits["val"])
    assert 1 <= len(splits["val"]) <= 4


def add_label_rows(label_file: Path, rows: list[dict]) -> None:
    table = pd.read_csv(label_file, dtype=str, keep_default_na=False)
    pd.concat([table, pd.DataFrame(rows)], ignore_index=True).to_csv(label_file, index=False)


def row_of(label_file: Path, file: str) -> dict:
    table = pd.read_csv(label_file, dtype=str, keep_default_na=False)
    return table[table["file"] == file].iloc[0].to_dict()


def test_fairface_duplicate_rows_are_kept_once_and_contradictory_ones_refused(fairface):
    train, test = fairface / "fairface_label_train.csv", fairface / "fairface_label_val.csv"
    add_label_rows(train, [row_of(train, "train/1.jpg"), row_of(train, "train/2.jpg")])  # listed again, identical
    add_label_rows(train, [row_of(train, "train/9.jpg") | {"gender": "Female"}])  # 9 is Male
    add_label_rows(test, [row_of(train, "train/10.jpg") | {"service_test": "False"}])  # in train and in test

    source, manifest, rejects = manifest_of("fairface_csv", fairface, FAIRFACE_SETTINGS, FAIRFACE_LABELS)

    assert manifest["path"].is_unique  # every image in exactly one split
    assert manifest.set_index("path").loc[["train/1.jpg", "train/2.jpg"], "gender"].tolist() == ["Male", "Female"]
    assert manifest.attrs["repairs"][-1] == {
        "column": "path",
        "written": "listed again, same values",
        "read_as": "kept once",
        "count": 2,
    }
    refused = rejects[rejects["path"].isin(["train/9.jpg", "train/10.jpg"])]
    assert refused["path"].tolist() == ["train/9.jpg", "train/9.jpg", "train/10.jpg", "train/10.jpg"]  # all copies
    reasons = reasons_by_path(refused)
    assert reasons["train/9.jpg"] == "listed 2 times with different values: gender 'Male' vs 'Female'"
    assert reasons["train/10.jpg"] == "listed 2 times with different values: split 'train' vs 'test'"
    assert len(manifest) + len(rejects) == len(source) - 2


def test_fairface_paths_leading_out_of_the_dataset_folder_are_refused(fairface):
    outside = fairface.parent / f"{fairface.name}_outside"
    write_jpeg(outside / "secret.jpg")
    (fairface / "train/link.jpg").symlink_to(outside / "secret.jpg")
    row = row_of(fairface / "fairface_label_train.csv", "train/1.jpg")
    add_label_rows(
        fairface / "fairface_label_train.csv",
        [
            row | {"file": str(outside / "secret.jpg")},
            row | {"file": f"../{outside.name}/secret.jpg"},
            row | {"file": "train/link.jpg"},
            row | {"file": "train"},
        ],
    )

    _, manifest, rejects = manifest_of("fairface_csv", fairface, FAIRFACE_SETTINGS, FAIRFACE_LABELS)

    reasons = reasons_by_path(rejects)
    assert reasons[str(outside / "secret.jpg")] == "absolute path: paths must be relative to the dataset folder"
    assert reasons[f"../{outside.name}/secret.jpg"] == "path leads out of the dataset folder ('..')"
    assert reasons["train/link.jpg"] == f"symlink leading out of the dataset folder (to {outside / 'secret.jpg'})"
    assert reasons["train"] == "a folder, not an image file"
    assert not manifest["path"].str.contains("secret|link").any()


def test_a_dataset_folder_that_is_itself_a_symlink_is_fine(fairface):
    linked = fairface.parent / f"{fairface.name}_linked"
    linked.symlink_to(fairface, target_is_directory=True)

    _, manifest, rejects = manifest_of("fairface_csv", linked, FAIRFACE_SETTINGS, FAIRFACE_LABELS)

    assert len(manifest) == 13 and len(rejects) == 3


def test_fairface_missing_label_file_is_named(fairface):
    (fairface / "fairface_label_val.csv").unlink()

    with pytest.raises(
        FileNotFoundError, match="fairface_label_val.csv: FairFace label file of split 'test' is missing"
    ):
        read_source("fairface_csv", fairface, FAIRFACE_SETTINGS, FAIRFACE_LABELS)


# celeba_attributes ----------------------------------------------------------------------------------------------

CELEBA_SETTINGS = {
    "attributes_file": "list_attr_celeba.txt",
    "partition_file": "list_eval_partition.txt",
    "images": "img_align_celeba",
}
CELEBA_LABELS = {"Smiling": ["Not_smiling", "Smiling"], "Male": ["Female", "Male"]}


@pytest.fixture
def celeba(tmp_path) -> Path:
    names = [f"{number:06d}.jpg" for number in range(1, 13)]
    for number, name in enumerate(names):
        write_jpeg(tmp_path / "img_align_celeba" / name, value=20 * number)
    lines = [str(len(names)), "5_o_Clock_Shadow Male Smiling Young"]
    for number, name in enumerate(names):
        values = ["-1", "1" if number % 2 else "-1", "1" if number % 3 == 0 else "-1", "1"]
        lines.append(f"{name} " + "  ".join(f"{value:>2}" for value in values))
    lines[2 + 3] = "000004.jpg -1  1  0  1"  # not +1/-1
    lines[2 + 4] = "000005.jpg -1  1  1"  # a value short
    (tmp_path / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "img_align_celeba/000006.jpg").unlink()
    corrupt(tmp_path / "img_align_celeba/000007.jpg")
    partition = [f"{name} {number * 3 // len(names)}" for number, name in enumerate(names) if name != "000012.jpg"]
    (tmp_path / "list_eval_partition.txt").write_text("\n".join(partition) + "\n")
    return tmp_path


def test_celeba_maps_minus_one_to_the_first_class_and_keeps_the_official_partition(celeba):
    _, manifest, _ = manifest_of("celeba_attributes", celeba, CELEBA_SETTINGS, CELEBA_LABELS)

    rows = manifest.set_index("path")
    assert rows.loc["img_align_celeba/000001.jpg", ["Smiling", "Male", "split"]].tolist() == [
        "Smiling",
        "Female",
        "train",
    ]
    assert rows.loc["img_align_celeba/000002.jpg", ["Smiling", "Male"]].tolist() == ["Not_smiling", "Male"]
    assert rows.loc["img_align_celeba/000011.jpg", "split"] == "test"
    assert rows.loc["img_align_celeba/000008.jpg", "split"] == "val"


def test_celeba_damaged_rows_are_rejected_with_their_reasons(celeba):
    _, manifest, rejects = manifest_of("celeba_attributes", celeba, CELEBA_SETTINGS, CELEBA_LABELS)

    reasons = reasons_by_path(rejects)
    assert reasons == {
        "img_align_celeba/000004.jpg": "unknown Smiling value '0' (known: Not_smiling, Smiling)",
        "img_align_celeba/000005.jpg": "list_attr_celeba.txt line 7: 3 values for 4 attributes",
        "img_align_celeba/000006.jpg": "file not found",
        "img_align_celeba/000007.jpg": reasons["img_align_celeba/000007.jpg"],
        "img_align_celeba/000012.jpg": "not in list_eval_partition.txt",
    }
    assert reasons["img_align_celeba/000007.jpg"].startswith("undecodable image:")
    assert len(manifest) == 7


def test_celeba_label_that_is_not_an_attribute_is_named(celeba):
    with pytest.raises(ValueError, match=r"label 'Glasses' is not an attribute of .*list_attr_celeba.txt.*'Smiling'"):
        read_source("celeba_attributes", celeba, CELEBA_SETTINGS, {"Glasses": ["No", "Yes"]})


def test_celeba_without_partition_is_split_by_fractions(celeba):
    settings = CELEBA_SETTINGS | {"partition_file": None}

    _, manifest, rejects = manifest_of("celeba_attributes", celeba, settings, CELEBA_LABELS)

    assert len(rejects) == 4  # the row missing from the partition file is fine now
    assert set(manifest["split"]) <= {"train", "val", "test"} and "train" in set(manifest["split"])


def test_celeba_subset_size(celeba):
    _, manifest, rejects = manifest_of(
        "celeba_attributes", celeba, CELEBA_SETTINGS, CELEBA_LABELS, sample_size=6, max_reject_fraction=1
    )

    assert len(manifest) + len(rejects) == 6


# class_folders --------------------------------------------------------------------------------------------------

GENDER = {"gender": ["Female", "Male"]}


@pytest.fixture
def class_folders(tmp_path) -> Path:
    for split, count in (("train", 8), ("test", 3)):
        for gender in GENDER["gender"]:
            for number in range(count):
                write_jpeg(tmp_path / "faces" / split / gender / f"{number}.jpg", value=10 * number)
    write_jpeg(tmp_path / "faces/train/Other/0.jpg")
    (tmp_path / "faces/train/notes.txt").write_text("not an image\n")
    (tmp_path / "faces/train/Male/.DS_Store").write_bytes(b"\0")
    corrupt(tmp_path / "faces/train/Male/1.jpg")
    return tmp_path


def test_class_folders_with_split_folders(class_folders):
    _, manifest, rejects = manifest_of("class_folders", class_folders, {"images": "faces"}, GENDER)

    assert reasons_by_path(rejects) == {
        "faces/train/Other/0.jpg": "unknown gender value 'Other' (known: Female, Male)",
        "faces/train/notes.txt": "not inside a class folder of faces/train",
        "faces/train/Male/1.jpg": reasons_by_path(rejects)["faces/train/Male/1.jpg"],
    }
    assert reasons_by_path(rejects)["faces/train/Male/1.jpg"].startswith("undecodable image:")
    assert (manifest["gender"] == manifest["path"].str.split("/").str[2]).all()
    test_rows = manifest[manifest["split"] == "test"]
    assert sorted(test_rows["path"]) == sorted(f"faces/test/{g}/{n}.jpg" for g in GENDER["gender"] for n in range(3))
    assert (manifest["split"] == "val").sum() >= 2  # carved out of train, both classes
    assert set(manifest.loc[manifest["split"] == "val", "gender"]) == {"Female", "Male"}


def test_class_folders_without_split_folders_and_whole_dataset_as_test_set(class_folders):
    _, manifest, _ = manifest_of(
        "class_folders", class_folders, {"images": "faces/test"}, GENDER, split={"val": 0, "test": 1, "seed": 0}
    )

    assert len(manifest) == 6
    assert set(manifest["split"]) == {"test"}


def test_a_file_name_that_is_not_utf8_is_refused_and_the_rest_is_kept(class_folders):
    folder = os.fsencode(class_folders / "faces/train/Female")
    with open(os.path.join(folder, b"caf\xe9-latin1.jpg"), "wb") as image:  # Latin-1 bytes, not UTF-8
        image.write((class_folders / "faces/train/Female/0.jpg").read_bytes())

    _, manifest, rejects = manifest_of("class_folders", class_folders, {"images": "faces"}, GENDER)

    reasons = reasons_by_path(rejects)
    assert reasons["faces/train/Female/caf\\xe9-latin1.jpg"] == (
        "file name is not valid UTF-8: rename the file (or folder) to UTF-8"
    )
    assert len(manifest) == 2 * (8 + 3) - 1  # all but the corrupt image
    written = Path(class_folders / "rejects.csv")
    rejects.to_csv(written, index=False)  # what the workflow writes; it used to raise UnicodeEncodeError
    assert "faces/train/Female/caf\\xe9-latin1.jpg" in written.read_text(encoding="utf-8")


def test_symlinks_dangling_or_leading_out_are_refused_with_their_reason(class_folders):
    (class_folders / "faces/train/Male/gone.jpg").symlink_to(class_folders / "faces/train/Male/deleted.jpg")
    outside = class_folders.parent / f"{class_folders.name}_outside.jpg"
    write_jpeg(outside)
    (class_folders / "faces/train/Male/elsewhere.jpg").symlink_to(outside)
    (class_folders / "faces/train/Male/inside.jpg").symlink_to(class_folders / "faces/train/Male/0.jpg")

    _, manifest, rejects = manifest_of("class_folders", class_folders, {"images": "faces"}, GENDER)

    reasons = reasons_by_path(rejects)
    assert reasons["faces/train/Male/gone.jpg"] == (
        f"dangling symlink (points to {class_folders / 'faces/train/Male/deleted.jpg'}, which does not exist)"
    )
    assert reasons["faces/train/Male/elsewhere.jpg"] == f"symlink leading out of the dataset folder (to {outside})"
    assert "faces/train/Male/inside.jpg" in set(manifest["path"])


def test_class_folders_needs_exactly_one_label(class_folders):
    with pytest.raises(ValueError, match="layout 'class_folders' reads one label"):
        read_source("class_folders", class_folders, {"images": "faces"}, GENDER | {"age": ["young", "old"]})


# split_lists ----------------------------------------------------------------------------------------------------

PESTS = {"pest": ["rice leaf roller", "grub", "wireworm"]}
LISTS = {
    "lists": {"train": "train.txt", "val": "val.txt", "test": "test.txt"},
    "images": "images",
    "label_format": "index",
}


@pytest.fixture
def split_lists(tmp_path) -> Path:
    lines = {"train": [], "val": [], "test": []}
    for number in range(18):
        split = ["train", "train", "train", "train", "val", "test"][number % 6]
        write_jpeg(tmp_path / "images" / f"{number:05d}.jpg", value=12 * number)
        lines[split].append(f"{number:05d}.jpg {number % 3}")
    lines["train"] += ["00100.jpg 1", "00101.jpg -1", "just-a-path.jpg", ""]
    for split, content in lines.items():
        (tmp_path / f"{split}.txt").write_text("\n".join(content) + "\n")
    return tmp_path


def test_split_lists_map_indices_to_classes_and_keep_the_lists_splits(split_lists):
    _, manifest, rejects = manifest_of("split_lists", split_lists, LISTS, PESTS)

    assert reasons_by_path(rejects) == {
        "images/00100.jpg": "file not found",
        "images/00101.jpg": "unknown pest value '-1' (known: rice leaf roller, grub, wireworm)",
        "just-a-path.jpg": "train.txt line 15: expected 'path label'",
    }
    rows = manifest.set_index("path")
    assert rows.loc["images/00000.jpg", ["pest", "split"]].tolist() == ["rice leaf roller", "train"]
    assert rows.loc["images/00004.jpg", ["pest", "split"]].tolist() == ["grub", "val"]
    assert rows.loc["images/00005.jpg", ["pest", "split"]].tolist() == ["wireworm", "test"]
    assert manifest["split"].value_counts().to_dict() == {"train": 12, "val": 3, "test": 3}


def test_split_lists_refuse_a_class_list_shorter_than_the_codes(split_lists):
    subset = {"pest": ["rice leaf roller", "wireworm"]}  # code 1 (grub) would silently be called wireworm

    with pytest.raises(ValueError) as error:
        read_source("split_lists", split_lists, LISTS, subset)

    message = str(error.value)
    assert message.startswith("test.txt, train.txt: 6 line(s) give pest a code of 2 or more (up to 2)")
    assert "labels.pest lists 2 classes (codes 0 to 1)" in message and "keep_classes" in message


def test_split_lists_keep_a_subset_of_classes_as_a_declared_filter(split_lists):
    _, manifest, rejects = manifest_of(
        "split_lists", split_lists, LISTS, PESTS, keep_classes={"pest": ["rice leaf roller", "wireworm"]}
    )

    assert set(manifest["pest"]) == {"rice leaf roller", "wireworm"}
    assert manifest.set_index("path").loc["images/00002.jpg", "pest"] == "wireworm"
    not_kept = rejects[rejects["reason"] == "pest 'grub' is not kept (keep_classes)"]
    assert len(not_kept) == 7  # 00100.jpg too: a grub whose file is missing is not kept either
    assert len(manifest) + len(rejects) == 21


def test_split_lists_missing_list_is_named(split_lists):
    (split_lists / "val.txt").unlink()

    with pytest.raises(FileNotFoundError, match="val.txt: list of split 'val' is missing"):
        read_source("split_lists", split_lists, LISTS, PESTS)


# utkface_names --------------------------------------------------------------------------------------------------

UTK_LABELS = {"age": "numeric", "gender": ["Male", "Female"], "race": ["White", "Black", "Asian", "Indian", "Others"]}


@pytest.fixture
def utkface(tmp_path) -> Path:
    for number in range(20):
        age, gender, race = 1 + 4 * number, number % 2, number % 5
        write_jpeg(
            tmp_path / "UTKFace" / f"{age}_{gender}_{race}_2017011617452{number:04d}.jpg.chip.jpg", value=10 * number
        )
    write_jpeg(tmp_path / "UTKFace/39_1_20170116174525125.jpg.chip.jpg")  # no race: malformed
    write_jpeg(tmp_path / "UTKFace/30_0_7_20170116174525125.jpg.chip.jpg")  # race code 7 does not exist
    corrupt(tmp_path / "UTKFace/5_1_1_20170116174520001.jpg.chip.jpg")
    return tmp_path


def test_utkface_reads_labels_from_names_and_rejects_malformed_ones(utkface):
    _, manifest, rejects = manifest_of("utkface_names", utkface, {"images": "UTKFace"}, UTK_LABELS)

    reasons = reasons_by_path(rejects)
    assert (
        reasons["UTKFace/39_1_20170116174525125.jpg.chip.jpg"]
        == "file name does not follow age_gender_race_timestamp.jpg.chip.jpg"
    )
    assert reasons["UTKFace/30_0_7_20170116174525125.jpg.chip.jpg"].startswith("unknown race value '7'")
    assert reasons["UTKFace/5_1_1_20170116174520001.jpg.chip.jpg"].startswith("undecodable image:")
    assert len(manifest) == 19
    row = manifest.set_index("path").loc["UTKFace/9_0_2_20170116174520002.jpg.chip.jpg"]
    assert row[["age", "gender", "race"]].tolist() == ["9", "Male", "Asian"]


def utkface_config(**labels) -> dict:
    config = yaml.safe_load((REPOSITORY / "config/utkface.yaml").read_text())
    config["datasets"]["utkface"]["labels"].update(labels)
    return config


def test_the_schema_refuses_a_utkface_class_list_that_is_not_the_whole_code():
    validate(utkface_config(), SCHEMA, set_default=True)
    for label, classes, problem in (
        ("race", ["White", "Others"], "is too short"),
        ("gender", ["Male", "Female", "Other"], "is too long"),
    ):
        with pytest.raises(WorkflowError) as error:
            validate(utkface_config(**{label: classes}), SCHEMA, set_default=True)

        message = str(error.value)
        assert f"{classes} {problem}" in message
        assert f"['datasets']['utkface']['labels']['{label}']" in message
        assert f"UTKFace codes {label} 0" in message and "keep_classes" in message  # the description says what to do


def test_keep_classes_must_name_classes_of_a_label():
    config = utkface_config()
    validate(config, SCHEMA, set_default=True)
    for keep, expected in (
        ({"race": ["White", "Other"]}, r"datasets.utkface.keep_classes.race: \['Other'\] not among the classes"),
        ({"age": ["30"]}, "datasets.utkface.keep_classes.age: 'age' is not a label with classes"),
    ):
        config["datasets"]["utkface"]["keep_classes"] = keep
        with pytest.raises(ValueError, match=expected):
            check_study(config)


def test_utkface_keeps_a_declared_subset_of_races_with_the_right_names(utkface):
    labels = {"age": "numeric", "race": UTK_LABELS["race"]}

    _, manifest, rejects = manifest_of(
        "utkface_names",
        utkface,
        {"images": "UTKFace"},
        labels,
        keep_classes={"race": ["White", "Others"]},
        max_reject_fraction=0.25,  # the 12 rows not kept do not count; 2 of the 11 others are damaged
    )

    races = dict(zip(manifest["path"], manifest["race"]))
    assert races["UTKFace/17_0_4_20170116174520004.jpg.chip.jpg"] == "Others"  # code 4, not code 1
    assert races["UTKFace/1_0_0_20170116174520000.jpg.chip.jpg"] == "White"
    assert set(races.values()) == {"White", "Others"} and len(manifest) == 8
    reasons = reasons_by_path(rejects)
    assert reasons["UTKFace/5_1_1_20170116174520001.jpg.chip.jpg"] == "race 'Black' is not kept (keep_classes)"
    assert reasons["UTKFace/9_0_2_20170116174520002.jpg.chip.jpg"] == "race 'Asian' is not kept (keep_classes)"
    assert (rejects["reason"].str.endswith("(keep_classes)")).sum() == 12
    assert reasons["UTKFace/30_0_7_20170116174525125.jpg.chip.jpg"].startswith("unknown race value '7'")


def test_utkface_age_must_be_declared_numeric(utkface):
    with pytest.raises(ValueError, match="declare the label `age: numeric`"):
        read_source("utkface_names", utkface, {"images": "UTKFace"}, UTK_LABELS | {"age": ["young", "old"]})


# numeric labels and sampling, any layout -------------------------------------------------------------------------


@pytest.fixture
def one_image(tmp_path) -> Path:
    write_jpeg(tmp_path / "face.jpg")
    return tmp_path


def test_numeric_label_must_be_a_finite_number(one_image):
    for number in range(5):
        os.link(one_image / "face.jpg", one_image / f"{number}.jpg")
    source = pd.DataFrame(
        {"path": [f"{n}.jpg" for n in range(5)], "age": ["31", "2.5", "abc", "inf", ""], "gender": ["Male"] * 5}
    )

    manifest, rejects = build_manifest(source, one_image, {"age": "numeric", "gender": ["Female", "Male"]}, SPLIT, 1.0)

    assert manifest["age"].tolist() == ["31", "2.5"]
    assert rejects["reason"].tolist() == [
        "age value 'abc' is not a number",
        "age value 'inf' is not a number",
        "missing value for label 'age'",
    ]


def test_sample_fraction_is_seeded_and_stratified(one_image):
    for number in range(200):
        os.link(one_image / "face.jpg", one_image / f"{number}.jpg")
    source = pd.DataFrame(
        {"path": [f"{number}.jpg" for number in range(200)], "gender": ["Female"] * 150 + ["Male"] * 50}
    )

    def sample(fraction=1.0, size=None, seed=0):
        manifest, _ = build_manifest(
            source, one_image, GENDER, SPLIT | {"seed": seed}, 0.0, sample_fraction=fraction, sample_size=size
        )
        return manifest

    assert sample(0.2)["gender"].value_counts().to_dict() == {"Female": 30, "Male": 10}
    assert sample(0.2)["path"].tolist() == sample(0.2)["path"].tolist()
    assert sample(0.2)["path"].tolist() != sample(0.2, seed=1)["path"].tolist()
    assert len(sample(size=25)) == 25
    assert len(sample(0.5, size=1000)) == 100
    assert len(sample()) == 200
