"""Import a prediction file made elsewhere as a faceaudit predictions table, checked row by row against a split.

Every file row is matched to one image of the split, or rejected with its reason; rows that a label map (or an
adapter) leaves out on purpose are counted, not rejected; split images with no prediction are listed too. Truths and
sensitive attributes come from the split's rows (the dataset), never from the file. Too many rejects, or too many
images without a prediction (an audit of a subset someone else chose is biased), stop the import with an error.
"""

import hashlib
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from faceaudit.data.manifest import TooManyRejectsError
from faceaudit.external.fairface_predict import read_fairface_predictions
from faceaudit.label_maps import LabelMapResult, map_labels
from faceaudit.labels import is_numeric

DEFAULT_SETTINGS = {
    "format": "faceaudit",
    "id_column": "path",
    "match": "path",
    "columns": {},
    "label_map": {},
    "max_reject_fraction": 0.05,
    "config_key": "imported",  # where these settings sit in the config, for messages
    # Set by format adapters, not by the config: columns whose non-empty text rejects a row, or leaves it out on
    # purpose, with that text as the reason.
    "reject_column": None,
    "left_out_column": None,
}
FORMATS = ("faceaudit", "fairface")
MATCHES = ("path", "file_name", "stem")
SCORE_SUM_TOLERANCE = 1e-3
REJECT_COLUMNS = ["source", "row", "id", "reason"]


@dataclass
class ImportedPredictions:
    predictions: pd.DataFrame  # the predictions table, rows in the split's order
    rejects: pd.DataFrame  # source ("file" or "split"), row (1-based data row of the file, "" for split), id, reason
    left_out: pd.DataFrame  # file rows left out on purpose, same columns as rejects; not counted as rejects
    summary: dict


@dataclass
class TargetSource:
    predicted: str | None  # column of predicted labels (or numbers)
    scores: list[str] | None  # columns of class scores, in the target's class order


class RowStatus:
    """The first reason each file row is rejected or left out for ("" while the row is fine)."""

    def __init__(self, index: pd.Index):
        self.reasons = pd.Series("", index=index, dtype=object)
        self.left_out = pd.Series(False, index=index, dtype=bool)

    def add(self, reasons: pd.Series, left_out: bool = False) -> None:
        new = (self.reasons == "") & (reasons != "")
        self.reasons[new] = reasons[new]
        self.left_out[new] = left_out

    def accepted(self) -> pd.Series:
        return self.reasons == ""

    def rejected(self) -> pd.Series:
        return (self.reasons != "") & ~self.left_out


def import_predictions(
    file: Path,
    rows: pd.DataFrame,
    settings: dict,
    targets: dict,
    carried_labels: list[str],
    split_name: str,
) -> ImportedPredictions:
    """Read `file` and check every row against the split's `rows`; return the table, its rejects and a summary."""
    file = Path(file)
    settings = DEFAULT_SETTINGS | {key: value for key, value in settings.items() if value is not None}
    check_settings(settings)
    require_columns(rows, ["path", *targets, *carried_labels], f"the rows of the {split_name} split")
    table, settings = read_prediction_table(file, settings, targets)
    sources = {target: target_source(table, target, classes, settings, file) for target, classes in targets.items()}
    status = RowStatus(table.index)
    for column in ("left_out_column", "reject_column"):
        if settings[column]:
            status.add(table[settings[column]], left_out=column == "left_out_column")
    matched = match_rows(table, rows, settings, split_name, status)
    predicted, scores = read_targets(table, targets, sources, settings, status)
    accepted = status.accepted().to_numpy()
    predictions = predictions_table(rows, matched[accepted], predicted, scores, accepted, targets, carried_labels)
    rejects, left_out = rejects_tables(table, rows, settings, status, matched, file)
    summary = import_summary(file, table, predictions, rejects, left_out, targets, sources)
    check_fractions(summary, rejects, len(rows), settings, split_name)
    return ImportedPredictions(predictions, rejects, left_out, summary)


def check_settings(settings: dict) -> None:
    for name, allowed in (("format", FORMATS), ("match", MATCHES)):
        if settings[name] not in allowed:
            raise ValueError(f"{settings['config_key']}.{name} is '{settings[name]}'; expected one of {list(allowed)}")


