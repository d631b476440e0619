from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

from pathlib import Path

from faceaudit.report import report_files, write_report
from faceaudit.report.environment import describe_environment

# Only the rule's declared inputs: its named input lists, in the order of the runs, their eval sets, the datasets
# and the VAE runs that the rule's params list (see get_report_inputs).
files = report_files(
    dict(snakemake.input.items()),
    runs=snakemake.params.runs,
    vae_runs=snakemake.params.vae_runs,
    datasets=snakemake.params.datasets,
)
write_report(
    snakemake.params.runs,
    snakemake.params.config,
    describe_environment(Path(snakemake.params.workflow_dir)),
    files,
    out_dir=Path(snakemake.output.index).parent,
    vae_runs=snakemake.params.vae_runs,
)
