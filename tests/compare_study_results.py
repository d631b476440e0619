"""Compare two runs of the same study: are the results the same, file by file?

    python tests/compare_study_results.py BEFORE_DIR AFTER_DIR

Each directory is a Snakemake working directory that ran the study (it holds `results/`). Predictions, the rows
they leave out, metrics, fairness, calibration, subgroups, galleries, seed aggregates, histories, the sine comparison's
scores and the VAE's history must be equal byte for byte; run.json must be
equal apart from what describes the machine and the clock (timings, throughput, host, SLURM job). Prints one line per
file that differs and exits with 1 if any does. Used to check that a refactoring changed no result.
"""

import json
import sys
from pathlib import Path

EQUAL_FILES = (
    "runs/*/predictions/*.csv",
    "runs/*/rejects/*.csv",
    "runs/*/metrics/*.json",
    "runs/*/fairness/*.json",
    "runs/*/calibration/*.json",
    "runs/*/subgroups/*.json",
    "runs/*/gallery/*.json",
    "seeds/*/*.json",
    "runs/*/history.csv",
    "vae/*/history.csv",
    "sequence/*.json",
    "data/*/manifest.csv",
    "data/*/rejects.csv",
)
RUN_INFO_FILES = ("runs/*/run.json", "vae/*/run.json")
# run.json keys that describe the machine or the clock, not the result.
MACHINE_KEYS = {"training_seconds", "images_per_second", "host", "slurm_job_id", "compute"}


def differences(before: Path, after: Path) -> list[str]:
    found = []
    for pattern in (*EQUAL_FILES, *RUN_INFO_FILES):
        names_before = {path.relative_to(before) for path in before.glob(pattern)}
        names_after = {path.relative_to(after) for path in after.glob(pattern)}
        found += [f"only in {before}: {name}" for name in sorted(names_before - names_after)]
        found += [f"only in {after}: {name}" for name in sorted(names_after - names_before)]
        for name in sorted(names_before & names_after):
            if not same_file(before / name, after / name, pattern in RUN_INFO_FILES):
                found.append(f"differs: {name}")
    return found


def same_file(first: Path, second: Path, is_run_info: bool) -> bool:
    if not is_run_info:
        return first.read_bytes() == second.read_bytes()
    return without_machine_keys(first) == without_machine_keys(second)


def without_machine_keys(path: Path) -> dict:
    info = {key: value for key, value in json.loads(path.read_text()).items() if key not in MACHINE_KEYS}
    if isinstance(info.get("post_processing"), dict):  # a derived run's fit, timed
        info["post_processing"] = {key: value for key, value in info["post_processing"].items() if key != "fit_seconds"}
    return info


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    before, after = (Path(argument) / "results" for argument in sys.argv[1:])
    compared = sum(len(list(before.glob(pattern))) for pattern in (*EQUAL_FILES, *RUN_INFO_FILES))
    if compared == 0:
        print(f"{before} holds no results to compare")
        return 2
    found = differences(before, after)
    for line in found:
        print(line)
    print(f"{compared} files compared, {len(found)} differences")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