def read_prediction_table(file: Path, settings: dict, targets: dict) -> tuple[pd.DataFrame, dict]:
    """The file as text, one row per data row in file order; a format adapter's settings override the config's."""
    if settings["format"] == "fairface":
        table, adapter_settings = read_fairface_predictions(file, targets)
        settings = settings | adapter_settings
    else:
        table = pd.read_csv(file, dtype=str, keep_default_na=False)
    table = table.reset_index(drop=True)
    require_columns(table, [settings["id_column"]], str(file), f"{settings['config_key']}.id_column")
    return table, settings


def require_columns(table: pd.DataFrame, columns: list[str], where: str, what: str = "") -> None:
    missing = [column for column in columns if column not in table.columns]
    if missing:
        named = f" (named by {what})" if what else ""
        raise ValueError(f"{where}: no column {missing}{named}; it has columns {list(table.columns)}")


def target_source(table: pd.DataFrame, target: str, classes, settings: dict, file: Path) -> TargetSource:
    """Which columns hold the target's predicted labels and scores: as `columns` names them, else faceaudit's names."""
    key = f"{settings['config_key']}.columns.{target}"
    given = settings["columns"].get(target)
    if given is None:
        predicted = f"{target}_pred" if f"{target}_pred" in table.columns else None
        score_columns = [f"{target}_score_{index}" for index in range(0 if is_numeric(classes) else len(classes))]
        has_scores = bool(score_columns) and all(column in table.columns for column in score_columns)
        source = TargetSource(predicted, score_columns if has_scores else None)
        if source.predicted is None and source.scores is None:
            require_columns(table, [f"{target}_pred"], str(file), f"the default columns of target '{target}'")
        return source
    source = TargetSource(given.get("predicted"), given.get("scores") or None)
    check_target_source(source, classes, key)
    require_columns(table, [column for column in [source.predicted, *(source.scores or [])] if column], str(file), key)
    return source


def check_target_source(source: TargetSource, classes, key: str) -> None:
    if source.predicted is None and not source.scores:
        raise ValueError(f"{key} names neither a predicted column nor score columns")
    if source.scores and is_numeric(classes):
        raise ValueError(f"{key}: the target is numeric, so it has no class scores")
    if source.scores and len(source.scores) != len(classes):
        raise ValueError(
            f"{key}: {len(source.scores)} score columns for {len(classes)} classes ({', '.join(classes)}); "
            "give one column per class, in the target's class order"
        )


def match_key(path: str, match: str) -> str:
    if match == "path":
        return path
    name = PurePosixPath(path.replace("\\", "/")).name
    return name if match == "file_name" else PurePosixPath(name).stem


def match_rows(
    table: pd.DataFrame, rows: pd.DataFrame, settings: dict, split_name: str, status: RowStatus
) -> np.ndarray:
    """The split row (position) each file row names, -1 where none; id problems and later copies go to `status`."""
    match = settings["match"]
    positions_of: dict[str, list[int]] = {}
    for position, path in enumerate(rows["path"]):
        positions_of.setdefault(match_key(path, match), []).append(position)
    matched = np.full(len(table), -1)
    reasons = []
    for number, identifier in enumerate(table[settings["id_column"]]):
        candidates = positions_of.get(match_key(identifier, match), []) if identifier else []
        if len(candidates) == 1:
            matched[number] = candidates[0]
        reasons.append(id_problem(identifier, candidates, rows, settings, split_name))
    status.add(pd.Series(reasons, index=table.index))
    status.add(duplicate_reasons(matched, status))
    return matched


def id_problem(identifier: str, candidates: list[int], rows: pd.DataFrame, settings: dict, split_name: str) -> str:
    if not identifier:
        return f"empty id (column '{settings['id_column']}')"
    if not candidates:
        return f"matches no image of the {split_name} split (matched by {settings['match']})"
    if len(candidates) > 1:
        examples = ", ".join(rows["path"].iloc[candidates[:3]])
        return (
            f"matches {len(candidates)} images of the {split_name} split by {settings['match']} ({examples}); "
            f"set {settings['config_key']}.match to a stricter form or give paths"
        )
    return ""


