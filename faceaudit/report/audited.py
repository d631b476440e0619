"""What a run page says about a model trained elsewhere (faceaudit/study/audited.py), and about the rows of an eval
set that a run's predictions leave out (faceaudit/evaluation/eval_rows.py)."""

from faceaudit.study.kinds import AUDITED_KINDS, kind_of_run

KIND_NAMES = {
    "rejected": "rejected (a value that does not fit)",
    "missing": "no prediction for the image",
    "left_out": "left out on purpose (a map or filter)",
}


def is_audited_run(run: dict) -> bool:
    """A model trained elsewhere: a model file or prediction files."""
    return kind_of_run(run) in AUDITED_KINDS.values()


def audited_details(run: dict, info: dict) -> dict:
    """Which files made elsewhere the run audits (with their sha256), and how they were read."""
    files = "; ".join(f"{file['path']} ({file['bytes']:,} bytes, sha256 {file['sha256']})" for file in info["files"])
    common = {
        "experiment": run["experiment"],
        "dataset": run["dataset"],
        "targets": ", ".join(run["targets"]),
    }
    if run["model"] == "external":
        external = run["external"]
        return common | {
            "model": "a model file trained elsewhere, run here on the study's images (not trained here)",
            "model file": files,
            "parameters": f"{info['parameters']:,}" if info.get("parameters") is not None else "n/a",
            "input contract": f"{run['image_size']}x{run['image_size']} {run['color']}, pixels scaled: "
            f"{external['scaling']}",
            "outputs": "; ".join(
                f"{target}: output {output['output']}, classes {', '.join(map(str, output.get('classes') or []))}"
                for target, output in external["outputs"].items()
            ),
            "class names mapped": mapping_text(external.get("label_map")),
        }
    imported = run["imported"]
    return common | {
        "model": "predictions made elsewhere, imported from files (no model was run here)",
        "prediction files": files,
        "format": imported["format"],
        "rows matched by": f"{imported['id_column']} against the image's {imported['match'].replace('_', ' ')}",
        "class names mapped": mapping_text(imported.get("label_map")),
        "most rejected before stopping": f"{imported['max_reject_fraction']:.1%} of a file's rows",
    }


def mapping_text(label_map: dict | None) -> str:
    if not label_map:
        return "none (names as the dataset's)"
    return "; ".join(f"{target}: {mapping_pairs(mapping)}" for target, mapping in label_map.items())


def mapping_pairs(mapping: dict) -> str:
    if "bins" in mapping:
        return "bins from " + ", ".join(str(edge) for edge in mapping["bins"])
    return ", ".join(f"{source} → {'left out' if target is None else target}" for source, target in mapping.items())


def audited_model_line(run: dict, info: dict) -> str:
    """The model card's "Model" sentence for a model trained elsewhere."""
    if run["model"] == "external":
        parameters = f"{info['parameters']:,} parameters, " if info.get("parameters") is not None else ""
        return (
            f"A model trained elsewhere ({parameters}file {info['files'][0]['path']}), run on this study's "
            f"{run['image_size']}x{run['image_size']} {run['color']} images; how it was trained is not known here."
        )
    return (
        "Predictions made elsewhere, imported from "
        + ", ".join(file["path"] for file in info["files"])
        + "; the model and how it was trained are not known here."
    )


def rejects_context(summary: dict | None) -> dict | None:
    """The rows of an eval set not audited, by kind and reason; None where there are none (or no file)."""
    if summary is None or not any(summary["counts"].values()):
        return None
    return {
        "counts": [{"kind": KIND_NAMES[kind], "count": count} for kind, count in summary["counts"].items() if count],
        "reasons": summary["reasons"],
    }
