from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

from pathlib import Path

import pandas as pd

from faceaudit.data.adapters import read_source
from faceaudit.data.manifest import build_manifest

dataset_root = Path(snakemake.params.root)
labels = snakemake.params.labels
source = read_source(snakemake.params.layout, dataset_root, snakemake.params.layout_settings, labels)
manifest, rejects = build_manifest(
    source,
    dataset_root,
    labels,
    snakemake.params.split,
    snakemake.params.max_reject_fraction,
    sample_fraction=snakemake.params.sample_fraction,
    sample_size=snakemake.params.sample_size,
    workers=snakemake.threads,
    keep_classes=snakemake.params.keep_classes,
)
repairs = pd.DataFrame(manifest.attrs["repairs"], columns=["column", "written", "read_as", "count"])
manifest.to_csv(snakemake.output.manifest, index=False)
rejects.to_csv(snakemake.output.rejects, index=False)
repairs.to_csv(snakemake.output.repairs, index=False)
print(f"{len(manifest)} rows accepted, {len(rejects)} rejected")
print(manifest["split"].value_counts().to_string())
if len(rejects):
    print(rejects["reason"].value_counts().head(10).to_string())
for repair in repairs.itertuples():
    print(f"repaired {repair.count} {repair.column} values written '{repair.written}': read as '{repair.read_as}'")
