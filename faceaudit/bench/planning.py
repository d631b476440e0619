"""Planning speed: `python -m faceaudit.bench.planning --runs 2000` (or `make bench-planning`).

Writes, in a temporary folder, a study of `--runs` runs (one experiment on the default config's synthetic dataset,
with a learning-rate x batch-size x epochs grid), a plain Snakefile of the same size (a chain of five trivial rules
per run and one report rule over all of them) and a plain Snakefile with the study's own DAG (the same rules, files
and dependencies as faceaudit's, from the table of result files, with trivial commands and no input functions), then
times `snakemake -n --quiet` on each, in turn, in this one process. Prints the times and the ratios of the study to
each (issue 20: at most 1.2 against the five-rule Snakefile at 2,000 runs).
"""

import argparse
import copy
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from faceaudit.bench.without_slurm import environment_without_slurm
from faceaudit.study.result_files import AUDIT_FILES, FOLDERS, RUN_FILES, run_pattern

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO / "config" / "config.yaml"
EXPERIMENT = "gender_small_cnn"  # an experiment of the default study, whose settings the grid's runs share
BATCH_SIZES = [16, 32, 64, 128, 256]
EPOCHS = [1, 2, 3, 4]
CHAIN_LENGTH = 5
SEEDING_KEYS = ("seeds", "repeats")

PLAIN_SNAKEFILE = """\
RUNS = [f"run{{index:05d}}" for index in range({runs})]


rule all:
    input:
        "report.txt",


rule report:
    input:
        expand("runs/{{run}}/step{last}.txt", run=RUNS),
    output:
        "report.txt",
    shell:
        "touch {{output}}"


rule step1:
    output:
        "runs/{{run}}/step1.txt",
    shell:
        "touch {{output}}"
"""
PLAIN_STEP = """

rule step{step}:
    input:
        "runs/{{run}}/step{previous}.txt",
    output:
        "runs/{{run}}/step{step}.txt",
    shell:
        "touch {{output}}"
"""


# The study's DAG for one dataset, size and eval set, as plain rules: preprocess, then per run train -> predict ->
# audit, and the report over every file the report reads (study.result_files.report_files). @NAME@ is filled in.
SHAPED_SNAKEFILE = """\
RUNS = [f"run{index:05d}" for index in range(@RUNS@)]
ARRAYS = expand("results/data/faces/32-gray/{split}.{kind}", split=["train", "val", "test"], kind=["npy", "csv"])


wildcard_constraints:
    run=r"[^/]+",
    eval_set="val|test",


rule all:
    input:
        "results/report/index.html",


rule report:
    input:
        expand(@REPORTED@, run=RUNS, eval_set="test"),
    output:
        "results/report/index.html",
    shell:
        "touch {output}"


rule preprocess:
    output:
        ARRAYS,
    shell:
        "touch {output}"


rule train:
    input:
        ARRAYS[:4],
    output:
@TRAIN@
    shell:
        "touch {output}"


rule predict:
    input:
        "@MODEL@",
        ARRAYS[4:],
    output:
@PREDICT@
    shell:
        "touch {output}"


rule audit:
    input:
        "@PREDICTIONS@",
    output:
@AUDIT@
    shell:
        "mkdir -p {output}"
"""


def shaped_outputs(names, folders=()) -> str:
    return "\n".join(
        f'        directory("{run_pattern(name)}"),' if name in folders else f'        "{run_pattern(name)}",'
        for name in names
    )


