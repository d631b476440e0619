"""Read the output of the FairFace authors' predict.py (github.com/dchen236/FairFace) as a generic prediction table.

predict.py detects faces with dlib, saves each as `<dir>/<name>_face<k>.<ext>` (name: the image's file name up to its
first dot, k: the detection's index) and writes one row per face: `face_name_align`, the labels `race`, `race4`,
`gender`, `age`, and the softmax scores `race_scores_fair`, `race_scores_fair_4`, `gender_scores_fair`,
`age_scores_fair` as numpy arrays printed by pandas ("[1.2e-01 3.4e-01 ...]", possibly over several lines).
Scores are put in the dataset's class order by class name, so a config listing classes in another order still works.
"""

import re
from pathlib import Path, PurePosixPath

import pandas as pd

from faceaudit.labels import is_numeric

# predict.py's class orders (its assign_labels): the index of a score is the class at that position.
FAIRFACE_OUTPUTS = {
    "race": ["White", "Black", "Latino_Hispanic", "East Asian", "Southeast Asian", "Indian", "Middle Eastern"],
    "race4": ["White", "Black", "Asian", "Indian"],
    "gender": ["Male", "Female"],
    "age": ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70+"],
}
SCORE_COLUMNS = {
    "race": "race_scores_fair",
    "race4": "race_scores_fair_4",
    "gender": "gender_scores_fair",
    "age": "age_scores_fair",
}
# The class indices predict.py computes before naming them (an older predict.py, or a table saved before its
# assign_labels, may hold these instead of the names).
INDEX_COLUMNS = {
    "race": "race_preds_fair",
    "race4": "race_preds_fair_4",
    "gender": "gender_preds_fair",
    "age": "age_preds_fair",
}
# predict.py names the oldest age bin "70+"; FairFace's own label files name it "more than 70".
CLASS_ALIASES = {"70+": "more than 70"}
FACE_NAME = re.compile(r"^(?P<name>.*)_face(?P<face>\d+)\.(?P<extension>[^.]*)$")
ID_COLUMN = "file"
REJECT_COLUMN = "fairface_reject_reason"
LEFT_OUT_COLUMN = "fairface_left_out_reason"


def read_fairface_predictions(path: Path, targets: dict) -> tuple[pd.DataFrame, dict]:
    """(table, settings) for the importer: an id column with the original image's file name (matched by file name
    within one split), and per target a predicted column and, where the target's classes are FairFace's, one score
    column per class in the target's order. Faces other than face0 of an image are left out on purpose."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    outputs = {target: fairface_output(target, classes) for target, classes in targets.items()}
    needed = ["face_name_align", *(label_column(raw, name) for name in outputs.values())]
    needed += [SCORE_COLUMNS[name] for target, name in outputs.items() if has_scores(name, targets[target])]
    missing = [column for column in dict.fromkeys(needed) if column not in raw.columns]
    if missing:
        raise ValueError(f"{path}: no column {missing} of FairFace's predict.py output; it has {list(raw.columns)}")
    faces = [parse_face_name(name) for name in raw["face_name_align"]]
    table = pd.DataFrame({ID_COLUMN: [face[0] for face in faces], LEFT_OUT_COLUMN: [face[1] for face in faces]})
    table[REJECT_COLUMN] = [face[2] for face in faces]
    columns = {}
    for target, name in outputs.items():
        columns[target] = add_target_columns(table, raw, target, name, targets[target])
    settings = {
        "id_column": ID_COLUMN,
        "match": "file_name",
        "columns": columns,
        "reject_column": REJECT_COLUMN,
        "left_out_column": LEFT_OUT_COLUMN,
    }
    return table, settings


def fairface_output(target: str, classes) -> str:
    """Which of predict.py's outputs predicts `target`: the one with the target's classes, else the one named like
    the target (its labels then need a label map)."""
    if is_numeric(classes):
        raise ValueError(f"FairFace's predict.py predicts age bins, not numbers: target '{target}' is numeric")
    for name, fairface_classes in FAIRFACE_OUTPUTS.items():
        if sorted(dataset_names(fairface_classes, classes)) == sorted(classes):
            return name
    if target in FAIRFACE_OUTPUTS:
        return target
    raise ValueError(
        f"target '{target}' (classes: {', '.join(classes)}) is none of FairFace predict.py's outputs "
        f"{ {name: classes for name, classes in FAIRFACE_OUTPUTS.items()} }: name it race, gender or age"
    )


def dataset_names(fairface_classes: list[str], classes: list[str]) -> list[str]:
    """predict.py's class names as the dataset spells them (an alias only where the dataset uses it)."""
    return [
        CLASS_ALIASES[name] if name not in classes and CLASS_ALIASES.get(name) in classes else name
        for name in fairface_classes
    ]


