from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

from faceaudit.data.arrays import read_split
from faceaudit.evaluation.eval_rows import map_true_labels
from faceaudit.evaluation.predictions import require_examples
from faceaudit.external.models import predict_external
from faceaudit.training.runtime import set_tensorflow_threads

set_tensorflow_threads(snakemake.threads)

run = snakemake.params.run
images, rows = read_split(snakemake.input.images, snakemake.input.rows)
evaluation = snakemake.params.evaluation
rows, keep, rejects = map_true_labels(
    rows, evaluation["targets"], evaluation["label_maps"], evaluation["label_maps_key"]
)
images = images if keep.all() else images[keep]
require_examples(images, snakemake.wildcards.eval_set, snakemake.input.rows)
predictions = predict_external(
    snakemake.input.model,
    images,
    rows,
    {"image": {"size": run["image_size"], "color": run["color"]}, "external": run["external"]},
    evaluation["targets"],
    evaluation["sensitive_attributes"],
    key=f"experiments.{run['experiment']}",
)
predictions.to_csv(snakemake.output.predictions, index=False)
rejects.to_csv(snakemake.output.rejects, index=False)
