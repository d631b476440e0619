"""Class names are the datasets' own words (FairFace's "Latino_Hispanic", "more than 70", IP102's pest names), so
they may hold spaces, commas, quotes and other punctuation: every CSV the workflow writes quotes them. Refused are
only names that the code cannot carry back: empty ones, control characters, and names that reading a CSV turns
into something else (a number, a boolean, a missing value), which then match no class. Names that identify things
(datasets, experiments, labels) follow the schema's patterns instead."""

import io
import unicodedata

import pandas as pd

from faceaudit.labels import NUMERIC

CLASS_NAME_RULE = (
    "class names may hold spaces, commas, quotes and other punctuation, but must not be empty, hold control "
    "characters (tab, newline) or read as a number, boolean or missing value ('1', '2.5', 'True', 'NA', 'null')"
)


def check_class_names(name: str, dataset: dict) -> None:
    """Raise ValueError naming the label and the class whose name the workflow could not carry through its files."""
    for label, classes in dataset["labels"].items():
        if classes == NUMERIC:
            continue
        for class_name in classes:
            problem = class_name_problem(class_name)
            if problem:
                raise ValueError(
                    f"datasets.{name}.labels.{label}: class {class_name!r} {problem}; {CLASS_NAME_RULE}. "
                    "Name it in words, e.g. 'class 1' or 'unknown'"
                )


def class_name_problem(class_name: str) -> str | None:
    if not class_name.strip():
        return "is empty"
    if any(unicodedata.category(character) == "Cc" for character in class_name):
        return "holds a control character"
    if read_back_from_csv(class_name) != class_name:
        return "comes back from a CSV column as a number, boolean or missing value, not as this text"
    return None


def read_back_from_csv(class_name: str):
    """What pandas' CSV reader, as the evaluation reads the predictions, makes of a column holding this name."""
    text = pd.DataFrame({"class": [class_name]}).to_csv(index=False)
    return pd.read_csv(io.StringIO(text))["class"].iloc[0]
