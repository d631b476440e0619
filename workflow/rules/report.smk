from faceaudit.report.configuration import configured_by_user


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
        # The configurations trained with several seeds, in the order of the report's `seeds` input.
        seed_configurations=SEED_CONFIGURATIONS,
        # The order of the report's per-dataset inputs (get_report_inputs).
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
        seeds=get_seed_aggregates(),
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
