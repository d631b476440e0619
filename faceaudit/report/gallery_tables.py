"""A run page's faces behind the numbers (the gallery file the predict job writes) and its ordinal age-bin figures,
as the page shows them."""

from faceaudit.report.render import interval_text, number

ORDINAL_NAMES = {
    "exact_accuracy": "exact accuracy",
    "within_one_accuracy": "accuracy within one bin",
    "mean_absolute_bin_distance": "mean absolute bin distance",
}


def gallery_context(gallery: dict | None) -> dict | None:
    """Per target, attribute and group: its size and errors, the most confident errors (thumbnail, Grad-CAM overlay,
    what was predicted how surely) and the averaged heatmap; None where the run has no gallery."""
    if gallery is None:
        return None
    return {
        "show_faces": gallery["show_faces"],
        "note": gallery["gradcam_note"],
        "targets": [
            {
                "target": target,
                "attributes": [
                    {"attribute": attribute, "groups": [group_entry(name, group) for name, group in groups.items()]}
                    for attribute, groups in attributes.items()
                ],
            }
            for target, attributes in gallery["targets"].items()
        ],
    }


def group_entry(name: str, group: dict) -> dict:
    return {
        "group": name,
        "n": group["n"],
        "errors": group["errors"],
        "mean_heatmap": group["mean_heatmap"],
        "heatmap_images": group["heatmap_images"],
        "examples": [
            {
                "thumbnail": example["thumbnail"],
                "heatmap": example["heatmap"],
                "caption": f"{example['predicted']} ({example['confidence']:.2f}), truly {example['true']}",
                "where": f"row {example['row']}: {example['path']}",
            }
            for example in group["examples"]
        ],
    }


def ordinal_rows(metrics: dict, fairness: dict) -> list[dict]:
    """One table per ordinal target: all rows, then each group of each attribute, every figure with its interval."""
    tables = []
    for target, target_metrics in metrics.items():
        if "ordinal" not in target_metrics:
            continue
        rows = [
            {
                "attribute": "all",
                "group": "",
                "n": target_metrics["n"],
                "cells": ordinal_cells(target_metrics["ordinal"]),
            }
        ]
        for attribute, audit in fairness.get(target, {}).items():
            if attribute == "skipped_attributes":
                continue
            for group, scores in audit["groups"].items():
                cells = ordinal_cells(scores.get("ordinal", {}))
                rows.append({"attribute": attribute, "group": group, "n": scores["n"], "cells": cells})
        tables.append({"target": target, "headers": ["", "group", "n", *ORDINAL_NAMES.values()], "rows": rows})
    return tables


def ordinal_cells(block: dict) -> list[str]:
    """Each figure with its interval; "insufficient data" where the group is too small."""
    if block.get("insufficient_reason"):
        return ["insufficient data"] * len(ORDINAL_NAMES)
    return [f"{number(block.get(name))} {interval_text(block.get(f'{name}_ci'))}".strip() for name in ORDINAL_NAMES]
