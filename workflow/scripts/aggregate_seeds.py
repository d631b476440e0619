from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

import json
from pathlib import Path

import pandas as pd

from faceaudit.evaluation.seeds import aggregate_seeds

evaluation = snakemake.params.evaluation
audit = evaluation["audit"]
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
    resamples=audit["bootstrap_resamples"],
    seed=audit["seed"],
    min_group_size=audit["min_group_size"],
    min_positives=audit["min_positives"],
    multiple_comparisons=audit["multiple_comparisons"],
)
Path(snakemake.output.seeds).write_text(json.dumps(aggregate, indent=2))
