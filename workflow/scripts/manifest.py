from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

from pathlib import Path

from faceaudit.datasets import read_source
from faceaudit.manifest import build_manifest

root = Path(snakemake.output.manifest).parents[0]
dataset_root = Path(snakemake.input.labels).parent
source = read_source(snakemake.params.layout, dataset_root)
manifest, rejects = build_manifest(
    source, dataset_root, snakemake.params.labels, snakemake.params.split, snakemake.params.max_reject_fraction
)
manifest.to_csv(snakemake.output.manifest, index=False)
rejects.to_csv(snakemake.output.rejects, index=False)
print(f"{len(manifest)} rows accepted, {len(rejects)} rejected")
print(manifest["split"].value_counts().to_string())
