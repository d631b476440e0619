from faceaudit.logs import redirect_output_to

redirect_output_to(snakemake.log[0])

from faceaudit.evaluation.audit import audit_eval_set

audit_eval_set(snakemake.input.predictions, snakemake.params.evaluation, snakemake.output)
