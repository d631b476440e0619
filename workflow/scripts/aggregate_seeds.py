from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

import json
from pathlib import Path

import pandas as pd

from faceaudit.evaluation.seeds import aggregate_seeds
from faceaudit.evaluation.settings import AuditSettings

evaluation = snakemake.params.evaluation
predictions = {
    run: pd.read_csv(path, dtype={"path": str}) for run, path in zip(snakemake.params.runs, snakemake.input.predictions)
}
aggregate = aggregate_seeds(
    predictions,
    evaluation["targets"],
    evaluation["sensitive_attributes"],
    evaluation["positive_classes"],
    intersections=evaluation["intersections"],
    privileged_groups=evaluation["privileged_groups"],
    settings=AuditSettings.from_config(evaluation["audit"]),
)
Path(snakemake.output.seeds).write_text(json.dumps(aggregate, indent=2))
