from faceaudit.report.configuration import configured_by_user
from faceaudit.study.result_files import report_files, report_inputs


def datasets_in_report():
    """Every dataset a run trains or is evaluated on."""
    return sorted(
        {
            labels.eval_set_source(run["dataset"], eval_set)[0]
            for run in (ALL_RUNS | AUDITED_RUNS).values()
            for eval_set in ["train", *run["eval_sets"]]
        }
    )


def get_report_inputs(wildcards):
    """Every file the report reads, found by name (faceaudit.study.result_files.report_files, which the report script
    calls with the same runs, datasets and configurations from settings.json)."""
    files = report_files(
        EVALUATED_RUNS,
        VAE_RUNS,
        datasets_in_report(),
        SEED_CONFIGURATIONS,
        sequence=config["sequence_comparison"]["enabled"],
        comparisons=COMPARISONS,
    )
    return {"results": report_inputs(files)}


# Writing a small JSON file is no job for a cluster node.
localrules:
    report_settings,


# What the report needs to know of the study, handed over as a file. Snakemake's own report (--report) embeds the
# params of the rule that made its results, unescaped, in a <script>; the report rule's params therefore hold no
# name taken from the config or the data (a class named "</script><img onerror=...>" would run there).
rule report_settings:
    output:
        settings="results/report/settings.json",
    log:
        "logs/report_settings/report_settings.log",
    params:
        runs=EVALUATED_RUNS,
        vae_runs=VAE_RUNS,
        # The configurations trained with several seeds and the datasets in the report (get_report_inputs).
        seed_configurations=SEED_CONFIGURATIONS,
        comparisons=COMPARISONS,
        datasets=datasets_in_report(),
        config=config,
        # The config as the user wrote it (the config files in the order Snakemake read them, then --config), for
        # the report to show apart from the defaults that validation filled in.
        user_config=configured_by_user(workflow.configfiles, workflow.config_settings.overwrite_config),
    script:
        "../scripts/report_settings.py"


rule report:
    input:
        unpack(get_report_inputs),
        settings=rules.report_settings.output.settings,
    output:
        index=report(
            "results/report/index.html",
            caption="../report/index.rst",
            category="faceaudit report",
        ),
        run_pages=report(
            expand("results/report/runs/{run}.html", run=EVALUATED_RUNS),
            caption="../report/run_page.rst",
            category="runs",
        ),
    log:
        "logs/report/report.log",
    params:
        workflow_dir=workflow.basedir,
    script:
        "../scripts/report.py"
