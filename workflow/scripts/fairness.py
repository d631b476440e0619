from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

import json
from pathlib import Path

import pandas as pd

from faceaudit.evaluation.fairness import audit_fairness
from faceaudit.evaluation.plots import plot_group_accuracy

predictions = pd.read_csv(snakemake.input.predictions, dtype={"path": str})
evaluation = snakemake.params.evaluation
audit = audit_fairness(
    predictions,
    evaluation["targets"],
    evaluation["sensitive_attributes"],
    evaluation["positive_classes"],
    intersections=evaluation["intersections"],
    privileged_groups=evaluation["privileged_groups"],
    resamples=evaluation["audit"]["bootstrap_resamples"],
    seed=evaluation["audit"]["seed"],
    min_group_size=evaluation["audit"]["min_group_size"],
    min_positives=evaluation["audit"]["min_positives"],
    multiple_comparisons=evaluation["audit"]["multiple_comparisons"],
    ordinal_targets=evaluation.get("ordinal_targets", ()),
)
Path(snakemake.output.fairness).write_text(json.dumps(audit, indent=2))
plot_group_accuracy(audit, Path(snakemake.output.figure))
