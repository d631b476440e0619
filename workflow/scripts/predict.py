from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

from faceaudit.data.arrays import read_split
from faceaudit.evaluation.eval_rows import map_true_labels
from faceaudit.evaluation.predictions import predict_eval_set, require_examples
from faceaudit.training.runtime import set_tensorflow_threads

set_tensorflow_threads(snakemake.threads)  # else TensorFlow uses every core it sees, and scores differ in the last bit

images, rows = read_split(snakemake.input.images, snakemake.input.rows)
evaluation = snakemake.params.evaluation
# Another dataset's true labels in the run's classes; rows a map refuses or leaves out are written down, not audited.
rows, keep, rejects = map_true_labels(
    rows, evaluation["targets"], evaluation["label_maps"], evaluation["label_maps_key"]
)
images = images if keep.all() else images[keep]
require_examples(images, snakemake.wildcards.eval_set, snakemake.input.rows)
predictions = predict_eval_set(
    snakemake.input.model, images, rows, evaluation["targets"], evaluation["sensitive_attributes"]
)
predictions.to_csv(snakemake.output.predictions, index=False)
rejects.to_csv(snakemake.output.rejects, index=False)
