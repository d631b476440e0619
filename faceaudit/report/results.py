"""The files the report reads: which declared input is which, and each file loaded into plain Python values."""

import base64
import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

# The report rule's named inputs, each a list in the order of what it belongs to (see get_report_inputs):
# one file per run, per (run, eval set) in the run's eval-set order, per dataset, per VAE run; the sine
# comparison's two files when it is enabled.
PER_RUN = {"run_info": "run_info"}
PER_EVAL_SET = {"metrics": "metrics", "fairness": "fairness", "figures": "figures", "group_figures": "group_figure"}
# The calibration and subgroups rules' files: listed per eval set (None where the inputs leave them out; the run page
# then leaves their sections out).
PER_EVAL_SET_OPTIONAL = {
    "calibration": "calibration",
    "calibration_figures": "calibration_figures",
    "subgroups": "subgroups",
    "prediction_rejects": "rejects",
}
PER_DATASET = {"manifests": "manifest", "rejects": "rejects"}
PER_DATASET_OPTIONAL = {"repairs": "repairs", "samples": "samples", "data_audits": "data_audit"}
PER_VAE_RUN = {"vae_run_info": "run_info", "vae_samples": "samples", "vae_reconstructions": "reconstructions"}
SEQUENCE = {"sequence_plot": "plot", "sequence_scores": "scores"}


def input_paths(inputs: Mapping, key: str) -> list[Path]:
    """The files of one named input (absent: none; a single file: a list of one)."""
    files = inputs.get(key) or []
    return [Path(files)] if isinstance(files, str | Path) else [Path(file) for file in files]


def assign(inputs: Mapping, names: dict, owners: list, optional: bool = False) -> list[dict]:
    """Per owner (run, dataset, ...): {its name for the file: path}, taking the named input lists in owner order."""
    assigned = [{} for _ in owners]
    for key, name in names.items():
        paths = input_paths(inputs, key)
        if optional and not paths:
            paths = [None] * len(owners)
        if len(paths) != len(owners):
            raise ValueError(f"the report's input {key!r} has {len(paths)} files for {len(owners)} entries")
        for files, path in zip(assigned, paths, strict=True):
            files[name] = path
    return assigned


def report_files(inputs: Mapping, runs: dict, vae_runs: dict, datasets: list[str]) -> dict:
    """The report rule's declared inputs by what they belong to:
    {"runs": {run: {run_info, curves, "eval_sets": {eval_set: {metrics, fairness, figures, group_figure,
     calibration, calibration_figures, subgroups}}}},
     "datasets": {dataset: {manifest, rejects, repairs, samples}}, "vae": {vae run: {run_info, samples,
     reconstructions}}, "sequence": {plot, scores} or None}.

    `inputs` maps each input name to its list of files, in the order of `runs`, their eval sets, `datasets` and
    `vae_runs`; repairs, samples, the calibration and the subgroups files may be left out (None), the sequence files
    too where there is no comparison.
    """
    evaluations = [(name, eval_set) for name, run in runs.items() for eval_set in run["eval_sets"]]
    run_files = assign(inputs, PER_RUN, list(runs))
    curves = curve_paths(inputs)
    files = {
        name: {**paths, "curves": curves.get(curves_run(name, run)), "eval_sets": {}}
        for (name, run), paths in zip(runs.items(), run_files, strict=True)
    }
    evaluation_files = assign(inputs, PER_EVAL_SET, evaluations)
    calibration_files = assign(inputs, PER_EVAL_SET_OPTIONAL, evaluations, optional=True)
    galleries = gallery_paths(inputs)
    for (name, eval_set), paths, more in zip(evaluations, evaluation_files, calibration_files, strict=True):
        files[name]["eval_sets"][eval_set] = {**paths, **more, "gallery": galleries.get((name, eval_set))}
    required, optional = assign(inputs, PER_DATASET, datasets), assign(inputs, PER_DATASET_OPTIONAL, datasets, True)
    dataset_files = [{**paths, **more} for paths, more in zip(required, optional, strict=True)]
    sequence = assign(inputs, SEQUENCE, [None], optional=True)[0]
    return {
        "runs": files,
        "datasets": dict(zip(datasets, dataset_files, strict=True)),
        "vae": dict(zip(vae_runs, assign(inputs, PER_VAE_RUN, list(vae_runs)), strict=True)),
        "sequence": None if sequence["scores"] is None else sequence,
    }


def gallery_paths(inputs: Mapping) -> dict:
    """The gallery rule's files, {(run, eval set): path}, read from their paths (runs/<run>/gallery/<eval set>.json):
    only trained runs have one, so the list does not follow the order of the other per-eval-set inputs."""
    return {(path.parent.parent.name, path.stem): path for path in input_paths(inputs, "galleries")}


def curve_paths(inputs: Mapping) -> dict:
    """The training curves, {run: path}, read from their paths (runs/<run>/figures/training_curves.png): a model
    trained elsewhere has none, and a post-processed run shows its source run's."""
    return {path.parent.parent.name: path for path in input_paths(inputs, "curves")}


def curves_run(name: str, run: dict) -> str:
    return run.get("post_processing", {}).get("source_run", name)


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def read_table(path: Path) -> pd.DataFrame:
    """A CSV the data stage wrote, every value as the text it holds."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def load_run(files: dict) -> dict:
    """run.json plus the metrics and fairness JSON of every eval set of one run, and its calibration (with the
    thresholds) and worst-subgroups JSON where they were declared (None where not)."""
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
    most common reasons with an example each; None where the report was given no such file."""
    if path is None:
        return None
    rejects = read_table(path)
    reasons = rejects.groupby(["kind", "reason"], sort=False).agg(count=("id", "size"), example=("id", "first"))
    top = reasons.reset_index().sort_values("count", ascending=False, kind="stable").head(10)
    return {
        "counts": {kind: int((rejects["kind"] == kind).sum()) for kind in ("rejected", "missing", "left_out")},
        "reasons": top.to_dict("records"),
    }


def optional_json(path: Path | None) -> dict | None:
    return None if path is None else read_json(path)


def load_dataset(files: dict) -> dict:
    """The dataset's manifest and rejected rows, and its repaired values where the data stage wrote any."""
    repairs = files.get("repairs")
    return {
        "manifest": read_table(files["manifest"]),
        "rejects": read_table(files["rejects"]),
        "repairs": read_table(repairs) if repairs is not None and Path(repairs).exists() else None,
        "data_audit": read_json(files["data_audit"]) if files.get("data_audit") is not None else None,
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
