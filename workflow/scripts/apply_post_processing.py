from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

import pickle
import shutil
from pathlib import Path

import pandas as pd

from faceaudit.postprocessing import apply_post_processor

# The post_process rule's own file, written by this workflow.
processor = pickle.loads(Path(snakemake.input.processor).read_bytes())
predictions = pd.read_csv(snakemake.input.predictions, dtype={"path": str})
adjusted = apply_post_processor(processor, predictions, snakemake.wildcards.eval_set)
adjusted.to_csv(snakemake.output.predictions, index=False)
# The same rows as the source run's predictions: the same rows left out.
shutil.copyfile(snakemake.input.rejects, snakemake.output.rejects)