def duplicate_reasons(matched: np.ndarray, status: RowStatus) -> pd.Series:
    """Later file rows naming an image that an earlier row (not rejected for its id) already named."""
    first_row: dict[int, int] = {}
    reasons = pd.Series("", index=status.reasons.index, dtype=object)
    for number, (position, reason) in enumerate(zip(matched, status.reasons)):
        if position < 0 or reason:
            continue
        if position in first_row:
            reasons.iat[number] = f"duplicate of row {first_row[position]} (the same image)"
        else:
            first_row[position] = number + 1
    return reasons


def read_targets(table: pd.DataFrame, targets: dict, sources: dict, settings: dict, status: RowStatus) -> tuple:
    """Per target the predicted values and (class targets) the score matrix, over all file rows. Rows a label map
    leaves out on purpose are marked before any label or score problem, whichever target it belongs to."""
    mapped = {
        target: map_labels(
            table[source.predicted],
            settings["label_map"].get(target),
            targets[target],
            f"{settings['config_key']}.label_map.{target}",
        )
        for target, source in sources.items()
        if source.predicted
    }
    for result in mapped.values():
        status.add(result.reasons.where(result.left_out, ""), left_out=True)
    for result in mapped.values():
        status.add(result.reasons)
    predicted, scores = {}, {}
    for target, classes in targets.items():
        if is_numeric(classes):
            predicted[target] = mapped[target].values.to_numpy()
            continue
        scores[target] = read_scores(table, target, sources[target].scores, status)
        predicted[target] = class_predictions(mapped.get(target), scores[target], classes)
        if sources[target].scores is None:
            scores[target] = one_hot(predicted[target], classes)
    return predicted, scores


def read_scores(table: pd.DataFrame, target: str, columns: list[str] | None, status: RowStatus) -> np.ndarray | None:
    """The score matrix (rows x classes); a cell that is no number, not finite or outside [0, 1], or a row that does
    not sum to 1, rejects its row."""
    if columns is None:
        return None
    matrix = np.full((len(table), len(columns)), np.nan)
    for index, column in enumerate(columns):
        texts = table[column]
        values = [parse_float(text) for text in texts]
        matrix[:, index] = [np.nan if value is None else value for value in values]
        status.add(pd.Series([score_problem(column, t, v) for t, v in zip(texts, values)], index=table.index))
    sums = matrix.sum(axis=1)
    off = np.isfinite(sums) & (np.abs(sums - 1.0) > SCORE_SUM_TOLERANCE)
    sum_reasons = [f"scores of {target} do not sum to 1 ± {SCORE_SUM_TOLERANCE} (got {total:.6g})" for total in sums]
    status.add(pd.Series(np.where(off, sum_reasons, ""), index=table.index))
    return matrix


