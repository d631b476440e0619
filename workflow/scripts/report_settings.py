from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

import json
from pathlib import Path

# The report rule's settings (runs, VAE runs, datasets, the config as used and as set), read by scripts/report.py.
Path(snakemake.output.settings).write_text(json.dumps(dict(snakemake.params.items()), indent=1))
