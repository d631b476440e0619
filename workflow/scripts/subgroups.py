from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

import json
import time
from pathlib import Path

from faceaudit.evaluation.subgroups import SearchSettings, find_subgroups, read_predictions

evaluation = snakemake.params.evaluation
started = time.perf_counter()
subgroups = find_subgroups(
    read_predictions(snakemake.input.predictions),
    evaluation["targets"],
    evaluation["scanned_attributes"],
    SearchSettings.from_audit(evaluation["subgroup_search"]),
    source=snakemake.input.predictions,
)
Path(snakemake.output.subgroups).write_text(json.dumps(subgroups, indent=2))
print(f"subgroup search took {time.perf_counter() - started:.1f} s")
for target, found in subgroups["targets"].items():
    print(f"{target}: {len(found['subgroups'])} subgroup(s) reported; {found['stopped'] or 'as many as asked for'}")
for target, reason in subgroups["skipped_targets"].items():
    print(f"{target}: not searched ({reason})")
