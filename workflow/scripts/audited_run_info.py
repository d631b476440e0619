from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

import json
from pathlib import Path

from faceaudit.external.run_info import audited_run_info

info = audited_run_info(snakemake.params.run, [Path(file) for file in snakemake.input.files])
Path(snakemake.output.run_info).write_text(json.dumps(info, indent=2))
