from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

import json
import pickle
import time
from pathlib import Path

import pandas as pd

from faceaudit.postprocessing import derived_run_info, fit_post_processor

started = time.perf_counter()
val = pd.read_csv(snakemake.input.val, dtype={"path": str})
processor = fit_post_processor(val, snakemake.params.post_processing, list(snakemake.params.classes))
seconds = time.perf_counter() - started
Path(snakemake.output.processor).write_bytes(pickle.dumps(processor))
source_info = json.loads(Path(snakemake.input.source_info).read_text())
info = derived_run_info(source_info, snakemake.wildcards.run, processor, len(val), seconds)
Path(snakemake.output.run_info).write_text(json.dumps(info, indent=2))
