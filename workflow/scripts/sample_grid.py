from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

import pandas as pd

from faceaudit.data.summary import write_sample_grid

manifest = pd.read_csv(snakemake.input.manifest, dtype=str, keep_default_na=False)
write_sample_grid(manifest, snakemake.params.root, dict(snakemake.params.labels), snakemake.output.grid)
