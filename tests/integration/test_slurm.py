"""The workflow on a real SLURM cluster: a single-node cluster started on this machine (tests/slurm/), driven by
the unchanged profiles/slurm. Needs root and apt (Debian); skipped elsewhere, except that with CI set it fails."""

import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO, TINY_STUDY, run_snakemake, write_config

from faceaudit.bench.without_slurm import environment_without_slurm

SLURM_SCRIPTS = REPO / "tests/slurm"
RUN_DIR = Path("/run/slurm-local")
# The plugin waits 40 s before its first status check and 10 s more after each idle one: fine on a cluster, slow here.
FAST_POLLING = ("--slurm-init-seconds-before-status-checks", "1", "--seconds-between-status-checks", "1")
# The profile's most CPUs per job, lowered to this machine's: a group job asks for at most this many.
NODE_CORES = ("--cores", str(min(os.cpu_count() or 1, 4)))


def slurm_command(workdir: Path, *arguments: str, timeout=600) -> list[str]:
    """`snakemake --profile profiles/slurm`; `timeout` ends it (SIGTERM: it cancels its jobs) if it ever hangs."""
    return [
        "timeout",
        "-k",
        "30",
        str(timeout),
        sys.executable,
        "-m",
        "snakemake",
        "--profile",
        str(REPO / "profiles/slurm"),
        "-s",
        str(REPO / "Snakefile"),
        "-d",
        str(workdir),
        *FAST_POLLING,
        *NODE_CORES,
        *arguments,
    ]


def snakemake_on_slurm(
    workdir: Path, *arguments: str, env=None, timeout=600, check=True
) -> subprocess.CompletedProcess:
    command = slurm_command(workdir, *arguments, timeout=timeout)
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout + 60)
    if check:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result


