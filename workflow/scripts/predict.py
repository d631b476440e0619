from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

import keras

from faceaudit.evaluation.eval_rows import read_eval_set
from faceaudit.evaluation.gallery import write_gallery
from faceaudit.evaluation.predictions import predict_eval_set
from faceaudit.training.runtime import set_tensorflow_threads

set_tensorflow_threads(snakemake.threads)  # else TensorFlow uses every core it sees, and scores differ in the last bit

evaluation = snakemake.params.evaluation
split = (snakemake.input.images, snakemake.input.rows)
# Another dataset's true labels in the run's classes; rows a map refuses or leaves out are written down, not audited.
images, rows, rejects = read_eval_set(*split, snakemake.wildcards.eval_set, evaluation)
model = keras.models.load_model(snakemake.input.model)
predictions = predict_eval_set(model, images, rows, evaluation["targets"], evaluation["carried_labels"])
predictions.to_csv(snakemake.output.predictions, index=False)
rejects.to_csv(snakemake.output.rejects, index=False)
# The faces behind the numbers, with Grad-CAM heatmaps where the model is convolutional.
gradcam_model = model if evaluation["gradcam"] else None
write_gallery(snakemake.output.predictions, split, evaluation, snakemake.output.gallery, gradcam_model)
