from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

import json
from pathlib import Path

from faceaudit.report import report_files, write_report
from faceaudit.report.environment import describe_environment
from faceaudit.report.seeds import seed_aggregate_files, seeds_section

# What the report_settings rule wrote: the runs, VAE runs and datasets in the order of the named input lists (see
# get_report_inputs), the config as used and as the user set it.
settings = json.loads(Path(snakemake.input.settings).read_text())
files = report_files(
    dict(snakemake.input.items()),
    runs=settings["runs"],
    vae_runs=settings["vae_runs"],
    datasets=settings["datasets"],
)
configurations = settings["seed_configurations"]
seed_files = seed_aggregate_files(snakemake.input.seeds, configurations, settings["runs"])
write_report(
    settings["runs"],
    settings["config"],
    describe_environment(Path(snakemake.params.workflow_dir)),
    files,
    out_dir=Path(snakemake.output.index).parent,
    vae_runs=settings["vae_runs"],
    user_config=settings["user_config"],
    seeds=seeds_section(seed_files, configurations, settings["runs"]),
)
