"""The default target asks for a run page only while the report's index exists and that page does not (issue 15:
asking for every page made planning grow with the square of the runs). A page missing from an up-to-date report
still rebuilds it: the situation of an experiment added back whose results exist (issue 11)."""

import subprocess
import sys
from pathlib import Path

from conftest import run_snakemake

from faceaudit.bench.planning import REPO, write_study
from faceaudit.bench.without_slurm import environment_without_slurm


def output_files(workdir: Path) -> list[str]:
    """Every output file of the study's jobs, from `snakemake --summary` (a table: output_file first)."""
    command = [sys.executable, "-m", "snakemake", "--summary", "-s", str(REPO / "Snakefile"), "-d", str(workdir)]
    environment = environment_without_slurm()
    summary = subprocess.run(command, capture_output=True, text=True, check=True, env=environment).stdout
    return [line.split("\t")[0] for line in summary.splitlines()[1:] if "\t" in line]


def make_up_to_date(workdir: Path) -> None:
    """Every output in place (a folder where the path has no extension), then recorded by `--touch` as up to date."""
    for name in output_files(workdir):
        path = workdir / name
        if path.suffix:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        else:
            path.mkdir(parents=True, exist_ok=True)
    run_snakemake(workdir, "--touch")


def test_a_missing_run_page_rebuilds_an_up_to_date_report(tmp_path):
    write_study(tmp_path, runs=2)
    make_up_to_date(tmp_path)
    page = next((tmp_path / "results/report/runs").glob("*.html"))
    page.unlink()

    result = run_snakemake(tmp_path, "-n")
    planned = result.stdout + result.stderr

    assert f"Missing output files: {page.relative_to(tmp_path)}" in planned
    job_counts = dict(line.split() for line in planned.splitlines() if line.startswith(("report ", "total ")))
    assert job_counts == {"report": "1", "total": "2"}, "only the report (and `all`) is planned"
