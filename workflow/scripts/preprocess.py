from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

from pathlib import Path

import pandas as pd

from faceaudit.data.arrays import write_split

manifest = pd.read_csv(snakemake.input.manifest, dtype=str, keep_default_na=False)
out_dir = Path(snakemake.output[0]).parent
for split in ("train", "val", "test"):
    count = write_split(
        manifest,
        Path(snakemake.params.root),
        split,
        int(snakemake.wildcards.size),
        snakemake.wildcards.color,
        out_dir / f"{split}.npy",
        out_dir / f"{split}.csv",
        workers=snakemake.threads,
    )
    print(f"{split}: {count} images")
