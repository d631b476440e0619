from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

from pathlib import Path

from faceaudit.report import write_report

write_report(
    snakemake.params.runs,
    snakemake.params.datasets,
    data_dir=Path("results/data"),
    runs_dir=Path("results/runs"),
    out_dir=Path(snakemake.output.index).parent,
)
