rule report:
    input:
        unpack(get_report_inputs),
    output:
        index="results/report/index.html",
        run_pages=expand("results/report/runs/{run}.html", run=RUNS),
    params:
        runs=RUNS,
        datasets=config["datasets"],
    log:
        "logs/report/report.log",
    script:
        "../scripts/report.py"
