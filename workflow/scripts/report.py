from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

from pathlib import Path

from faceaudit.report.environment import describe_environment
from faceaudit.report import write_report

write_report(
    snakemake.params.runs,
    snakemake.params.config,
    describe_environment(Path(snakemake.params.workflow_dir)),
    data_dir=Path("results/data"),
    runs_dir=Path("results/runs"),
    out_dir=Path(snakemake.output.index).parent,
    vae_runs=snakemake.params.vae_runs,
    vae_dir=Path("results/vae"),
    sequence_dir=Path("results/sequence"),
)
