from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

from pathlib import Path

import pandas as pd

from faceaudit.data.arrays import write_split
from faceaudit.labels import SPLITS

manifest = pd.read_csv(snakemake.input.manifest, dtype=str, keep_default_na=False)
for split in SPLITS:
    count = write_split(
        manifest,
        Path(snakemake.params.root),
        split,
        int(snakemake.wildcards.size),
        snakemake.wildcards.color,
        Path(snakemake.output[f"{split}_images"]),
        Path(snakemake.output[f"{split}_rows"]),
        workers=snakemake.threads,
    )
    print(f"{split}: {count} images")