def parse_float(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def score_problem(column: str, text: str, value: float | None) -> str:
    if value is None:
        return f"{column} is not a number (got '{text}')"
    if not math.isfinite(value):
        return f"{column} is not finite (got '{text}')"
    if not 0.0 <= value <= 1.0:
        return f"{column} is outside [0, 1] (got '{text}')"
    return ""


def class_predictions(mapped: LabelMapResult | None, scores: np.ndarray | None, classes: list[str]) -> np.ndarray:
    """The file's predicted labels where it gives them, else the class of the highest score."""
    if mapped is not None:
        return mapped.values.to_numpy()
    best = np.nan_to_num(scores, nan=-1.0).argmax(axis=1)
    return np.asarray(classes, dtype=object)[best]


def one_hot(predicted: np.ndarray, classes: list[str]) -> np.ndarray:
    """Hard decisions as scores: 1 for the predicted class (all 0 where the row has no valid label)."""
    return np.array([[float(label == name) for name in classes] for label in predicted]).reshape(-1, len(classes))


def predictions_table(
    rows: pd.DataFrame,
    positions: np.ndarray,
    predicted: dict,
    scores: dict,
    accepted: np.ndarray,
    targets: dict,
    carried_labels: list[str],
) -> pd.DataFrame:
    """The accepted file rows in the split's order, laid out as `predict_eval_set` writes its table."""
    order = np.argsort(positions, kind="stable")
    split_rows = rows.iloc[positions[order]]
    table = pd.DataFrame({"path": split_rows["path"].to_numpy()})
    for target, classes in targets.items():
        table[f"{target}_true"] = split_rows[target].to_numpy()
        values = predicted[target][accepted][order]
        if is_numeric(classes):
            table[f"{target}_pred"] = values.astype("float64")
            continue
        table[f"{target}_pred"] = values.astype(object)
        for class_index in range(len(classes)):
            table[f"{target}_score_{class_index}"] = scores[target][accepted][order, class_index]
    for label in carried_labels:
        table[label] = split_rows[label].to_numpy()
    return table


def rejects_tables(table, rows, settings, status, matched, file: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rejects, left out): file rows by their 1-based data row number; split images that no file row names."""
    identifiers = table[settings["id_column"]]

    def file_rows(mask: pd.Series) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "source": "file",
                "row": [str(number + 1) for number in np.flatnonzero(mask.to_numpy())],
                "id": identifiers[mask].to_numpy(),
                "reason": status.reasons[mask].to_numpy(),
            },
            columns=REJECT_COLUMNS,
        )

    named = np.zeros(len(rows), dtype=bool)
    named[matched[matched >= 0]] = True
    missing = pd.DataFrame(
        {"source": "split", "row": "", "id": rows["path"].to_numpy()[~named]},
        columns=REJECT_COLUMNS,
    ).assign(reason=f"no prediction in {file.name}")
    rejects = pd.concat([file_rows(status.rejected()), missing], ignore_index=True)
    return rejects.astype(str), file_rows(status.left_out).astype(str)


def import_summary(file: Path, table, predictions, rejects, left_out, targets: dict, sources: dict) -> dict:
    from_file = rejects["source"] == "file"
    return {
        "file": str(file),
        "sha256": hashlib.sha256(file.read_bytes()).hexdigest(),
        "rows_in_file": len(table),
        "predicted": len(predictions),
        "rejected": int(from_file.sum()),
        "left_out": len(left_out),
        "missing": int((~from_file).sum()),
        "reasons": reason_counts(rejects["reason"]),
        "left_out_reasons": reason_counts(left_out["reason"]),
        "scores": {target: sources[target].scores is not None for target, c in targets.items() if not is_numeric(c)},
    }


def reason_kind(reason: str) -> str:
    """A reason without what varies from row to row (row numbers, the offending score), so that reasons group."""
    return re.sub(r" \(got [^)]*\)$", "", re.sub(r"row \d+", "row N", reason))


def reason_counts(reasons: pd.Series) -> dict[str, int]:
    return dict(Counter(reason_kind(reason) for reason in reasons).most_common())


def check_fractions(summary: dict, rejects: pd.DataFrame, n_split_rows: int, settings: dict, split_name: str) -> None:
    """Stop when too many file rows are rejected, or too many split images have no prediction."""
    file, limit = summary["file"], settings["max_reject_fraction"]
    key = f"{settings['config_key']}.max_reject_fraction"
    if summary["rows_in_file"] == 0:
        raise TooManyRejectsError(f"{file} holds no predictions (no data rows)")
    fraction = summary["rejected"] / summary["rows_in_file"]
    if fraction > limit:
        raise TooManyRejectsError(
            f"{file}: {summary['rejected']} of {summary['rows_in_file']} rows rejected ({fraction:.1%}), above {key} "
            f"{limit:.1%}; most common reasons:{common_reasons(rejects[rejects['source'] == 'file'])}"
        )
    fraction = summary["missing"] / n_split_rows if n_split_rows else 0.0
    if fraction > limit:
        examples = ", ".join(rejects.loc[rejects["source"] == "split", "id"].head(3))
        raise TooManyRejectsError(
            f"{file}: {summary['missing']} of {n_split_rows} images of the {split_name} split have no prediction "
            f"({fraction:.1%}), above {key} {limit:.1%} (an audit of a subset that another pipeline chose is "
            f"biased); e.g. {examples}"
        )


def common_reasons(rejects: pd.DataFrame, count: int = 3) -> str:
    kinds = rejects["reason"].map(reason_kind)
    parts = []
    for kind, n_rows in kinds.value_counts().head(count).items():
        example = rejects[kinds == kind].iloc[0]
        parts.append(f"{kind} ({n_rows} rows, e.g. row {example['row']}, id '{example['id']}')")
    return "".join(f"\n  - {part}" for part in parts)
