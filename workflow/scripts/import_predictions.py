from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

import json

import pandas as pd

from faceaudit.evaluation.eval_rows import imported_rejects, map_true_labels
from faceaudit.external.prediction_files import import_predictions

evaluation = snakemake.params.evaluation
manifest = pd.read_csv(snakemake.input.manifest, dtype=str, keep_default_na=False)
rows = manifest[manifest["split"] == snakemake.params.split].reset_index(drop=True)
# Another dataset's true labels in the run's classes (cross-dataset eval sets with label_maps).
rows, _, truth_rejects = map_true_labels(
    rows, evaluation["targets"], evaluation["label_maps"], evaluation["label_maps_key"]
)
run = snakemake.params.run
imported = import_predictions(
    snakemake.input.predictions,
    rows,
    run["imported"] | {"config_key": f"experiments.{run['experiment']}.imported"},
    evaluation["targets"],
    evaluation["carried_labels"],
    snakemake.params.split,
)
print(json.dumps(imported.summary, indent=2))
imported.predictions.to_csv(snakemake.output.predictions, index=False)
imported_rejects(imported, truth_rejects).to_csv(snakemake.output.rejects, index=False)
