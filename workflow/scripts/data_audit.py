from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

from pathlib import Path

from faceaudit.data.audit import audit_files, duplicate_lines, write_audit
from faceaudit.labels import SPLITS

settings = snakemake.params.settings
audit = audit_files(
    {split: Path(snakemake.input[f"{split}_images"]) for split in SPLITS},
    {split: Path(snakemake.input[f"{split}_rows"]) for split in SPLITS},
    labels=snakemake.params.labels,
    sensitive_attributes=list(snakemake.params.sensitive_attributes),
    near_duplicate_distance=int(settings["near_duplicate_distance"]),
    examples=int(settings["examples"]),
    leakage_alpha=float(settings["leakage_alpha"]),
)
write_audit(audit, Path(snakemake.output.audit))
print("\n".join(duplicate_lines(audit)))
