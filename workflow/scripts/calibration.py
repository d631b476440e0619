from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

import json
from pathlib import Path

import pandas as pd

from faceaudit.evaluation.calibration import audit_calibration
from faceaudit.evaluation.calibration_plots import plot_calibration
from faceaudit.evaluation.thresholds import audit_thresholds

predictions = pd.read_csv(snakemake.input.predictions, dtype={"path": str})
evaluation = snakemake.params.evaluation
groups = {
    "targets": evaluation["targets"],
    "sensitive_attributes": evaluation["sensitive_attributes"],
    "positive_classes": evaluation["positive_classes"],
    "intersections": evaluation["intersections"],
}
calibration = audit_calibration(
    predictions,
    **groups,
    bins=evaluation["calibration_audit"]["calibration_bins"],
    resamples=evaluation["calibration_audit"]["bootstrap_resamples"],
    seed=evaluation["calibration_audit"]["seed"],
)
thresholds = audit_thresholds(predictions, **groups)
Path(snakemake.output.calibration).write_text(
    json.dumps({"calibration": calibration, "thresholds": thresholds}, indent=2)
)
plot_calibration(calibration, thresholds, Path(snakemake.output.figures))