def has_scores(name: str, classes: list[str]) -> bool:
    return sorted(dataset_names(FAIRFACE_OUTPUTS[name], classes)) == sorted(classes)


def parse_face_name(face_name: str) -> tuple[str, str, str]:
    """(original file name, left-out reason, reject reason) of one detected face's file."""
    match = FACE_NAME.match(PurePosixPath(face_name.replace("\\", "/")).name)
    if match is None:
        return "", "", f"face_name_align '{face_name}' is not <name>_face<k>.<ext> as predict.py writes it"
    file_name = f"{match['name']}.{match['extension']}"
    face = int(match["face"])
    if face > 0:
        return file_name, f"face {face} of an image where several faces were detected; only face0 is audited", ""
    return file_name, "", ""


def add_target_columns(table: pd.DataFrame, raw: pd.DataFrame, target: str, name: str, classes: list[str]) -> dict:
    """Add the target's predicted labels (and scores in the target's class order); return its `columns` entry."""
    fairface_classes = dataset_names(FAIRFACE_OUTPUTS[name], classes)
    renamed = dict(zip(FAIRFACE_OUTPUTS[name], fairface_classes))
    table[f"{target}_pred"] = [renamed.get(label, label) for label in predicted_labels(raw, name)]
    if not has_scores(name, classes):
        return {"predicted": f"{target}_pred", "scores": None}
    column = SCORE_COLUMNS[name]
    parsed = [parse_score_array(text, len(fairface_classes), column) for text in raw[column]]
    reasons = [problem for _, problem in parsed]
    table[REJECT_COLUMN] = [earlier or later for earlier, later in zip(table[REJECT_COLUMN], reasons)]
    score_columns = []
    for class_index, class_name in enumerate(classes):
        position = fairface_classes.index(class_name)
        score_columns.append(f"{target}_score_{class_index}")
        table[score_columns[-1]] = [values[position] if values else "" for values, _ in parsed]
    return {"predicted": f"{target}_pred", "scores": score_columns}


def label_column(raw: pd.DataFrame, name: str) -> str:
    """predict.py's label column (`race`), or, in a table that kept the class indices instead, their column."""
    return name if name in raw.columns or INDEX_COLUMNS[name] not in raw.columns else INDEX_COLUMNS[name]


def predicted_labels(raw: pd.DataFrame, name: str) -> list[str]:
    """The predicted class names; class indices (`race_preds_fair`: 0 White, ...) read in predict.py's order (an
    index out of range stays as it is, and the importer rejects it as no class)."""
    column = label_column(raw, name)
    if column == name:
        return list(raw[name])
    classes = FAIRFACE_OUTPUTS[name]
    return [classes[int(text)] if text.isdigit() and int(text) < len(classes) else text for text in raw[column]]


def parse_score_array(text: str, count: int, column: str) -> tuple[list[str] | None, str]:
    """The numbers of a numpy array as pandas printed it ("[a b c]", maybe over several lines), as text."""
    inner = text.strip()
    if not (inner.startswith("[") and inner.endswith("]")):
        return None, f"{column} is not a printed array '[...]' (got '{text}')"
    numbers = inner[1:-1].split()
    if len(numbers) != count:
        return None, f"{column} holds {len(numbers)} numbers, expected {count} (got '{text}')"
    if not all(is_number(number) for number in numbers):
        return None, f"{column} holds something that is not a number (got '{text}')"
    return numbers, ""


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
