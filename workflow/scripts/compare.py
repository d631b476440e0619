from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

import json
from pathlib import Path

import pandas as pd

from faceaudit.evaluation.comparisons import compare_configurations
from faceaudit.evaluation.settings import AuditSettings

comparison = snakemake.params.comparison
evaluation = snakemake.params.evaluation


def read_side(names, paths):
    return {name: pd.read_csv(path, dtype={"path": str}) for name, path in zip(names, paths)}


result = compare_configurations(
    read_side(comparison["runs"], snakemake.input.runs),
    read_side(comparison["baseline_runs"], snakemake.input.baseline_runs),
    evaluation["targets"],
    evaluation["sensitive_attributes"],
    evaluation["positive_classes"],
    intersections=evaluation["intersections"],
    privileged_groups=evaluation["privileged_groups"],
    settings=AuditSettings.from_config(evaluation["audit"]),
    paired=comparison["paired"],
)
names = {
    "configuration": snakemake.wildcards.configuration,
    "baseline": comparison["baseline"],
    "how": comparison["how"],
}
Path(snakemake.output.comparison).write_text(json.dumps(names | result, indent=2))
