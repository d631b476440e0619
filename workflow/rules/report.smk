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
    params:
        runs=RUNS,
        vae_runs=VAE_RUNS,
        config=config,
        workflow_dir=workflow.basedir,
    log:
        "logs/report/report.log",
    script:
        "../scripts/report.py"