def grid_for(runs: int) -> dict:
    """A learning-rate x batch-size x epochs grid of exactly `runs` points (batch sizes, epochs where they divide)."""
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    batch_sizes = BATCH_SIZES if runs % len(BATCH_SIZES) == 0 else BATCH_SIZES[:1]
    epochs = EPOCHS if (runs // len(batch_sizes)) % len(EPOCHS) == 0 else EPOCHS[:1]
    learning_rates = runs // (len(batch_sizes) * len(epochs))
    return {
        "learning_rate": [round(1e-5 * (index + 1), 8) for index in range(learning_rates)],
        "batch_size": batch_sizes,
        "epochs": epochs,
    }


def write_study(folder: Path, runs: int) -> Path:
    """The default config with one experiment whose grid has `runs` points, as folder/config/config.yaml."""
    default = yaml.safe_load(DEFAULT_CONFIG.read_text())
    experiment = copy.deepcopy(default["experiments"][EXPERIMENT]) | {"grid": grid_for(runs)}
    # One run per grid point, as the plain Snakefile has: seeds would multiply the runs (and add seed aggregates).
    for seeding in SEEDING_KEYS:
        experiment.pop(seeding, None)
    study = {**default, "experiments": {EXPERIMENT: experiment}}
    (folder / "config").mkdir(parents=True, exist_ok=True)
    (folder / "config" / "config.yaml").write_text(yaml.safe_dump(study, sort_keys=False))
    return folder


def write_plain_workflow(folder: Path, runs: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    steps = "".join(PLAIN_STEP.format(step=step, previous=step - 1) for step in range(2, CHAIN_LENGTH + 1))
    (folder / "Snakefile").write_text(PLAIN_SNAKEFILE.format(runs=runs, last=CHAIN_LENGTH) + steps)
    return folder / "Snakefile"


def write_shaped_workflow(folder: Path, runs: int) -> Path:
    """A plain Snakefile with the study's own rules, files and dependencies (one dataset, one eval set)."""
    folder.mkdir(parents=True, exist_ok=True)
    filled = {
        "@RUNS@": str(runs),
        "@REPORTED@": repr([run_pattern(name) for name in ("run_info", "curves", *AUDIT_FILES, "rejects", "gallery")]),
        "@TRAIN@": shaped_outputs(RUN_FILES),
        "@PREDICT@": shaped_outputs(("predictions", "rejects", "gallery")),
        "@AUDIT@": shaped_outputs(AUDIT_FILES, FOLDERS),
        "@MODEL@": run_pattern("model"),
        "@PREDICTIONS@": run_pattern("predictions"),
    }
    text = SHAPED_SNAKEFILE
    for placeholder, value in filled.items():
        text = text.replace(placeholder, value)
    (folder / "Snakefile").write_text(text)
    return folder / "Snakefile"


def dry_run_seconds(snakefile: Path, workdir: Path) -> tuple[float, float, int]:
    """Seconds that `snakemake -n --quiet` takes (a process of its own, as a user runs it), the CPU seconds it used
    (user + system: what other jobs on the machine change least) and its job count."""
    command = [sys.executable, "-m", "snakemake", "-n", "--quiet", "rules", "-s", str(snakefile), "-d", str(workdir)]
    cpu_before = children_cpu_seconds()
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=environment_without_slurm())
    seconds = time.perf_counter() - started
    cpu_seconds = children_cpu_seconds() - cpu_before
    if result.returncode != 0:
        raise RuntimeError(f"snakemake -n failed for {snakefile}:\n{result.stdout[-2000:]}{result.stderr[-4000:]}")
    return seconds, cpu_seconds, planned_jobs(result.stdout + result.stderr)


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def planned_jobs(output: str) -> int:
    """The job count of the dry run's summary line ("total   <n>")."""
    totals = [line.split()[1] for line in output.splitlines() if line.startswith("total") and len(line.split()) == 2]
    return int(totals[-1]) if totals else 0


def run_benchmark(runs: int, repeats: int, folder: Path) -> dict:
    """Time the three dry runs `repeats` times, taking turns; each figure is a median. `startup` is a plain Snakefile
    of one run: what every snakemake command costs before planning (imports, plugins). Each runs without SLURM's
    commands on PATH (bench.without_slurm): where SLURM is installed but no controller answers, the SLURM plugin alone
    would wait 10 s for `scontrol` in every command, and the benchmark would time that wait."""
    if runs < 1 or repeats < 1:
        raise ValueError(f"runs and repeats must be at least 1, got runs={runs}, repeats={repeats}")
    folder = Path(folder)
    workflows = {
        "study": (REPO / "Snakefile", write_study(folder / "study", runs)),
        "plain": (write_plain_workflow(folder / "plain", runs), folder / "plain"),
        "shaped": (write_shaped_workflow(folder / "shaped", runs), folder / "shaped"),
        "startup": (write_plain_workflow(folder / "startup", 1), folder / "startup"),
    }
    timings = {name: [] for name in workflows}
    cpu_timings = {name: [] for name in workflows}
    jobs = {}
    for _ in range(repeats):
        for name, (snakefile, workdir) in workflows.items():
            seconds, cpu_seconds, jobs[name] = dry_run_seconds(snakefile, workdir)
            timings[name].append(seconds)
            cpu_timings[name].append(cpu_seconds)
    seconds = {name: statistics.median(times) for name, times in timings.items()}
    cpu = {name: statistics.median(times) for name, times in cpu_timings.items()}
    return {
        "runs": runs,
        "repeats": repeats,
        "study_seconds": seconds["study"],
        "plain_seconds": seconds["plain"],
        "startup_seconds": seconds["startup"],
        "shaped_seconds": seconds["shaped"],
        "shaped_jobs": jobs["shaped"],
        "ratio_to_shaped": seconds["study"] / seconds["shaped"],
        "study_jobs": jobs["study"],
        "plain_jobs": jobs["plain"],
        "ratio": seconds["study"] / seconds["plain"],
        "ratio_after_startup": (seconds["study"] - seconds["startup"])
        / max(seconds["plain"] - seconds["startup"], 1e-3),
        "study_cpu_seconds": cpu["study"],
        "plain_cpu_seconds": cpu["plain"],
        "startup_cpu_seconds": cpu["startup"],
        "cpu_ratio": cpu["study"] / max(cpu["plain"], 1e-3),
    }


def format_figures(figures: dict) -> str:
    return "\n".join(
        [
            f"snakemake -n, {figures['runs']} runs (median of {figures['repeats']}):",
            f"  faceaudit study  {figures['study_seconds']:7.1f} s  ({figures['study_jobs']} jobs)",
            f"  plain Snakefile  {figures['plain_seconds']:7.1f} s  ({figures['plain_jobs']} jobs, "
            f"{CHAIN_LENGTH} rules per run + report)",
            f"  plain, study DAG {figures['shaped_seconds']:7.1f} s  ({figures['shaped_jobs']} jobs, the study's rules "
            "and files, trivial commands)",
            f"  startup          {figures['startup_seconds']:7.1f} s  (a plain Snakefile of 1 run)",
            f"  ratio study / plain: {figures['ratio']:.2f}",
            f"  ratio study / plain with the study's DAG: {figures['ratio_to_shaped']:.2f}",
            f"  ratio after startup (study - startup) / (plain - startup): {figures['ratio_after_startup']:.2f}",
            f"  CPU seconds (user + system; steadier than wall time on a busy machine): study "
            f"{figures['study_cpu_seconds']:.1f}, plain {figures['plain_cpu_seconds']:.1f}, startup "
            f"{figures['startup_cpu_seconds']:.1f}; ratio study / plain {figures['cpu_ratio']:.2f}",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000, help="runs in the study (default 2000)")
    parser.add_argument("--repeats", type=int, default=1, help="dry runs of each, alternating (median; default 1)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="faceaudit-planning-") as folder:
        print(format_figures(run_benchmark(arguments.runs, arguments.repeats, Path(folder))))


if __name__ == "__main__":
    main()
