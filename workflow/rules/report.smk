from faceaudit.report.configuration import configured_by_user


def get_run_evaluations(run_name):
    """The audit rule's files of every eval set of a run, the rows its predictions leave out, and its galleries."""
    outputs = {
        "metrics": rules.audit.output.metrics,
        "fairness": rules.audit.output.fairness,
        "figures": rules.audit.output.figures,
        "group_figures": rules.audit.output.group_figure,
        "calibration": rules.audit.output.calibration,
        "calibration_figures": rules.audit.output.calibration_figures,
        "subgroups": rules.audit.output.subgroups,
        "prediction_rejects": PREDICTION_REJECTS,
    }
    eval_sets = EVALUATED_RUNS[run_name]["eval_sets"]
    evaluations = {
        key: [pattern.format(run=run_name, eval_set=eval_set) for eval_set in eval_sets]
        for key, pattern in outputs.items()
    }
    # A gallery for the runs that saw the images: trained runs and external model files (post-processed runs and
    # prediction files have none); the report finds each by its path.
    with_images = run_name in RUNS or EVALUATED_RUNS[run_name]["model"] == "external"
    evaluations["galleries"] = [
        GALLERY.format(run=run_name, eval_set=eval_set) for eval_set in eval_sets if with_images
    ]
    return evaluations


def training_curves(run_name):
    """The run's training curves (none for a model trained elsewhere); a derived run shows those of the trained run
    whose scores it post-processes."""
    run = EVALUATED_RUNS[run_name]
    if not kinds.kind_of_run(run).has_curves:
        return []
    trained = run.get("post_processing", {}).get("source_run", run_name)
    return [rules.train.output.curves.format(run=trained)]


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
    """The report's files as named lists, each in a fixed order that the report script relies on: run_info one per
    run (EVALUATED_RUNS order); metrics, fairness, figures, group_figures, calibration, calibration_figures, subgroups
    and prediction_rejects one per run and eval set (the run's eval-set order); curves and galleries only where a run
    has them (the report finds each by its path); manifests, rejects, repairs, samples and data_audits
    one per dataset (datasets_in_report(), the rule's `datasets` param); vae_run_info, vae_samples, vae_reconstructions
    one per VAE run (VAE_RUNS order); sequence_plot and sequence_scores one each when the sine-wave comparison is
    enabled, else none."""
    datasets = datasets_in_report()
    inputs = {
        "run_info": [f"results/runs/{name}/run.json" for name in EVALUATED_RUNS],
        "curves": [path for name in EVALUATED_RUNS for path in training_curves(name)],
        "manifests": [f"results/data/{dataset}/manifest.csv" for dataset in datasets],
        "rejects": [f"results/data/{dataset}/rejects.csv" for dataset in datasets],
        "repairs": [f"results/data/{dataset}/repairs.csv" for dataset in datasets],
        "samples": [f"results/data/{dataset}/samples.png" for dataset in datasets],
        "data_audits": [f"results/data/{dataset}/data_audit.json" for dataset in datasets],
    }
    evaluations = [get_run_evaluations(name) for name in EVALUATED_RUNS]
    for key in (
        "metrics",
        "fairness",
        "figures",
        "group_figures",
        "calibration",
        "calibration_figures",
        "subgroups",
        "galleries",
        "prediction_rejects",
    ):
        inputs[key] = [path for evaluation in evaluations for path in evaluation.get(key, [])]
    for key in ("run_info", "samples", "reconstructions"):
        inputs[f"vae_{key}"] = [vae_outputs(name)[key] for name in VAE_RUNS]
    enabled = config["sequence_comparison"]["enabled"]
    inputs["sequence_plot"] = [SEQUENCE_FILES["plot"]] if enabled else []
    inputs["sequence_scores"] = [SEQUENCE_FILES["scores"]] if enabled else []
    return inputs


def get_seed_aggregates():
    """The aggregate of every configuration trained with several seeds, one per eval set."""
    return [
        rules.aggregate_seeds.output.seeds.format(configuration=configuration, eval_set=eval_set)
        for configuration, names in SEED_CONFIGURATIONS.items()
        for eval_set in EVALUATED_RUNS[names[0]]["eval_sets"]
    ]


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
