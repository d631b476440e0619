from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

import json
from pathlib import Path

from faceaudit.report import report_files, write_report
from faceaudit.report.comparisons import comparisons_section
from faceaudit.report.environment import describe_environment
from faceaudit.report.seeds import seeds_section
from faceaudit.study.result_files import check_declared

# What the report_settings rule wrote: the runs, VAE runs, datasets and seeded configurations, the config as used and
# as the user set it. The report finds each file by name (the same report_files that lists the rule's inputs).
settings = json.loads(Path(snakemake.input.settings).read_text())
files = report_files(
    settings["runs"],
    settings["vae_runs"],
    settings["datasets"],
    settings["seed_configurations"],
    sequence=settings["config"]["sequence_comparison"]["enabled"],
    comparisons=settings["comparisons"],
)
check_declared(files, snakemake.input)
write_report(
    settings["runs"],
    settings["config"],
    describe_environment(Path(snakemake.params.workflow_dir)),
    files,
    out_dir=Path(snakemake.output.index).parent,
    vae_runs=settings["vae_runs"],
    user_config=settings["user_config"],
    seeds=seeds_section(files["seeds"], settings["seed_configurations"], settings["runs"]),
    comparisons=comparisons_section(files["comparisons"]),
)
