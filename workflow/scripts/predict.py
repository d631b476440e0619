from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

from faceaudit.arrays import read_split
from faceaudit.predictions import predict_eval_set

images, rows = read_split(snakemake.input.images, snakemake.input.rows)
evaluation = snakemake.params.evaluation
predictions = predict_eval_set(
    snakemake.input.model, images, rows, evaluation["targets"], evaluation["sensitive_attributes"]
)
predictions.to_csv(snakemake.output.predictions, index=False)
