from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

import json
from pathlib import Path

import pandas as pd

from faceaudit.data.arrays import read_split
from faceaudit.evaluation.gallery import GallerySettings, build_gallery, rows_predicted
from faceaudit.training.runtime import set_tensorflow_threads

images, rows = read_split(snakemake.input.images, snakemake.input.rows)
predictions = pd.read_csv(snakemake.input.predictions, dtype={"path": str})
images, rows = rows_predicted(images, rows, predictions)
evaluation = snakemake.params.evaluation
model = None
if "model" in snakemake.input.keys():  # convolutional runs only: Grad-CAM
    import keras

    set_tensorflow_threads(snakemake.threads)
    model = keras.models.load_model(snakemake.input.model)
gallery = build_gallery(
    predictions,
    images,
    rows,
    evaluation["targets"],
    evaluation["sensitive_attributes"],
    GallerySettings(**evaluation["gallery"]),
    model,
)
Path(snakemake.output.gallery).write_text(json.dumps(gallery))
