from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

from faceaudit.data.arrays import read_split
from faceaudit.evaluation.plots import plot_training_curves
from faceaudit.training.classifier import train_run

train_run(
    snakemake.params.run,
    train=read_split(snakemake.input.train_images, snakemake.input.train_rows),
    val=read_split(snakemake.input.val_images, snakemake.input.val_rows),
    model_path=snakemake.output.model,
    history_path=snakemake.output.history,
    run_info_path=snakemake.output.run_info,
    checkpoint_dir=snakemake.params.checkpoint_dir,
    threads=snakemake.threads,
)
plot_training_curves(snakemake.output.history, snakemake.output.curves, snakemake.output.run_info)
