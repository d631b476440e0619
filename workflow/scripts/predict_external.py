from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

from faceaudit.evaluation.eval_rows import read_eval_set
from faceaudit.evaluation.gallery import write_gallery
from faceaudit.external.models import predict_external
from faceaudit.training.runtime import set_tensorflow_threads

set_tensorflow_threads(snakemake.threads)

run, evaluation = snakemake.params.run, snakemake.params.evaluation
split = (snakemake.input.images, snakemake.input.rows)
images, rows, rejects = read_eval_set(*split, snakemake.wildcards.eval_set, evaluation)
predictions = predict_external(
    snakemake.input.model,
    images,
    rows,
    {"image": {"size": run["image_size"], "color": run["color"]}, "external": run["external"]},
    evaluation["targets"],
    evaluation["carried_labels"],
    key=f"experiments.{run['experiment']}",
)
predictions.to_csv(snakemake.output.predictions, index=False)
rejects.to_csv(snakemake.output.rejects, index=False)
# Its most confident errors; no Grad-CAM (the model's own pixel scaling would have to be replayed in the heatmaps).
write_gallery(snakemake.output.predictions, split, evaluation, snakemake.output.gallery)
