# faceaudit: train, evaluate and fairness-audit face-attribute classifiers.
# Local: snakemake -c4    Cluster: snakemake --profile profiles/slurm


from snakemake.utils import min_version

min_version("9.0")


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
include: "workflow/rules/report.smk"


rule all:
    input:
        get_final_output(),
