"""Planning benchmark: the generated study and plain Snakefiles have the shape the issue names, both dry runs plan it,
and the study still refuses a run it does not define (run names are matched by shape, not listed: issue 15)."""

import subprocess
import sys

import yaml
from conftest import SCHEMA

from faceaudit import study
from faceaudit.bench.planning import REPO, grid_for, run_benchmark, write_study
from faceaudit.bench.without_slurm import environment_without_slurm
from faceaudit.study.validation import validate_config


def test_grid_has_exactly_the_runs_asked_for():
    for runs in (1, 7, 20, 500, 2000):
        grid = grid_for(runs)
        assert len(grid["learning_rate"]) * len(grid["batch_size"]) * len(grid["epochs"]) == runs
    assert (len(grid_for(2000)["batch_size"]), len(grid_for(2000)["epochs"])) == (5, 4)


def test_the_study_has_one_run_per_grid_point_though_its_experiment_has_seeds(tmp_path):
    """The benchmark's experiment is copied from the default study, where it has seeds (`repeats: 3` today): three
    runs per grid point would compare three times the runs against the plain Snakefile."""
    config = yaml.safe_load((write_study(tmp_path, runs=20) / "config" / "config.yaml").read_text())
    validate_config(config, SCHEMA)

    assert len(study.classifier_runs(study.expand_runs(config))) == 20


def test_both_workflows_plan_the_same_number_of_runs(tmp_path):
    figures = run_benchmark(runs=2, repeats=1, folder=tmp_path)

    # Plain: five chained rules per run, the report and `all`. The study's DAG: 3 jobs per run (train, predict,
    # audit; one eval set), one preprocess, the report and `all`; the study itself has the same and five jobs that do
    # not grow with the runs (synthesize, manifest, sample grid, data audit, sine comparison) and report_settings.
    assert figures["plain_jobs"] == 5 * 2 + 2
    assert figures["shaped_jobs"] == 3 * 2 + 3
    assert figures["study_jobs"] == figures["shaped_jobs"] + 6
    assert figures["ratio"] == figures["study_seconds"] / figures["plain_seconds"]
    assert figures["ratio_to_shaped"] == figures["study_seconds"] / figures["shaped_seconds"]
    assert min(figures["study_seconds"], figures["plain_seconds"], figures["startup_seconds"]) > 0
    assert min(figures["study_cpu_seconds"], figures["plain_cpu_seconds"], figures["startup_cpu_seconds"]) > 0


def test_a_run_the_study_does_not_define_is_refused_with_its_name(tmp_path):
    write_study(tmp_path, runs=2)
    command = [sys.executable, "-m", "snakemake", "-n", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path)]
    result = subprocess.run(
        [*command, "results/runs/no_such_run/metrics/test.json"],
        capture_output=True,
        text=True,
        env=environment_without_slurm(),
    )

    assert result.returncode != 0
    assert "'no_such_run' is not a classifier run of this study" in result.stdout + result.stderr
