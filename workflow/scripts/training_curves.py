from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

from faceaudit.evaluation.plots import plot_training_curves

plot_training_curves(snakemake.input.history, snakemake.output.figure, snakemake.input.run_info)