def sacct(job_id) -> dict:
    fields = ["State", "Partition", "Account", "ReqTRES", "AllocTRES"]
    line = subprocess.run(
        ["sacct", "-j", str(job_id), "-X", "-n", "-P", "-o", ",".join(fields)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return dict(zip(fields, line.split("|")))


def running_job_of(run: str) -> str:
    """The id of the running SLURM job whose comment (set by the plugin: rule_train_wildcards_<run>) names the run."""
    lines = subprocess.run(
        ["squeue", "-h", "-t", "RUNNING", "-o", "%i %k"], capture_output=True, text=True, check=True
    ).stdout
    (job_id,) = [line.split()[0] for line in lines.splitlines() if line.split()[1].endswith(run)]
    return job_id


def test_without_slurm_the_profile_says_so_at_once_and_dry_runs_still_work(tmp_path):
    workdir = tmp_path / "study"
    workdir.mkdir()
    write_config(workdir, TINY_STUDY)
    env = environment_without_slurm()
    started = time.monotonic()
    result = snakemake_on_slurm(workdir, env=env, timeout=120, check=False)
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert "SLURM's commands (sbatch, sacct) are not found" in message and "snakemake --cores 4" in message
    assert time.monotonic() - started < 30 and not (workdir / "resources").exists(), "stopped before any job ran"
    dry_run = snakemake_on_slurm(workdir, "-n", env=env, timeout=120)
    assert "This was a dry-run" in dry_run.stdout + dry_run.stderr


def cluster_unavailable_reason() -> str | None:
    if os.geteuid() != 0:
        return "starting a SLURM cluster needs root"
    if shutil.which("apt-get") is None and shutil.which("slurmctld") is None:
        return "installing SLURM needs apt-get (Debian)"
    return None


@pytest.fixture(scope="module")
def cluster():
    """A running cluster with 2 fake GPUs; yields {daemon: pid} of the daemons this fixture started."""
    reason = cluster_unavailable_reason()
    if reason and os.environ.get("CI"):
        pytest.fail(f"CI is set, so the SLURM tests must run, but {reason}")
    if reason:
        pytest.skip(reason)
    environment = {**os.environ, "SLURM_LOCAL_FAKE_GPUS": "2"}
    started = subprocess.run(
        ["bash", SLURM_SCRIPTS / "start-local-slurm.sh"], env=environment, capture_output=True, text=True, timeout=900
    )
    assert started.returncode == 0, started.stdout + started.stderr
    ours = set((RUN_DIR / "started-by-us").read_text().split()) if (RUN_DIR / "started-by-us").exists() else set()
    pids = {name: int(pid) for name, pid in (line.split() for line in (RUN_DIR / "pids.txt").read_text().splitlines())}
    yield {name: pid for name, pid in pids.items() if name in ours}
    subprocess.run(["bash", SLURM_SCRIPTS / "stop-local-slurm.sh"], timeout=300)


# Smaller than the end-to-end tests' study: each SLURM job costs ~12 s here (Snakemake starts twice in it, and the
# plugin polls 10 s less often after each poll that finds no finished job). One preprocess; 1 and 2 GPUs.
RUN = {"dataset": "faces", "image": {"size": 16, "color": "gray"}, "epochs": 2, "batch_size": 32, "eval_sets": ["test"]}
CLUSTER_STUDY = {
    "seed": 3,
    "datasets": {"faces": TINY_STUDY["datasets"]["faces"]},
    "experiments": {
        "gender_cnn": {**RUN, "targets": ["gender"], "model": "small_cnn", "resources": {"gpu": 1}},
        "both_multitask": {**RUN, "targets": ["gender", "age"], "model": "multitask_cnn", "resources": {"gpu": 2}},
    },
}


# The rules that the profile's `groups:` puts into one job per run.
GROUPED_RULES = ("predict", "audit")


@pytest.fixture(scope="module")
def studies(cluster, tmp_path_factory) -> tuple[Path, Path]:
    """The study run through SLURM and, side by side (the SLURM run mostly waits for its polls), locally."""
    local, on_slurm = tmp_path_factory.mktemp("local_study"), tmp_path_factory.mktemp("slurm_study")
    for workdir in (local, on_slurm):
        write_config(workdir, CLUSTER_STUDY)
    with ThreadPoolExecutor() as pool:
        local_run = pool.submit(run_snakemake, local)
        snakemake_on_slurm(on_slurm)
        local_run.result()
    return local, on_slurm


@pytest.fixture(scope="module")
def slurm_study(studies) -> Path:
    return studies[1]


def test_every_training_job_ran_under_slurm_with_its_gpus(slurm_study):
    for run, gpus in (("gender_cnn", 1), ("both_multitask", 2)):
        info = json.loads((slurm_study / f"results/runs/{run}/run.json").read_text())
        job_id = info["slurm_job_id"]
        assert job_id is not None, f"{run} did not run in a SLURM job"
        # Compute accounting (issue 15): the job sacct knows, its queue wait from sacct, the GPUs it was given.
        compute = info["compute"]
        assert (compute["slurm_job_id"], compute["gpu_count"]) == (job_id, gpus), compute
        assert compute["queue_wait_seconds"] >= 0, compute
        job = sacct(job_id)
        assert job["State"] == "COMPLETED" and job["Partition"] == "gpu" and job["Account"] == "ciacct"
        assert f"gres/gpu={gpus}" in job["ReqTRES"].split(",") and f"gres/gpu={gpus}" in job["AllocTRES"].split(","), (
            job
        )


def submissions_from(workdir: Path) -> list[str]:
    """The SLURM job ids that sacct holds for jobs run in `workdir` (every attempt of each, as SLURM counts them)."""
    lines = subprocess.run(
        ["sacct", "-X", "-n", "-P", "-D", "-a", "-S", "now-1day", "-o", "JobID,WorkDir"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [job_id for job_id, job_workdir in (line.split("|", 1) for line in lines) if Path(job_workdir) == workdir]


def submitted_as(workdir: Path, runs) -> dict[str, str]:
    """{SLURM job id: rule_<name>, or after_training_<run> for a group job}, from the folders of the plugin's
    per-job logs (a group's folder is group_<group name>_<its rules>...)."""
    logs = workdir / ".snakemake/slurm_logs"
    kinds = {log.stem: log.relative_to(logs).parts[0] for log in logs.rglob("*.log")}
    groups = {f"group_after_training_{run}_": f"after_training_{run}" for run in runs}
    return {
        job_id: next((group for prefix, group in groups.items() if kind.startswith(prefix)), kind)
        for job_id, kind in kinds.items()
    }


def test_after_training_each_run_is_one_slurm_job(slurm_study):
    """Issue 15: predictions, metrics and audits of every eval set and the training curves of a run go to SLURM as
    one group job (the profile's `groups:`); training stays one job per run; every other rule is one job."""
    runs = CLUSTER_STUDY["experiments"]
    submitted = submitted_as(slurm_study, runs)
    kinds = collections.Counter(submitted.values())
    assert {kind: kinds[kind] for kind in kinds if "train" in kind} == {
        "rule_train": len(runs),
        **{f"after_training_{run}": 1 for run in runs},
    }
    assert not {f"rule_{name}" for name in GROUPED_RULES} & set(kinds), kinds
    # The data and report rules: one job each (manifest, preprocess, sample grid, ..., report).
    assert kinds.keys() - {"rule_train", *(f"after_training_{run}" for run in runs)} and all(
        count == 1 for kind, count in kinds.items() if kind != "rule_train"
    ), kinds
    assert sorted(submissions_from(slurm_study)) == sorted(submitted), "sacct: submissions without a plugin log"


def test_slurm_results_equal_the_local_run(studies):
    local_study, slurm_study = studies
    compared = []
    for local in sorted((local_study / "results/runs").rglob("*")):
        if local.name == "history.csv" or local.parent.name in ("predictions", "metrics", "fairness"):
            on_slurm = slurm_study / local.relative_to(local_study)
            if local.suffix == ".csv":
                pd.testing.assert_frame_equal(pd.read_csv(on_slurm), pd.read_csv(local), check_exact=True)
            else:
                assert json.loads(on_slurm.read_text()) == json.loads(local.read_text()), local
            compared.append(local.name)
    assert (
        sorted(compared) == ["history.csv"] * 2 + ["test.csv"] * 2 + ["test.json"] * 4
    )  # + predictions, metrics, fairness
    assert (slurm_study / "results/report/index.html").exists()


def start_on_slurm(workdir: Path, log: Path, *arguments: str) -> subprocess.Popen:
    with open(log, "w") as output:
        return subprocess.Popen(slurm_command(workdir, *arguments), stdout=output, stderr=subprocess.STDOUT)


def wait_for_epochs(epoch_log: Path, count: int, snakemake: subprocess.Popen, log: Path) -> list[int]:
    """Wait until the run's epoch log (kept in its checkpoint folder) reaches epoch `count - 1`; return its epochs."""
    deadline = time.monotonic() + 300
    while True:
        try:
            epochs = pd.read_csv(epoch_log)["epoch"].dropna().astype(int).tolist()
        except (FileNotFoundError, KeyError, pd.errors.EmptyDataError, pd.errors.ParserError):
            epochs = []  # not written yet, or caught half-way through a line
        if epochs and max(epochs) >= count - 1:
            return epochs
        if snakemake.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"training never reached epoch {count - 1}:\n" + log.read_text()[-5000:])
        time.sleep(0.1)


def release_requeued_job(job_id: str) -> None:
    """SLURM holds a requeued job back for 2 minutes; once it is pending again, let it start now."""
    deadline = time.monotonic() + 60
    while (
        subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T"], capture_output=True, text=True).stdout.strip()
        != "PENDING"
    ):
        assert time.monotonic() < deadline, f"requeued job {job_id} never became pending"
        time.sleep(0.2)
    # slurmd refuses to launch a job it killed moments ago ("Job N already killed, do not launch batch job": the job
    # then fails with "Job credential revoked"), so let the requeued instance's processes end first, as SLURM's own
    # two-minute hold would.
    while subprocess.run(["scontrol", "listpids", job_id], capture_output=True, text=True).returncode == 0:
        assert time.monotonic() < deadline, f"the processes of requeued job {job_id} did not end"
        time.sleep(0.2)
    time.sleep(3)
    subprocess.run(["scontrol", "update", f"jobid={job_id}", "StartTime=now"], check=True)


def test_training_resumes_after_scancel_and_after_a_requeue(slurm_study):
    study = yaml.safe_load((slurm_study / "config/config.yaml").read_text())
    # Small batches make epochs of ~0.4 s: time to interrupt the job twice.
    study["experiments"]["long_cnn"] = {**study["experiments"]["gender_cnn"], "epochs": 16, "batch_size": 2}
    write_config(slurm_study, study)
    run_dir = slurm_study / "results/runs/long_cnn"
    epoch_log = run_dir / "checkpoint/step_0/history.csv"
    target, log = "results/runs/long_cnn/run.json", slurm_study / "snakemake.log"

    # 1. The job is cancelled after 3 epochs. Plugin 2.8.0 does not recognise sacct's "CANCELLED by <uid>" and would
    # wait for ever, so, as a user would, stop Snakemake with Ctrl-C (SIGINT) and run it again.
    snakemake = start_on_slurm(slurm_study, log, target)
    try:
        wait_for_epochs(epoch_log, 3, snakemake, log)
        cancelled = running_job_of("long_cnn")
        subprocess.run(["scancel", cancelled], check=True)
    finally:
        snakemake.send_signal(signal.SIGINT)
        snakemake.wait(timeout=120)

    # 2. The rerun continues; after epoch 6 SLURM requeues its job (as preemption does), which then starts again.
    snakemake = start_on_slurm(slurm_study, log, target)
    try:
        epochs_before_requeue = wait_for_epochs(epoch_log, 7, snakemake, log)
        requeued = running_job_of("long_cnn")
        subprocess.run(["scontrol", "requeue", requeued], check=True)
        release_requeued_job(requeued)
        snakemake.wait(timeout=660)
    finally:
        if snakemake.poll() is None:
            snakemake.send_signal(signal.SIGTERM)
            snakemake.wait()
    assert snakemake.returncode == 0, log.read_text()[-5000:]

    assert sacct(cancelled)["State"].startswith("CANCELLED")
    assert epochs_before_requeue.count(0) == 1, (
        f"the rerun after scancel started again from epoch 0: {epochs_before_requeue}"
    )
    requeued_states = subprocess.run(
        ["sacct", "-D", "-X", "-n", "-P", "-j", requeued, "-o", "State"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert requeued_states == ["REQUEUED", "COMPLETED"]
    info = json.loads((run_dir / "run.json").read_text())
    assert info["slurm_job_id"] == requeued and 6 <= info["resumed_from_epoch"] < 16 and info["epochs_completed"] == 16
    assert list(pd.read_csv(run_dir / "history.csv")["epoch"]) == list(range(16))
    assert not (run_dir / "checkpoint").exists()


def test_the_cluster_is_stopped_by_pid(cluster):
    if not cluster:
        pytest.skip("the cluster was running before the tests; it is left running")
    subprocess.run(["bash", SLURM_SCRIPTS / "stop-local-slurm.sh"], check=True, timeout=300)
    still_running = {
        name: pid
        for name, pid in cluster.items()
        if Path(f"/proc/{pid}").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    }
    assert still_running == {}
