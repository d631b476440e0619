# faceaudit: train, evaluate and fairness-audit face-attribute classifiers.
# Local: snakemake -c4    Cluster: snakemake --profile profiles/slurm


from snakemake.utils import min_version

from faceaudit.study.validation import check_config_files

min_version("9.0")


# Snakemake reads config files leniently (a repeated key silently replaces the first block, a YAML error has no line
# number): read them strictly first. A --configfile has been read by now, so its syntax errors are Snakemake's own.
check_config_files(workflow.overwrite_configfiles or ["config/config.yaml"])


# The default study, unless the command line names another: `snakemake --configfile config/fairface.yaml`
# (a --configfile would otherwise be merged into the default study's datasets and experiments).
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/generative.smk"
include: "workflow/rules/sine.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/postprocess.smk"
include: "workflow/rules/external.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        get_final_output(),
