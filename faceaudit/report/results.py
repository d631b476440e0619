"""The files the report reads, found by name, and each file loaded into plain Python values."""

import base64
import json
from pathlib import Path

import pandas as pd


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def read_table(path: Path) -> pd.DataFrame:
    """A CSV the data stage wrote, every value as the text it holds."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def load_run(files: dict) -> dict:
    """run.json plus the metrics and fairness JSON of every eval set of one run, and its calibration (with the
    thresholds), worst-subgroups, gallery and rejects files where the results folder has them (None where not: a
    page can do without them, e.g. in a results folder written before they existed; in the workflow every one is an
    input of the report rule)."""
    eval_sets = files["eval_sets"]
    return {
        "info": read_json(files["run_info"]),
        "metrics": {eval_set: read_json(paths["metrics"]) for eval_set, paths in eval_sets.items()},
        "fairness": {eval_set: read_json(paths["fairness"]) for eval_set, paths in eval_sets.items()},
        "calibration": {eval_set: optional_json(paths.get("calibration")) for eval_set, paths in eval_sets.items()},
        "subgroups": {eval_set: optional_json(paths.get("subgroups")) for eval_set, paths in eval_sets.items()},
        "galleries": {eval_set: optional_json(paths.get("gallery")) for eval_set, paths in eval_sets.items()},
        "rejects": {eval_set: rejects_summary(paths.get("rejects")) for eval_set, paths in eval_sets.items()},
    }


def rejects_summary(path: Path | None) -> dict | None:
    """The eval set's rows that the predictions leave out (faceaudit.evaluation.eval_rows): counts per kind and the
    most common reasons with an example each; None where the results folder has no such file."""
    if path is None or not Path(path).exists():
        return None
    rejects = read_table(path)
    reasons = rejects.groupby(["kind", "reason"], sort=False).agg(count=("id", "size"), example=("id", "first"))
    top = reasons.reset_index().sort_values("count", ascending=False, kind="stable").head(10)
    return {
        "counts": {kind: int((rejects["kind"] == kind).sum()) for kind in ("rejected", "missing", "left_out")},
        "reasons": top.to_dict("records"),
    }


def optional_json(path: Path | None) -> dict | None:
    """A file's JSON; None where the run has no such file, or the results folder lacks it."""
    return None if path is None or not Path(path).exists() else read_json(path)


def load_dataset(files: dict) -> dict:
    """The dataset's manifest and rejected rows, and its repaired values where the data stage wrote any."""
    repairs = files.get("repairs")
    return {
        "manifest": read_table(files["manifest"]),
        "rejects": read_table(files["rejects"]),
        "repairs": read_table(repairs) if repairs is not None and Path(repairs).exists() else None,
        "data_audit": optional_json(files.get("data_audit")),
    }


def split_counts(manifest: pd.DataFrame) -> dict:
    splits = manifest["split"].value_counts()
    return {split: int(splits.get(split, 0)) for split in ("train", "val", "test")}


def png_data_uri(path: Path) -> str:
    """A PNG as a data URI, so that the page carries its figures itself."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def figure(path: Path, alt: str) -> dict:
    return {"alt": alt, "src": png_data_uri(path)}


def optional_figure(path: Path | None, alt: str) -> dict | None:
    return figure(path, alt) if path is not None and Path(path).exists() else None
