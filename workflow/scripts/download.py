from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

from pathlib import Path

from faceaudit.data.download import ArchiveLimits, install_dataset

install_dataset(
    snakemake.wildcards.dataset,
    snakemake.params.files,
    downloads=Path(snakemake.params.downloads),
    destination=Path(snakemake.output.data),
    lock_path=Path(snakemake.params.checksums_lock),
    limits=ArchiveLimits(**snakemake.params.archive_limits),
)
