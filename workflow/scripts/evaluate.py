from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

import json
from pathlib import Path

import pandas as pd

from faceaudit.evaluation.metrics import compute_metrics
from faceaudit.evaluation.plots import plot_metrics

predictions = pd.read_csv(snakemake.input.predictions, dtype={"path": str})
evaluation = snakemake.params.evaluation
metrics = compute_metrics(
    predictions, evaluation["targets"], evaluation["positive_classes"], evaluation.get("ordinal_targets", ())
)
Path(snakemake.output.metrics).write_text(json.dumps(metrics, indent=2))
plot_metrics(metrics, Path(snakemake.output.figures))
