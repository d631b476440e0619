rule report:
    input:
        unpack(get_report_inputs),
    output:
        index=report(
            "results/report/index.html",
            caption="../report/index.rst",
            category="faceaudit report",
        ),
        run_pages=report(
            expand("results/report/runs/{run}.html", run=RUNS),
            caption="../report/run_page.rst",
            category="runs",
        ),
    log:
        "logs/report/report.log",
    params:
        runs=RUNS,
        vae_runs=VAE_RUNS,
        # The order of the report's per-dataset inputs (get_report_inputs).
        datasets=datasets_in_report(),
        config=config,
        workflow_dir=workflow.basedir,
    script:
        "../scripts/report.py"
