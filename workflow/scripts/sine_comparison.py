from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

from faceaudit.training.sine import write_sine_comparison

settings = snakemake.params.settings
write_sine_comparison(
    snakemake.output.plot, snakemake.output.scores, settings["epochs"], settings["window_length"], settings["seed"]
)
